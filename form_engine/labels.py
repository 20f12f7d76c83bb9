"""Bilingual labels: every user-facing name carries zh and en text."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

LOCALES = ("zh", "en")


class Label(BaseModel):
    """A name shown to people, in Chinese and English."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)

    def text(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


def normalise_locale(accept_language: str | None) -> str:
    """Map an Accept-Language header (or a locale tag) to one of ``LOCALES``."""
    if not accept_language:
        return "en"
    first = accept_language.split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en"
