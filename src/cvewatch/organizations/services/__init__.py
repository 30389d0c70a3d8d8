"""Write operations of the organizations app, one module per aggregate (as Zulip splits its actions).

- `access`: the checks every write shares (member, owner, role, the owner locks, the audit label);
- `organizations`, `members`, `invitations`, `projects` (with subscriptions), `tokens`.

Every function takes keyword-only arguments, runs in one transaction (a refusal writes nothing) and raises
an `organizations.errors` exception, each one of the `core.errors` kinds the edges translate. Callers
import the module that holds the function: `from cvewatch.organizations.services import tokens`.
"""

# Transitional: files outside the organizations/web/core scope of this change (the API's token
# authentication, tests/api, tests/organizations/test_api.py and test_isolation.py, bench/) still call
# `services.<name>`. Remove these once they import from the modules above.
from cvewatch.organizations.services.members import add_member, remove_member
from cvewatch.organizations.services.organizations import create_organization, delete_organization
from cvewatch.organizations.services.projects import create_project, subscribe_project
from cvewatch.organizations.services.tokens import authenticate_token, create_token, revoke_token

__all__ = [
    "add_member",
    "authenticate_token",
    "create_organization",
    "create_project",
    "create_token",
    "delete_organization",
    "remove_member",
    "revoke_token",
    "subscribe_project",
]
