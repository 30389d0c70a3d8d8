"""Token names are unique per organization among the tokens not revoked (whatever their case).

Before the constraint, reloading the page that showed a new token could create a second one with the same
name. The data step renames such duplicates deterministically: in each organization, the oldest token of a
name (by creation time, then id) keeps it; the next ones become "NAME (2)", "NAME (3)"... (shortened to fit
100 characters, and skipping any name already taken). Revoked tokens keep their names.
"""

from django.db import migrations, models
from django.db.models.functions import Lower

NAME_MAX_LENGTH = 100


def _free_name(base: str, taken: set[str]) -> str:
    n = 2
    while True:
        suffix = f" ({n})"
        candidate = base[: NAME_MAX_LENGTH - len(suffix)].rstrip() + suffix
        if candidate.lower() not in taken:
            return candidate
        n += 1


def rename_duplicates(apps, schema_editor):
    OrganizationToken = apps.get_model("organizations", "OrganizationToken")
    unrevoked = OrganizationToken.objects.filter(revoked_at__isnull=True).order_by(
        "organization_id", "created_at", "id"
    )
    rows = list(unrevoked.values_list("pk", "organization_id", "name"))
    taken: dict[int, set[str]] = {}  # every name in use, so a new "NAME (2)" never takes a later one's name
    for _, organization_id, name in rows:
        taken.setdefault(organization_id, set()).add(name.lower())
    kept: set[tuple[int, str]] = set()
    renames: list[tuple[int, str]] = []
    for pk, organization_id, name in rows:
        if (organization_id, name.lower()) in kept:
            new_name = _free_name(name, taken[organization_id])
            taken[organization_id].add(new_name.lower())
            renames.append((pk, new_name))
        else:
            kept.add((organization_id, name.lower()))
    for pk, name in renames:
        OrganizationToken.objects.filter(pk=pk).update(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0002_verified_email"),
    ]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="organizationtoken",
            constraint=models.UniqueConstraint(
                Lower("name"),
                models.F("organization"),
                condition=models.Q(("revoked_at__isnull", True)),
                name="token_name_unique_unrevoked",
            ),
        ),
    ]
