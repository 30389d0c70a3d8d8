"""Domain errors of the workbench (tags, triage, saved views), each one of the `core.errors` kinds.

`field` names the form field a page shows the error on.
"""

from __future__ import annotations

from cvewatch.core import errors


class InvalidTagName(errors.InvalidInput):
    field = "name"


class InvalidColor(errors.InvalidInput):
    field = "color"


class InvalidTagDescription(errors.InvalidInput):
    field = "description"


class DuplicateTag(errors.Conflict):
    field = "name"


class InvalidTriage(errors.InvalidInput):
    """An unknown status, an assignee who is not a member, or a CVE the project does not watch."""


class InvalidViewName(errors.InvalidInput):
    field = "name"


class InvalidViewQuery(errors.InvalidInput):
    field = "query"


class DuplicateView(errors.Conflict):
    field = "name"


class NotAllowed(errors.NotAllowed):
    """The actor may see this object but not change it (a shared view of someone else)."""
