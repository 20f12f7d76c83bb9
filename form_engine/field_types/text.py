"""Text: one line, many lines, and sanitised rich text (HTML)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.html_sanitiser import html_text, sanitise_html
from form_engine.labels import Label
from form_engine.text_folding import fold_text

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef


class TextConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_length: int = Field(default=255, ge=1, le=10_000)
    placeholder: Label | None = None


@register_field_type
class TextType(FieldType):
    """One line, trimmed; text that is empty after trimming is no value (``required`` sees it)."""

    name = "text"
    label = Label(zh="单行文本", en="Text")
    config_model = TextConfig
    stores = "VARCHAR(max_length), trimmed"
    input_notes = (
        "trimmed; a number is taken as its text. Duplicate rules match folded text: full-width and "
        "half-width forms, case, spaces and punctuation variants (`（）` `()`, `、` `，` `,`, `·` `•`) "
        "compare equal."
    )

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(field.config_as(TextConfig).max_length)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        max_length = field.config_as(TextConfig).max_length

        def run(value: Any) -> Any:
            if type(value) is not str:
                if (isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)) or isinstance(
                    value, str
                ):
                    value = str(value)
                else:
                    raise FieldValueError("invalid_text", value=value)
            value = value.strip()
            if not value:
                return None
            if len(value) > max_length:
                raise FieldValueError("too_long", max=max_length, actual=len(value))
            return value

        return run

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return "type(v) is str and len(v) <= {n}", "v.strip()", {"n": field.config_as(TextConfig).max_length}

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "maxLength": field.config_as(TextConfig).max_length}

    def normalise(self, value: Any, field: FieldDef) -> Any:
        """Folded (``fold_text``): ``ＡＣＭＥ　Ltd`` matches ``acme ltd``, ``（深圳）`` ``(深圳)``."""
        return None if value is None else fold_text(str(value))


class LongTextConfig(TextConfig):
    max_length: int = Field(default=100_000, ge=1, le=10_000_000)


@register_field_type
class LongTextType(TextType):
    name = "long_text"
    label = Label(zh="多行文本", en="Long text")
    config_model = LongTextConfig
    indexable = False
    stores = "TEXT (line breaks kept)"
    input_notes = "kept as sent (line breaks and inner spaces); only whitespace is no value."

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Text()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        max_length = field.config_as(LongTextConfig).max_length

        def run(value: Any) -> Any:
            if not isinstance(value, str):
                raise FieldValueError("invalid_text", value=value)
            if not value or value.isspace():
                return None
            if len(value) > max_length:
                raise FieldValueError("too_long", max=max_length, actual=len(value))
            return value

        return run

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return "type(v) is str and len(v) <= {n}", "v", {"n": field.config_as(LongTextConfig).max_length}

    def parse_text(self, text: str, field: FieldDef) -> Any:
        return None if not text.strip() else self.coerce(text, field)


@register_field_type
class RichTextType(LongTextType):
    name = "rich_text"
    label = Label(zh="富文本", en="Rich text")
    sortable = False
    stores = "TEXT: HTML cleaned by an allow-list sanitiser (no scripts, styles or event attributes)"
    input_notes = "markup without visible text or an image (an empty editor's `<p><br></p>`) is no value."

    def compile_coercer(self, field: FieldDef) -> Coercer:
        max_length = field.config_as(LongTextConfig).max_length

        def run(value: Any) -> Any:
            if not isinstance(value, str):
                raise FieldValueError("invalid_text", value=value)
            clean = sanitise_html(value)
            if not html_text(clean) and "<img" not in clean:
                return None  # what an editor sends for an empty box: <p><br></p>
            if len(clean) > max_length:
                raise FieldValueError("too_long", max=max_length, actual=len(clean))
            return clean

        return run

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return None

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {
            "type": "string",
            "contentMediaType": "text/html",
            "maxLength": field.config_as(LongTextConfig).max_length,
        }

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if value is None else html_text(value)

    def normalise(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else fold_text(html_text(value))
