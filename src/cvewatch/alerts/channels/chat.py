"""Slack (incoming webhook, Block Kit) and Microsoft Teams (Workflows webhook, Adaptive Card)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cvewatch.alerts.channels import http
from cvewatch.alerts.channels.base import Message, Outcome
from cvewatch.alerts.services.payloads import changes_by_severity

MAX_CHANGES = 20  # per message: Slack allows 50 blocks, Teams cards ~28 KB


def _event_types(change: Mapping[str, Any]) -> str:
    return ", ".join(sorted({e.get("type", "?") for e in change.get("events", [])}))


def _line(change: Mapping[str, Any]) -> str:
    cve = change["cve"]
    score = "n/a" if cve.get("cvss31") is None else f"{cve['cvss31']:.1f}"
    return f"{cve['cve_id']} (CVSS 3.1 {score}; {_event_types(change)}): {(cve.get('description') or '')[:200]}"


def _heading(body: Mapping[str, Any]) -> str:
    return f"[{body['organization']}/{body['project']}] {body['title']}"


def slack_body(body: Mapping[str, Any]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _heading(body)[:150]}},
    ]
    shown = 0
    for severity, changes in changes_by_severity(body):
        lines = []
        for change in changes[: MAX_CHANGES - shown]:
            lines.append("• " + _line(change))
        shown += len(lines)
        if lines:
            text = f"*{severity.capitalize()}*\n" + "\n".join(lines)
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    hidden = len(body.get("changes", [])) - shown
    if hidden > 0:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"and {hidden} more"}]})
    return {"text": _heading(body), "blocks": blocks}


def teams_body(body: Mapping[str, Any]) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": _heading(body), "wrap": True}
    ]
    shown = 0
    for severity, changes in changes_by_severity(body):
        items.append({"type": "TextBlock", "weight": "Bolder", "text": severity.capitalize(), "wrap": True})
        for change in changes[: MAX_CHANGES - shown]:
            items.append({"type": "TextBlock", "text": _line(change), "wrap": True})
            shown += 1
    hidden = len(body.get("changes", [])) - shown
    if hidden > 0:
        items.append({"type": "TextBlock", "text": f"and {hidden} more", "isSubtle": True})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": items,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}],
    }


class _ChatChannel:
    render = staticmethod(slack_body)

    def __init__(self, policy: http.Policy | None = None) -> None:
        self.policy = policy

    def send(self, message: Message, *, timeout: float) -> Outcome:
        data = json.dumps(type(self).render(message.body)).encode()
        headers = {"content-type": "application/json", "user-agent": "cvewatch"}
        return http.post(message.target, content=data, headers=headers, timeout=timeout, policy=self.policy)


class SlackChannel(_ChatChannel):
    render = staticmethod(slack_body)


class TeamsChannel(_ChatChannel):
    render = staticmethod(teams_body)
