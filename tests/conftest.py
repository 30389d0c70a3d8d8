from pathlib import Path

import pytest

from cvewatch.organizations import services
from cvewatch.organizations.models import Organization
from tests.people import make_user

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def data_dir() -> Path:
    """Copies of real records from ../shared/data/fixtures, kept in the repo."""
    return DATA


@pytest.fixture
def owner(db):
    return make_user("olivia")


@pytest.fixture
def member(db):
    return make_user("max")


@pytest.fixture
def outsider(db):
    return make_user("eve")


@pytest.fixture
def org(owner, member) -> Organization:
    """acme: olivia owns it, max is a member; eve is an outsider."""
    organization = services.create_organization(name="acme", owner=owner)
    services.add_member(organization=organization, user=member, actor=owner)
    return organization
