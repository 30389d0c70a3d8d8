from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"


class TokenAction(models.TextChoices):
    CREATED = "created", "Created"
    REVOKED = "revoked", "Revoked"


class TokenStatus(models.TextChoices):
    """Computed by OrganizationToken.status, never stored: it changes with the clock."""

    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
