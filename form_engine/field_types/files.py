"""Files attached to a record: descriptors of uploads the kernel stores under the data folder.

The row keeps only descriptors (``{id, name, size, content_type}``); the bytes live in the
kernel's file store. Size and type limits are checked here against the descriptor, and again
by the kernel's upload endpoint against the real bytes.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from form_engine.column_types import json_column
from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "invalid_file": {
            "zh": "{label}的文件信息应包含 id、name、size、content_type，收到 {value}",
            "en": "{label} needs file descriptors with id, name, size and content_type, got {value}",
        },
        "file_too_large": {
            "zh": "{label}的文件 {name} 大小为 {size} 字节，超过上限 {max} 字节",
            "en": "{label}: file {name} has {size} bytes, more than the limit of {max}",
        },
        "file_type_not_allowed": {
            "zh": "{label}不接受 {name}（{content_type}），允许的类型：{accept}",
            "en": "{label} does not accept {name} ({content_type}); allowed: {accept}",
        },
    }
)

_DESCRIPTOR_KEYS = ("id", "name", "size", "content_type")


class FileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Largest file in bytes.
    max_size: int = Field(default=20 * 1024 * 1024, ge=1)
    #: MIME patterns (``image/*``, ``application/pdf``) or extensions (``.pdf``); empty: any.
    accept: list[str] = Field(default_factory=list)
    max_files: int = Field(default=10, ge=1, le=100)


class ImageConfig(FileConfig):
    max_size: int = Field(default=10 * 1024 * 1024, ge=1)
    accept: list[str] = Field(default_factory=lambda: ["image/*"])


def accepts(accept: list[str], name: str, content_type: str) -> bool:
    """True when the file matches one of the MIME patterns or extensions (or the list is empty)."""
    if not accept:
        return True
    lowered = name.lower()
    return any(
        lowered.endswith(pattern.lower())
        if pattern.startswith(".")
        else fnmatch.fnmatch(content_type, pattern)
        for pattern in accept
    )


def compile_descriptor(config: FileConfig) -> Coercer:
    """A coercer for one ``{id, name, size, content_type}`` descriptor within the limits."""
    accept_text = ", ".join(config.accept)

    def run(item: Any) -> dict[str, Any]:
        if not isinstance(item, dict) or any(key not in item for key in _DESCRIPTOR_KEYS):
            raise FieldValueError("invalid_file", value=item)
        file_id, name, size, content_type = (item[key] for key in _DESCRIPTOR_KEYS)
        if not (
            isinstance(file_id, str | int)
            and not isinstance(file_id, bool)
            and isinstance(name, str)
            and name.strip()
            and type(size) is int
            and size >= 0
            and isinstance(content_type, str)
            and "/" in content_type
        ):
            raise FieldValueError("invalid_file", value=item)
        if size > config.max_size:
            raise FieldValueError("file_too_large", name=name, size=size, max=config.max_size)
        if not accepts(config.accept, name, content_type.lower()):
            raise FieldValueError(
                "file_type_not_allowed", name=name, content_type=content_type, accept=accept_text
            )
        return {"id": str(file_id), "name": name.strip(), "size": size, "content_type": content_type.lower()}

    return run


def _file_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string", "minLength": 1},
            "size": {"type": "integer", "minimum": 0},
            "content_type": {"type": "string"},
        },
        "required": list(_DESCRIPTOR_KEYS),
    }


@register_field_type
class AttachmentType(FieldType):
    name = "attachment"
    label = Label(zh="附件", en="Attachment")
    dsl_type = None
    config_model = FileConfig
    indexable = False
    sortable = False
    stores = "JSON list of file descriptors {id, name, size, content_type}; bytes in the kernel's file store"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return json_column()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        config = field.config_as(FileConfig)
        one = compile_descriptor(config)
        max_files = config.max_files

        def run(value: Any) -> Any:
            if isinstance(value, dict):
                value = [value]
            if not isinstance(value, list):
                raise FieldValueError("invalid_list", value=value)
            if len(value) > max_files:
                raise FieldValueError("too_many_items", max=max_files, actual=len(value))
            return [one(item) for item in value]

        return run

    def parse_text(self, text: str, field: FieldDef) -> Any:
        """Files cannot come from a spreadsheet cell; only an empty cell is accepted."""
        if text.strip():
            raise FieldValueError("invalid_file", value=text)
        return None

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if not value else ", ".join(item["name"] for item in value)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "array", "items": _file_schema(), "maxItems": field.config_as(FileConfig).max_files}


@register_field_type
class ImageType(AttachmentType):
    name = "image"
    label = Label(zh="图片", en="Image")
    config_model = ImageConfig
    stores = "JSON list of image file descriptors {id, name, size, content_type} (image/* by default)"


class SignatureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_size: int = Field(default=1024 * 1024, ge=1)
    accept: list[str] = Field(default_factory=lambda: ["image/png", "image/svg+xml"])


@register_field_type
class SignatureType(FieldType):
    name = "signature"
    label = Label(zh="手写签名", en="Signature")
    dsl_type = None
    config_model = SignatureConfig
    indexable = False
    sortable = False
    stores = "JSON: one image file descriptor {id, name, size, content_type} of the drawn signature"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return json_column()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        c = field.config_as(SignatureConfig)
        return compile_descriptor(FileConfig(max_size=c.max_size, accept=c.accept, max_files=1))

    def parse_text(self, text: str, field: FieldDef) -> Any:
        if text.strip():
            raise FieldValueError("invalid_file", value=text)
        return None

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if value is None:
            return ""
        return "已签名" if locale.startswith("zh") else "Signed"

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return _file_schema()
