"""A simple challenge against bots on public forms, without a third-party captcha: the page
carries a signed, time-stamped token that must come back with the submission, neither too soon
(a script posting at once) nor too late (a token harvested and replayed for hours), and a
honeypot field that people never see and bots fill in."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

#: The name of the hidden field that must stay empty.
HONEYPOT = "website"


@dataclass(frozen=True)
class Challenge:
    secret: str
    min_age: timedelta = timedelta(seconds=1)
    max_age: timedelta = timedelta(hours=2)

    def _sign(self, link: str, stamp: int) -> str:
        message = f"public-form:{link}:{stamp}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()[:32]

    def issue(self, link: str, now: datetime) -> str:
        """The token for a page of the form at ``link``, made at ``now``."""
        stamp = int(now.timestamp())
        return f"{stamp}.{self._sign(link, stamp)}"

    def passed(self, link: str, token: object, honeypot: object, now: datetime) -> bool:
        """Whether a submission's token is this form's, its age plausible, its honeypot empty."""
        if honeypot not in (None, "") or not isinstance(token, str):
            return False
        stamp_text, _, signature = token.partition(".")
        if not stamp_text.isdigit() or not hmac.compare_digest(signature, self._sign(link, int(stamp_text))):
            return False
        age = now.timestamp() - int(stamp_text)
        return self.min_age.total_seconds() <= age <= self.max_age.total_seconds()
