"""Tags: validation, idempotent tagging, and a person's tags never reaching anyone else."""

from __future__ import annotations

import pytest

from cvewatch.catalog.models import Cve
from cvewatch.core import errors
from cvewatch.workbench import selectors
from cvewatch.workbench.errors import DuplicateTag, InvalidColor, InvalidTagDescription, InvalidTagName
from cvewatch.workbench.models import CveTag
from cvewatch.workbench.services import tags

pytestmark = pytest.mark.django_db


def test_create_tag_keeps_name_colour_and_description(owner):
    tag = tags.create_tag(user=owner, name=" to-patch_2 ", color="#AABBCC", description=" later ")
    assert (tag.name, tag.color, tag.description) == ("to-patch_2", "#aabbcc", "later")


@pytest.mark.parametrize("name", ["", "   ", "has space", "ünïcode", "a/b", "x" * 65, "dot.ted"])
def test_bad_names_are_refused(owner, name):
    with pytest.raises(InvalidTagName) as exc:
        tags.create_tag(user=owner, name=name)
    assert exc.value.field == "name"
    assert isinstance(exc.value, errors.InvalidInput)


@pytest.mark.parametrize("color", ["", "red", "#abc", "#abcdeg", "abcdef", "#abcdef0"])
def test_bad_colours_are_refused(owner, color):
    with pytest.raises(InvalidColor):
        tags.create_tag(user=owner, name="ok", color=color)


def test_long_description_is_refused(owner):
    with pytest.raises(InvalidTagDescription):
        tags.create_tag(user=owner, name="ok", description="x" * 501)


def test_names_are_unique_per_person_ignoring_case(owner, outsider):
    tags.create_tag(user=owner, name="urgent")
    with pytest.raises(DuplicateTag) as exc:
        tags.create_tag(user=owner, name="URGENT")
    assert exc.value.http_status == 409
    tags.create_tag(user=outsider, name="urgent")  # another person's namespace


def test_update_renames_and_recolours(owner):
    tags.create_tag(user=owner, name="a")
    tags.create_tag(user=owner, name="b")
    with pytest.raises(DuplicateTag):
        tags.update_tag(user=owner, name="a", new_name="B")
    tag = tags.update_tag(user=owner, name="a", new_name="c", color="#000000", description="d")
    assert (tag.name, tag.color, tag.description) == ("c", "#000000", "d")
    assert tags.update_tag(user=owner, name="c", new_name="c").name == "c"


def test_tagging_is_idempotent(owner, log4j):
    tags.create_tag(user=owner, name="urgent")
    assert tags.tag_cve(user=owner, cve=log4j, name="urgent") is True
    assert tags.tag_cve(user=owner, cve=log4j, name="urgent") is False
    assert CveTag.objects.count() == 1
    assert tags.untag_cve(user=owner, cve=log4j, name="urgent") is True
    assert tags.untag_cve(user=owner, cve=log4j, name="urgent") is False


def test_delete_takes_the_tag_off_every_cve(owner, log4j):
    tags.create_tag(user=owner, name="urgent")
    tags.tag_cve(user=owner, cve=log4j, name="urgent")
    tags.delete_tag(user=owner, name="urgent")
    assert CveTag.objects.count() == 0
    with pytest.raises(errors.NotFound):
        tags.delete_tag(user=owner, name="urgent")


def test_a_tag_of_one_person_is_never_reachable_by_another(owner, outsider, log4j):
    tags.create_tag(user=owner, name="mine")
    tags.tag_cve(user=owner, cve=log4j, name="mine")
    assert list(selectors.tags_of(user=outsider)) == []
    assert [t.on_cve for t in selectors.tags_for_cve(user=outsider, cve=log4j)] == []
    for call in (
        lambda: tags.tag_cve(user=outsider, cve=log4j, name="mine"),
        lambda: tags.untag_cve(user=outsider, cve=log4j, name="mine"),
        lambda: tags.update_tag(user=outsider, name="mine", color="#000000"),
        lambda: tags.delete_tag(user=outsider, name="mine"),
        lambda: selectors.tagged_with(Cve.objects.all(), user=outsider, name="mine"),
    ):
        with pytest.raises(errors.NotFound):
            call()
    assert CveTag.objects.count() == 1


def test_selectors_count_and_filter(owner, log4j, unwatched):
    tags.create_tag(user=owner, name="urgent")
    tags.create_tag(user=owner, name="empty")
    tags.tag_cve(user=owner, cve=log4j, name="urgent")
    assert {t.name: t.cve_count for t in selectors.tags_of(user=owner)} == {"empty": 0, "urgent": 1}
    assert {t.name: t.on_cve for t in selectors.tags_for_cve(user=owner, cve=log4j)} == {
        "empty": False,
        "urgent": True,
    }
    assert list(selectors.tagged_with(Cve.objects.all(), user=owner, name="urgent")) == [log4j]


def test_add_tag_to_cve_reuses_a_tag_of_any_case_or_creates_one(owner, outsider, log4j):
    tags.create_tag(user=owner, name="Urgent", color="#000000")
    assert tags.add_tag_to_cve(user=owner, cve=log4j, name="urgent").name == "Urgent"
    assert tags.add_tag_to_cve(user=owner, cve=log4j, name="URGENT").name == "Urgent"  # idempotent
    created = tags.add_tag_to_cve(user=outsider, cve=log4j, name="urgent")  # eve's own, new tag
    assert (created.user, created.name, created.color) == (outsider, "urgent", tags.DEFAULT_COLOR)
    assert CveTag.objects.count() == 2
    with pytest.raises(InvalidTagName):
        tags.add_tag_to_cve(user=owner, cve=log4j, name="not ok")
