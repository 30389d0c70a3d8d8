# The heartbeat of a running import (ingest.services.mark_interrupted_runs): runs recorded before it keep a
# null heartbeat (their start time stands in for it), new runs get theirs when they are created.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0004_l_sort_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='importrun',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='importrun',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, default=django.utils.timezone.now, null=True),
        ),
    ]
