"""E-mail through an SMTP server named by ``TANGRAM_SMTP_*``; without ``TANGRAM_SMTP_HOST`` the
e-mail channel is off (nothing is queued for it)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SmtpSettings(BaseSettings):
    """The outgoing mail server, read once from ``TANGRAM_SMTP_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="TANGRAM_SMTP_", extra="ignore", frozen=True)

    #: The server; empty: no e-mail.
    host: str = ""
    port: int = Field(default=25, ge=1, le=65535)
    username: str = ""
    password: str = ""
    #: The From address.
    sender: str = "tangram@localhost"
    sender_name: str = "Tangram"
    #: ``starttls`` (submission, port 587), ``ssl`` (port 465) or ``none``.
    security: str = Field(default="none", pattern="^(none|starttls|ssl)$")
    timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def configured(self) -> bool:
        return bool(self.host)


def send_email(
    settings: SmtpSettings, to: str, subject: str, text: str, message_id: str, html: str | None = None
) -> None:
    """Send one plain-text message; ``message_id`` is stable per notification, so a receiving
    server (or a person) can tell a re-sent message from a new one. ``html``, when given, is
    the same message as an HTML alternative (what marketing e-mails track opens with)."""
    message = EmailMessage()
    message["From"] = formataddr((settings.sender_name, settings.sender))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(idstring=message_id, domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    smtp_class = smtplib.SMTP_SSL if settings.security == "ssl" else smtplib.SMTP
    with smtp_class(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
        if settings.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)
