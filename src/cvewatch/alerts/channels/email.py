"""E-mail alerts: HTML and plain text grouped by severity, with one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from cvewatch.alerts.channels.base import Message, Outcome
from cvewatch.alerts.services.payloads import changes_by_severity


def send_mail(
    *, to: str, subject: str, text: str, html: str | None, headers: dict[str, str], timeout: float
) -> Outcome:
    """One mail through the configured SMTP server (CVEWATCH_EMAIL_URL); SMTP refusals are retried."""
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
        connection=get_connection(timeout=timeout),
    )
    if html:
        mail.attach_alternative(html, "text/html")
    try:
        mail.send()
    except smtplib.SMTPResponseException as exc:
        message = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return Outcome.failure(f"SMTP {exc.smtp_code}: {message}", status_code=exc.smtp_code)
    except smtplib.SMTPRecipientsRefused as exc:
        return Outcome.failure(f"SMTP refused the recipient: {exc.recipients}")
    except TimeoutError:
        return Outcome.failure(f"SMTP timed out after {timeout:g} s")
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome.failure(f"SMTP error: {type(exc).__name__}: {exc}")
    return Outcome(True, "accepted by the SMTP server", 250)


class EmailChannel:
    def send(self, message: Message, *, timeout: float) -> Outcome:
        body = message.body
        context = {
            "body": body,
            "groups": changes_by_severity(body),
            "unsubscribe_url": message.unsubscribe_url,
            "is_test": message.is_test,
        }
        headers = {"X-Cvewatch-Delivery": message.delivery_id}
        if message.unsubscribe_url:
            headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return send_mail(
            to=message.target,
            subject=f"[cvewatch] {body['organization']}/{body['project']}: {body['title']}",
            text=render_to_string("alerts/mail/alert.txt", context),
            html=render_to_string("alerts/mail/alert.html", context),
            headers=headers,
            timeout=timeout,
        )
