"""Errors of the alerts app, each derived from one of core.errors' kinds so every edge can translate it."""

from __future__ import annotations

from cvewatch.core.errors import Conflict, InvalidInput, NotFound


class InvalidNotification(InvalidInput):
    """A notification's name, target or filter is refused."""


class DuplicateNotification(Conflict):
    """The project already has a notification with that name."""


class NotificationNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Notification")


class DeliveryNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Delivery")


class DeliveryNotRetryable(Conflict):
    """Only a failed delivery (or a pending one, to hurry it) can be retried."""
