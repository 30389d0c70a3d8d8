import pytest
from django.db import connection

from cvewatch.catalog.models import Cve


@pytest.mark.django_db
def test_database_engine_is_reachable_and_migrated():
    assert Cve.objects.count() == 0
    assert connection.vendor in {"sqlite", "postgresql"}
