"""Read-side queries of the organizations app. Every org-scoped read starts from the caller."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from cvewatch.catalog.models import Cve, CveProduct, CveVendor
from cvewatch.organizations.authentication import is_token_user
from cvewatch.organizations.choices import Role
from cvewatch.organizations.models import (
    Invitation,
    Membership,
    Organization,
    OrganizationToken,
    Project,
    ProjectProduct,
    ProjectVendor,
    TokenEvent,
)


def organizations_for(*, caller: object) -> QuerySet[Organization]:
    """Organizations the caller may see: a user's memberships, a token's own organization, else none."""
    if is_token_user(caller):
        return Organization.objects.filter(pk=caller.organization.pk)  # type: ignore[attr-defined]
    if not getattr(caller, "is_authenticated", False) or getattr(caller, "pk", None) is None:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user_id=caller.pk)  # type: ignore[attr-defined]


def organization_for(*, caller: object, name: str) -> Organization | None:
    """The organization named `name` if the caller may see it (None otherwise: do not reveal it exists)."""
    return organizations_for(caller=caller).filter(name=name).first()


def projects_of(*, organization: Organization) -> QuerySet[Project]:
    """All projects of the organization, active and inactive, by name."""
    return Project.objects.filter(organization=organization).order_by("name")


def project_for(*, organization: Organization, name: str) -> Project | None:
    return Project.objects.filter(organization=organization, name=name).select_related("organization").first()


def project_subscriptions(*, project: Project) -> dict[str, object]:
    """{"vendors": ["fortinet"], "products": {"apache": ["airflow", "log4j"]}}, names sorted."""
    vendors = list(
        ProjectVendor.objects.filter(project=project)
        .order_by("vendor__name")
        .values_list("vendor__name", flat=True)
    )
    products: dict[str, list[str]] = {}
    rows = (
        ProjectProduct.objects.filter(project=project)
        .order_by("product__vendor__name", "product__name")
        .values_list("product__vendor__name", "product__name")
    )
    for vendor, product in rows:
        products.setdefault(vendor, []).append(product)
    return {"vendors": vendors, "products": products}


def cves_for_project(*, project: Project) -> QuerySet[Cve]:
    """CVEs linked to any subscribed vendor or product, newest-updated first; none without subscriptions.

    `id IN (link rows of the subscribed vendors UNION link rows of the subscribed products)`: both halves
    are range scans of the (vendor, cve) / (product, cve) unique indexes and the union removes duplicates,
    so the paginator's count never scans the CVE table. Measured on the 207k-CVE corpus (SQLite, a project
    on microsoft, linux and google): count ~15-35 ms, where per-CVE EXISTS probes took ~400 ms.
    """
    vendor_ids = ProjectVendor.objects.filter(project=project).values("vendor_id")
    product_ids = ProjectProduct.objects.filter(project=project).values("product_id")
    cve_ids = (
        CveVendor.objects.filter(vendor_id__in=vendor_ids)
        .values("cve_id")
        .union(CveProduct.objects.filter(product_id__in=product_ids).values("cve_id"))
    )
    return Cve.objects.filter(pk__in=cve_ids).order_by("-updated_at", "-id")


def membership_of(*, organization: Organization, user: object) -> Membership | None:
    if getattr(user, "pk", None) is None:
        return None
    return Membership.objects.filter(organization=organization, user_id=user.pk).first()  # type: ignore[attr-defined]


def is_owner(*, organization: Organization, user: object) -> bool:
    membership = membership_of(organization=organization, user=user)
    return membership is not None and membership.role == Role.OWNER


def members_of(*, organization: Organization) -> QuerySet[Membership]:
    """Memberships with their users, owners first, then by username."""
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("-role", "user__username")  # "owner" sorts after "member": descending puts owners first
    )


def pending_invitations(*, organization: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(
        organization=organization,
        accepted_at__isnull=True,
        closed_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("created_by")


def invitations_for_user(*, user: object) -> QuerySet[Invitation]:
    """Pending invitations addressed to the user's e-mail address."""
    email = (getattr(user, "email", "") or "").strip().lower()
    if not email:
        return Invitation.objects.none()
    return Invitation.objects.filter(
        email=email, accepted_at__isnull=True, closed_at__isnull=True, expires_at__gt=timezone.now()
    ).select_related("organization")


def tokens_of(*, organization: Organization) -> QuerySet[OrganizationToken]:
    """All tokens of the organization (revoked and expired too), newest first."""
    return OrganizationToken.objects.filter(organization=organization).select_related(
        "created_by", "revoked_by"
    )


def token_events_of(*, organization: Organization) -> QuerySet[TokenEvent]:
    """The token audit trail of the organization, newest first (for owners)."""
    return TokenEvent.objects.filter(organization=organization).select_related("token")
