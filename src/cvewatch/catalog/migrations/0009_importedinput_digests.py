# Digests of the input files an import read completely (ingest/inputs.py): `cvewatch import` skips the same
# bytes unread next time, until the parsers' format version changes.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0008_search_generation'),
    ]

    operations = [
        migrations.CreateModel(
            name='ImportedInput',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sha256', models.CharField(max_length=64)),
                ('format_version', models.PositiveIntegerField()),
                ('size', models.BigIntegerField()),
                ('origin', models.TextField()),
                ('imported_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('import_run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='catalog.importrun')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('sha256', 'format_version'), name='importedinput_unique')],
            },
        ),
    ]
