"""cvewatch project create ORG NAME [--vendor V ...] [--product VENDOR/PRODUCT ...] | project list ORG."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cvewatch.organizations import selectors, services
from cvewatch.organizations.management.commands._common import (
    add_subcommands,
    domain_errors,
    organization_named,
)


class Command(BaseCommand):
    help = "Manage projects and their subscriptions."

    def add_arguments(self, parser):
        subs = add_subcommands(parser, {"create": self.create, "list": self.list})
        create = subs["create"]
        create.add_argument("org")
        create.add_argument("name", help="letters, digits and '-', unique in the organization")
        create.add_argument("--description", default="")
        create.add_argument(
            "--vendor",
            dest="vendors",
            action="extend",
            nargs="+",
            default=[],
            metavar="V",
            help="subscribe to a vendor (all its products); repeatable",
        )
        create.add_argument(
            "--product",
            dest="products",
            action="extend",
            nargs="+",
            default=[],
            metavar="VENDOR/PRODUCT",
            help="subscribe to one product; repeatable",
        )
        create.add_argument("--inactive", action="store_true", help="create the project inactive")
        subs["list"].add_argument("org")

    def handle(self, *args, action: str, **options):
        {"create": self.create, "list": self.list}[action](**options)

    def create(
        self,
        *,
        org: str,
        name: str,
        description: str,
        vendors: list[str],
        products: list[str],
        inactive: bool,
        **options,
    ) -> None:
        """Create a project subscribed to vendors and products of the catalog."""
        organization = organization_named(org)
        with domain_errors():
            project = services.create_project(
                organization=organization,
                name=name,
                description=description,
                active=not inactive,
                vendors=vendors,
                products=products,
                actor=None,
            )
        subs = selectors.project_subscriptions(project=project)
        count = len(subs["vendors"]) + sum(len(p) for p in subs["products"].values())  # type: ignore[union-attr,arg-type]
        self.stdout.write(f"created project {organization.name}/{project.name} with {count} subscriptions")

    def list(self, *, org: str, **options) -> None:
        """List the projects of an organization with their subscriptions."""
        organization = organization_named(org)
        for project in selectors.projects_of(organization=organization):
            subs = selectors.project_subscriptions(project=project)
            names = list(subs["vendors"])  # type: ignore[call-overload]
            names += [f"{v}/{p}" for v, ps in subs["products"].items() for p in ps]  # type: ignore[union-attr]
            state = "active" if project.active else "inactive"
            self.stdout.write(f"{project.name}\t{state}\t{' '.join(names) or '-'}")
