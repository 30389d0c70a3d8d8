"""cvewatch project create ORG NAME [--vendor V ...] [--product VENDOR/PRODUCT ...] | project list ORG."""

from __future__ import annotations

from cvewatch.core.management.base import DomainCommand
from cvewatch.organizations import selectors
from cvewatch.organizations.management.commands._common import add_subcommands, organization_named
from cvewatch.organizations.models import Project
from cvewatch.organizations.services import projects


class Command(DomainCommand):
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
        project = projects.create_project(
            organization=organization,
            name=name,
            description=description,
            active=not inactive,
            vendors=vendors,
            products=products,
            actor=None,
        )
        count = len(_subscription_names(project))
        self.stdout.write(f"created project {organization.name}/{project.name} with {count} subscriptions")

    def list(self, *, org: str, **options) -> None:
        """List the projects of an organization with their subscriptions."""
        organization = organization_named(org)
        for project in selectors.projects_of(organization=organization):
            state = "active" if project.active else "inactive"
            self.stdout.write(f"{project.name}\t{state}\t{' '.join(_subscription_names(project)) or '-'}")


def _subscription_names(project: Project) -> list[str]:
    """The project's subscriptions as the CLI writes them: vendors, then VENDOR/PRODUCT."""
    subs = selectors.project_subscriptions(project=project)
    return subs["vendors"] + [f"{v}/{p}" for v, ps in subs["products"].items() for p in ps]
