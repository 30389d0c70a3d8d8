"""A project's triage of its CVEs: set the status and/or the assignee; every change is recorded.

The actor must be a member of the project's organization, and so must the assignee. Each field that
changes writes one TriageEvent (actor, old and new value); a call that changes nothing writes nothing. A CVE
without a triage row is 'to evaluate' with no assignee, so the first change creates the row.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from cvewatch.catalog.models import Cve
from cvewatch.organizations.models import Membership, Project
from cvewatch.organizations.services.access import actor_label, require_member
from cvewatch.workbench import selectors
from cvewatch.workbench.errors import InvalidTriage
from cvewatch.workbench.models import Triage, TriageEvent, TriageStatus


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged()  # "leave this field as it is" (None is a value: no assignee)


def set_triage(
    *,
    project: Project,
    cve: Cve,
    actor: AbstractBaseUser | None,
    status: str | _Unchanged = UNCHANGED,
    assignee: str | None | _Unchanged = UNCHANGED,
) -> Triage | None:
    """Set the CVE's status and/or assignee (a username; None or "" unassigns) in the project.

    Returns the triage row (None when the CVE was untriaged and stays so).
    """
    require_member(project.organization, actor)
    if isinstance(status, str) and status not in TriageStatus.values:
        raise InvalidTriage(f"unknown status {status!r}: use one of {', '.join(TriageStatus.values)}")
    if isinstance(assignee, str) and assignee.strip():
        current = (
            Triage.objects.filter(project=project, cve=cve)
            .values_list("assignee__username", flat=True)
            .first()
        )
        if assignee.strip() == current:  # kept as it is, even if they have left the organization since
            assignee = UNCHANGED
    assignee_user = None
    if isinstance(assignee, str) and assignee.strip():
        membership = (
            Membership.objects.filter(
                organization_id=project.organization_id, user__username=assignee.strip()
            )
            .select_related("user")
            .first()
        )
        if membership is None:
            raise InvalidTriage(
                f"{assignee.strip()!r} is not a member of the organization {project.organization.name!r}"
            )
        assignee_user = membership.user
    if not selectors.project_watches(project=project, cve=cve):
        raise InvalidTriage(f"{cve.cve_id} is not one of the CVEs of the project {project.name!r}")
    try:
        with transaction.atomic():
            return _apply(project, cve, actor, status, assignee, assignee_user)
    except IntegrityError:  # a concurrent first change created the row: apply ours on top of it
        with transaction.atomic():
            return _apply(project, cve, actor, status, assignee, assignee_user)


def _apply(project, cve, actor, status, assignee, assignee_user) -> Triage | None:
    triage = Triage.objects.select_for_update().filter(project=project, cve=cve).first()
    old_status = triage.status if triage else TriageStatus.TO_EVALUATE
    old_assignee = triage.assignee if triage else None
    changes: list[tuple[str, str, str]] = []
    if isinstance(status, str) and status != old_status:
        changes.append(("status", old_status, status))
    if not isinstance(assignee, _Unchanged):
        old_id = old_assignee.pk if old_assignee else None
        new_id = assignee_user.pk if assignee_user else None
        if old_id != new_id:
            changes.append(
                (
                    "assignee",
                    old_assignee.get_username() if old_assignee else "",
                    assignee_user.get_username() if assignee_user else "",
                )
            )
    if not changes:
        return triage
    now = timezone.now()
    if triage is None:
        triage = Triage(project=project, cve=cve, created_at=now)
    for name, _, _ in changes:
        if name == "status":
            triage.status = status
        else:
            triage.assignee = assignee_user
    triage.updated_at = now
    triage.save()
    TriageEvent.objects.bulk_create(
        [
            TriageEvent(
                triage=triage,
                actor=actor,
                actor_name=actor_label(actor),
                field=name,
                old_value=old,
                new_value=new,
                created_at=now,
            )
            for name, old, new in changes
        ]
    )
    return triage
