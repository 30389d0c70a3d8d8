"""Where alerts go. Each channel turns a Message into one outbound request and reports an Outcome.

Channels know nothing of the ORM: services/sending.py builds the Message from a Delivery and records the
Outcome. `channel_for` picks the implementation by the notification's channel.
"""

from __future__ import annotations

from cvewatch.alerts.channels.base import Channel, Message, Outcome
from cvewatch.alerts.choices import Channel as ChannelKind


def channel_for(kind: str) -> Channel:
    from cvewatch.alerts.channels.chat import SlackChannel, TeamsChannel
    from cvewatch.alerts.channels.email import EmailChannel
    from cvewatch.alerts.channels.webhook import WebhookChannel

    channels: dict[str, type] = {
        ChannelKind.WEBHOOK: WebhookChannel,
        ChannelKind.SLACK: SlackChannel,
        ChannelKind.TEAMS: TeamsChannel,
        ChannelKind.EMAIL: EmailChannel,
    }
    return channels[kind]()


__all__ = ["Channel", "Message", "Outcome", "channel_for"]
