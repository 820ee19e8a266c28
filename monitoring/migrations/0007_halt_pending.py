from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0006_cover_beat"),
    ]

    operations = [
        migrations.CreateModel(
            name="HaltPending",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("request_id", models.CharField(max_length=64, unique=True)),
                ("ts", models.DateTimeField()),
                ("request", models.JSONField()),
            ],
        ),
    ]
