"""Webhooks signed the Standard Webhooks way (https://www.standardwebhooks.com/).

Headers: `webhook-id` (the delivery id, the same on every retry, so receivers can drop duplicates),
`webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`: `v1,` + base64 of
HMAC-SHA256(secret bytes, f"{id}.{timestamp}.{body}"), computed by the standardwebhooks library, the same
code receivers verify with.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from cvewatch.alerts.channels import http
from cvewatch.alerts.channels.base import Message, Outcome
from cvewatch.alerts.services.payloads import in_contract_order

USER_AGENT = "cvewatch-webhooks/1"


def encode(body: dict[str, Any]) -> str:
    return json.dumps(in_contract_order(body), separators=(",", ":"), ensure_ascii=False)


def signed_headers(*, delivery_id: str, secret: str, data: str) -> dict[str, str]:
    now = timezone.now()
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery_id, now, data),
    }


class WebhookChannel:
    def __init__(self, policy: http.Policy | None = None) -> None:
        self.policy = policy

    def send(self, message: Message, *, timeout: float) -> Outcome:
        data = encode(message.body)
        headers = signed_headers(delivery_id=message.delivery_id, secret=message.secret, data=data)
        return http.post(message.target, content=data.encode(), headers=headers, timeout=timeout, policy=self.policy)
