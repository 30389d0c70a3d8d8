"""Write operations of the organizations app, one module per aggregate (as Zulip splits its actions).

- `access`: the checks every write shares (member, owner, role, the owner locks, the audit label);
- `organizations`, `members`, `invitations`, `projects` (with subscriptions), `tokens`.

Every function takes keyword-only arguments, runs in one transaction (a refusal writes nothing) and raises
an `organizations.errors` exception, each one of the `core.errors` kinds the edges translate. Callers
import the module that holds the function: `from cvewatch.organizations.services import tokens`.
"""
