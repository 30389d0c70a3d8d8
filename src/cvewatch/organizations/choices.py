from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"


class TokenAction(models.TextChoices):
    CREATED = "created", "Created"
    REVOKED = "revoked", "Revoked"
