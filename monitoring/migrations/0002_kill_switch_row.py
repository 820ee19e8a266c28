"""Create the one kill-switch row, inactive, so every reader finds it."""

from __future__ import annotations

from django.db import migrations


def create_row(apps, schema_editor) -> None:
    KillSwitch = apps.get_model("monitoring", "KillSwitch")
    KillSwitch.objects.get_or_create(pk=1, defaults={"active": False})


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]
    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
