"""The one small interface every channel implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

EXCERPT = 500  # characters of a response body or error kept on the delivery


@dataclass(frozen=True)
class Message:
    delivery_id: str  # the `webhook-id`, the same on every attempt
    target: str  # URL or e-mail address
    body: dict[str, Any]  # the contract's notification body
    secret: str = ""  # webhooks: "whsec_..."
    unsubscribe_url: str = ""  # e-mail
    is_test: bool = False


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    detail: str = ""  # response excerpt or the reason of the failure
    status_code: int | None = None
    # A retry cannot help (refused address, 404 from Slack, unconfirmed address): fail now, retry by hand.
    permanent: bool = False

    @classmethod
    def failure(cls, detail: str, *, status_code: int | None = None, permanent: bool = False) -> Outcome:
        return cls(False, detail[:EXCERPT], status_code, permanent)


class Channel(Protocol):
    def send(self, message: Message, *, timeout: float) -> Outcome: ...
