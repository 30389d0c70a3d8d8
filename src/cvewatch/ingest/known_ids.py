"""The ids of every vendor, product and weakness the catalog holds, by name: the batch writer's caches.

Loading them reads every vendor and product (about 130,000 rows on the full catalog, 0.6 s of CPU), so one
load serves a whole run: a sync whose steps are many files or pages passes the same `KnownIds` to each
step's import instead of loading them again per step. Ids enter only once their batch committed
(`BatchWriter.remember`), so a rolled-back batch never leaves an id that does not exist.
"""

from __future__ import annotations

from cvewatch.catalog.models import Product, Vendor, Weakness
from cvewatch.catalog.names import product_key


class KnownIds:
    def __init__(self) -> None:
        self.vendor_ids: dict[str, int] = {}
        self.product_ids: dict[str, int] = {}
        self.weakness_ids: dict[str, int] = {}
        self.loaded = False

    def load_once(self) -> KnownIds:
        """Reads the catalog's ids the first time; later calls keep what was read and remembered since."""
        if not self.loaded:
            self.vendor_ids.update(Vendor.objects.values_list("name", "id"))
            self.product_ids.update(
                (product_key(vendor, name), pk)
                for vendor, name, pk in Product.objects.values_list("vendor__name", "name", "id")
            )
            self.weakness_ids.update(Weakness.objects.values_list("cwe_id", "id"))
            self.loaded = True
        return self
