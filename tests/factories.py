"""factory_boy factories for the catalog. Other test packages import them; keep names stable.

CveFactory keeps the served JSON columns (vendors, weaknesses) and the link tables in step:
    CveFactory(vendors=["apache", "apache$PRODUCT$log4j"], weaknesses=["CWE-79"])
creates (or reuses) the Vendor, Product and Weakness rows and links them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import factory
from factory.django import DjangoModelFactory

from cvewatch.catalog.models import Cve, CveProduct, CveVendor, CveWeakness, Product, Vendor, Weakness

BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)


class VendorFactory(DjangoModelFactory):
    class Meta:
        model = Vendor
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"vendor{n}")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("vendor", "name")

    vendor = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda n: f"product{n}")


class WeaknessFactory(DjangoModelFactory):
    class Meta:
        model = Weakness
        django_get_or_create = ("cwe_id",)

    cwe_id = factory.Sequence(lambda n: f"CWE-{1000 + n}")
    name = factory.LazyAttribute(lambda o: f"Weakness {o.cwe_id}")


def link_cve(
    cve: Cve, *, vendors: list[str] | tuple[str, ...] = (), weaknesses: list[str] | tuple[str, ...] = ()
) -> None:
    """Create the Vendor/Product/Weakness rows named in the contract's flat lists and link them to the CVE.

    Bulk writes: a real KB record names up to hundreds of products.
    """
    pairs = [entry.partition("$PRODUCT$") for entry in vendors]
    vendor_names = {v for v, _, _ in pairs}
    Vendor.objects.bulk_create([Vendor(name=n) for n in vendor_names], ignore_conflicts=True)
    vendor_ids = dict(Vendor.objects.filter(name__in=vendor_names).values_list("name", "pk"))
    CveVendor.objects.bulk_create(
        [CveVendor(cve=cve, vendor_id=vendor_ids[n]) for n in vendor_names], ignore_conflicts=True
    )
    wanted = {(vendor_ids[v], p) for v, sep, p in pairs if sep}
    Product.objects.bulk_create([Product(vendor_id=v, name=p) for v, p in wanted], ignore_conflicts=True)
    product_ids = [
        pk
        for pk, v, p in Product.objects.filter(vendor_id__in=vendor_ids.values()).values_list(
            "pk", "vendor_id", "name"
        )
        if (v, p) in wanted
    ]
    CveProduct.objects.bulk_create(
        [CveProduct(cve=cve, product_id=pk) for pk in product_ids], ignore_conflicts=True
    )
    Weakness.objects.bulk_create([Weakness(cwe_id=w) for w in set(weaknesses)], ignore_conflicts=True)
    CveWeakness.objects.bulk_create(
        [CveWeakness(cve=cve, weakness=w) for w in Weakness.objects.filter(cwe_id__in=set(weaknesses))],
        ignore_conflicts=True,
    )


class CveFactory(DjangoModelFactory):
    class Meta:
        model = Cve
        django_get_or_create = ("cve_id",)
        skip_postgeneration_save = True

    cve_id = factory.Sequence(lambda n: f"CVE-2024-{10000 + n}")
    title = factory.LazyAttribute(lambda o: f"Title of {o.cve_id}")
    description = factory.LazyAttribute(lambda o: f"Description of {o.cve_id}.")
    created_at = factory.Sequence(lambda n: BASE_TIME + timedelta(hours=n))
    updated_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(days=1))
    vendors: Any = factory.List([])
    weaknesses: Any = factory.List([])

    @factory.post_generation
    def links(obj: Cve, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            link_cve(obj, vendors=obj.vendors, weaknesses=obj.weaknesses)
