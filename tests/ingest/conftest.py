import pytest
from django.db import connection

REFUSE_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER refuse_cve BEFORE INSERT ON catalog_cve WHEN NEW.cve_id = 'CVE-2024-0002' "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_cve() RETURNS trigger AS $$ BEGIN IF NEW.cve_id = 'CVE-2024-0002' THEN "
        "RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_cve BEFORE INSERT ON catalog_cve FOR EACH ROW EXECUTE FUNCTION refuse_cve()",
    ],
}
DROP_TRIGGER = {
    "sqlite": ["DROP TRIGGER IF EXISTS refuse_cve"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS refuse_cve ON catalog_cve",
        "DROP FUNCTION IF EXISTS refuse_cve()",
    ],
}


@pytest.fixture
def refuse_cve_0002(django_db_blocker):
    """A real database refusal of CVE-2024-0002's row (a trigger), standing for any row the engine rejects.

    Dropped afterwards, so it also serves tests that commit (transaction=True) and outlive the test's rollback.
    """
    with connection.cursor() as cursor:
        for sql in REFUSE_TRIGGER[connection.vendor]:
            cursor.execute(sql)
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for sql in DROP_TRIGGER[connection.vendor]:
            cursor.execute(sql)
