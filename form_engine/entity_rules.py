"""Record-level rules of an entity, as data: validation rules and duplicate rules."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from form_engine.labels import Label

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=50)]


class ValidationRule(BaseModel):
    """``condition`` must hold for the record to be saved (when ``when`` matches, if given).

    A condition that is unknown (a null operand) passes: emptiness is the job of ``required``.
    The problem is reported on ``field`` (or on the record when absent) with ``message``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Identifier | None = None
    when: str | None = Field(default=None, min_length=1, max_length=4000)
    condition: str = Field(min_length=1, max_length=4000)
    message: Label
    field: Identifier | None = None

    @model_validator(mode="before")
    @classmethod
    def _when_alone_is_the_condition(cls, data: object) -> object:
        """``{"when": X}`` without ``condition`` is read as "X must hold" (both spellings work)."""
        if isinstance(data, dict) and "condition" not in data and "when" in data:
            return {**{k: v for k, v in data.items() if k != "when"}, "condition": data["when"]}
        return data


class DuplicateRule(BaseModel):
    """Records whose normalised values of all ``fields`` are equal are duplicates.

    ``block`` refuses the save, ``warn`` asks the client to confirm, ``allow`` only reports.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Identifier
    label: Label | None = None
    fields: list[Identifier] = Field(min_length=1, max_length=5)
    policy: Literal["block", "warn", "allow"] = "warn"
