"""TraceEvent.run and .agent lose their own single-column indexes: trace_run_seq_unique and
trace_agent_recent begin with those columns, and each index is one more B-tree that every trace row
is written into (issue 15: trace ingest).

The indexes are dropped by name, not by AlterField: on SQLite that would copy the whole trace
table into a new one (minutes on a big data dir); dropping an index takes no time on either backend.
"""

import django.db.models.deletion
from django.db import migrations, models


def drop_single_column_indexes(apps, schema_editor):
    model = apps.get_model("agents", "TraceEvent")
    for column in ("run_id", "agent_id"):
        # the plain index on exactly this column (the unique constraint and composites are others)
        for name in schema_editor._constraint_names(model, [column], index=True, unique=False, primary_key=False):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_single_column_indexes(apps, schema_editor):
    model = apps.get_model("agents", "TraceEvent")
    for column in ("run", "agent"):
        field = model._meta.get_field(column)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):

    dependencies = [
        ("agents", "0010_daily_cost"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_single_column_indexes, create_single_column_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="traceevent",
                    name="agent",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="trace_events", to="agents.agentconfig"),
                ),
                migrations.AlterField(
                    model_name="traceevent",
                    name="run",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name="events", to="agents.run"),
                ),
            ],
        ),
    ]
