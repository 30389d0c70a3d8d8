"""Projects and their subscriptions to catalog vendors and products. Any member of the organization.

Subscriptions spell names as the API's `vendor`/`product` filters do; an unknown name refuses the whole
call and the message names every unknown one.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from cvewatch.catalog.models import Product, Vendor
from cvewatch.catalog.names import is_product, product_from_query, split_product, vendor_from_query
from cvewatch.organizations.errors import DuplicateName, UnknownProduct, UnknownVendor
from cvewatch.organizations.models import Organization, Project, ProjectProduct, ProjectVendor
from cvewatch.organizations.names import validate_name
from cvewatch.organizations.services.access import User, require_member

# A product reference: "vendor/product", "vendor$PRODUCT$product" or a (vendor, product) pair.
ProductRef = str | tuple[str, str]


def _split_product_ref(ref: ProductRef) -> tuple[str, str]:
    if isinstance(ref, tuple):
        vendor, product = ref
    elif is_product(ref):
        vendor, product = split_product(ref)
    else:
        vendor, sep, product = ref.partition("/")
        if not sep:
            raise UnknownProduct(f"invalid product {ref!r}: write it as VENDOR/PRODUCT")
    vendor, product = vendor_from_query(vendor or ""), product_from_query(product or "")
    if not vendor or not product:
        raise UnknownProduct(f"invalid product {ref!r}: write it as VENDOR/PRODUCT")
    return vendor, product


def resolve_vendors(names: Iterable[str]) -> list[Vendor]:
    """Catalog vendors by name (normalised), or UnknownVendor naming every missing one."""
    wanted = list(dict.fromkeys(vendor_from_query(n or "") for n in names))
    if not wanted:
        return []
    found = {v.name: v for v in Vendor.objects.filter(name__in=wanted)}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise UnknownVendor("unknown vendor" + ("s" if len(missing) > 1 else "") + ": " + ", ".join(missing))
    return [found[n] for n in wanted]


def resolve_products(refs: Iterable[ProductRef]) -> list[Product]:
    """Catalog products from references ("vendor/product"), or UnknownProduct naming every missing one."""
    wanted = list(dict.fromkeys(_split_product_ref(r) for r in refs))
    if not wanted:
        return []
    rows = Product.objects.filter(
        vendor__name__in={v for v, _ in wanted}, name__in={p for _, p in wanted}
    ).select_related("vendor")
    found = {(p.vendor.name, p.name): p for p in rows}
    missing = [f"{v}/{p}" for v, p in wanted if (v, p) not in found]
    if missing:
        raise UnknownProduct(
            "unknown product" + ("s" if len(missing) > 1 else "") + ": " + ", ".join(missing)
        )
    return [found[w] for w in wanted]


def _add_subscriptions(project: Project, vendors: list[Vendor], products: list[Product]) -> None:
    ProjectVendor.objects.bulk_create(
        [ProjectVendor(project=project, vendor=v) for v in vendors], ignore_conflicts=True
    )
    ProjectProduct.objects.bulk_create(
        [ProjectProduct(project=project, product=p) for p in products], ignore_conflicts=True
    )


def _touch(project: Project) -> None:
    project.updated_at = timezone.now()
    project.save(update_fields=["updated_at"])


def _duplicate(organization: Organization, name: str) -> DuplicateName:
    return DuplicateName(f"the organization {organization.name!r} already has a project named {name!r}")


def create_project(
    *,
    organization: Organization,
    name: str,
    description: str = "",
    active: bool = True,
    vendors: Iterable[str] = (),
    products: Iterable[ProductRef] = (),
    actor: User | None = None,
) -> Project:
    """Create a project subscribed to the given vendors and products; all or nothing."""
    name = validate_name(name, what="project name")
    with transaction.atomic():
        require_member(organization, actor)
        vendor_rows = resolve_vendors(vendors)
        product_rows = resolve_products(products)
        if Project.objects.filter(organization=organization, name__iexact=name).exists():
            raise _duplicate(organization, name)
        try:
            with transaction.atomic():
                project = Project.objects.create(
                    organization=organization,
                    name=name,
                    description=(description or "").strip(),
                    active=active,
                )
        except IntegrityError:
            raise _duplicate(organization, name) from None
        _add_subscriptions(project, vendor_rows, product_rows)
    return project


def update_project(
    *,
    project: Project,
    name: str | None = None,
    description: str | None = None,
    active: bool | None = None,
    actor: User | None = None,
) -> Project:
    """Rename, re-describe, activate or deactivate a project; None leaves a field as it is."""
    fields = ["updated_at"]
    with transaction.atomic():
        require_member(project.organization, actor)
        if name is not None:
            name = validate_name(name, what="project name")
            clash = Project.objects.filter(
                organization_id=project.organization_id, name__iexact=name
            ).exclude(pk=project.pk)
            if clash.exists():
                raise _duplicate(project.organization, name)
            project.name = name
            fields.append("name")
        if description is not None:
            project.description = description.strip()
            fields.append("description")
        if active is not None:
            project.active = active
            fields.append("active")
        project.updated_at = timezone.now()
        project.save(update_fields=fields)
    return project


def delete_project(*, project: Project, actor: User | None = None) -> None:
    with transaction.atomic():
        require_member(project.organization, actor)
        project.delete()


def subscribe_project(
    *,
    project: Project,
    vendors: Iterable[str] = (),
    products: Iterable[ProductRef] = (),
    actor: User | None = None,
) -> Project:
    """Add subscriptions (already present ones are kept); unknown names refuse the whole call."""
    with transaction.atomic():
        require_member(project.organization, actor)
        _add_subscriptions(project, resolve_vendors(vendors), resolve_products(products))
        _touch(project)
    return project


def unsubscribe_project(
    *,
    project: Project,
    vendors: Iterable[str] = (),
    products: Iterable[ProductRef] = (),
    actor: User | None = None,
) -> Project:
    """Remove subscriptions; unknown names refuse the whole call, names not subscribed are ignored."""
    with transaction.atomic():
        require_member(project.organization, actor)
        vendor_rows = resolve_vendors(vendors)
        product_rows = resolve_products(products)
        ProjectVendor.objects.filter(project=project, vendor__in=vendor_rows).delete()
        ProjectProduct.objects.filter(project=project, product__in=product_rows).delete()
        _touch(project)
    return project
