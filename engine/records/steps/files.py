"""File fields (attachment, image, signature): every descriptor must name an uploaded file.

The form engine checks a descriptor's shape and limits; here it must match the upload in the
app's file store (same id, name, size and type), so records never point at bytes that do not
exist, and a descriptor cannot pass an upload off as another type (the field's ``accept`` is
checked against the name and type the descriptor claims). A file new to a record must belong to
its entity and be the writer's to attach (``engine.records.file_access``): otherwise it is
reported exactly as a file that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import InvalidInput
from engine.messages import problem
from engine.records.file_access import FILE_TYPES, may_have
from engine.records.steps.base import WriteStep

if TYPE_CHECKING:
    from engine.records.steps.base import Batch

#: What a descriptor must repeat exactly from the upload it names.
_MATCHED = ("name", "size", "content_type")


def _descriptors(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Files(WriteStep):
    def before(self, write: Batch) -> None:
        if write.op not in ("create", "update"):
            return
        fields = write.er.fields_of_type(*FILE_TYPES)
        if not fields:
            return
        unit = write.unit
        store = unit.files
        problems = []
        for row, old, at in zip(write.rows, write.old, write.pointers, strict=True):
            for f in fields:
                held = {item["id"] for item in _descriptors((old or {}).get(f.name))}
                for k, item in enumerate(_descriptors(row.get(f.name))):
                    stored = store.descriptor(write.er.app, item["id"])
                    if (
                        stored is not None
                        and all(stored[k] == item[k] for k in _MATCHED)
                        and (item["id"] in held or self._attachable(write, stored))
                    ):
                        continue
                    where = f"{at}/{f.name}" + (f"/{k}" if f.type != "signature" else "")
                    name, file_id = item["name"], item["id"]
                    problems.append(
                        problem(
                            "file_not_found",
                            field=f.name,
                            pointer=where,
                            file_field=f.label,
                            name=name,
                            file_id=file_id,
                        )
                    )
        if problems:
            raise InvalidInput("files_not_uploaded", count=len(problems), problems=problems)

    @staticmethod
    def _attachable(write: Batch, stored: dict[str, Any]) -> bool:
        """A file new to the record: uploaded for this entity, by the writer or one they may
        have (the entity is not checked for the system and administrators, who have them all)."""
        unit = write.unit
        if unit.ctx.user is None or unit.ctx.user.is_admin:
            return True
        if stored.get("entity") != write.er.entity.name:
            return False
        return may_have(unit.conn, unit.access, unit.ctx, unit.runtime, stored, as_uploader=True)
