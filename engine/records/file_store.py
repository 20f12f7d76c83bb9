"""Uploaded files on disk: ``<data_dir>/files/<app>/<id>`` and a ``<id>.json`` descriptor beside it.

Records keep descriptors (``{id, name, size, content_type}``); the store is the truth about
them, so a write that names a file checks the id exists and the descriptor matches what was
uploaded (a client cannot claim a 1 KB PNG is a different file).
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from engine.errors import NotFound

_ID = re.compile(r"^[0-9a-f]{32}$")
CHUNK = 1024 * 1024


class FileStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "files"

    def _dir(self, app: str) -> Path:
        return self.root / app

    def save(self, app: str, chunks: Iterable[bytes], descriptor: dict[str, Any]) -> dict[str, Any]:
        """Write the bytes and the descriptor; returns the descriptor with its new ``id``."""
        folder = self._dir(app)
        folder.mkdir(parents=True, exist_ok=True)
        file_id = uuid.uuid4().hex
        size = 0
        with (folder / file_id).open("wb") as out:
            for chunk in chunks:
                size += len(chunk)
                out.write(chunk)
        stored = {**descriptor, "id": file_id, "size": size}
        (folder / f"{file_id}.json").write_text(json.dumps(stored, ensure_ascii=False), "utf-8")
        return stored

    def descriptor(self, app: str, file_id: str) -> dict[str, Any] | None:
        if not _ID.match(file_id):
            return None
        path = self._dir(app) / f"{file_id}.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text("utf-8"))

    def path(self, app: str, file_id: str) -> tuple[Path, dict[str, Any]]:
        descriptor = self.descriptor(app, file_id)
        if descriptor is None:
            raise NotFound("file_not_found", app=app, file_id=file_id)
        return self._dir(app) / file_id, descriptor

    def remove(self, app: str, file_id: str) -> None:
        """Forget an upload that was refused (its bytes and descriptor)."""
        if _ID.match(file_id):
            for path in (self._dir(app) / file_id, self._dir(app) / f"{file_id}.json"):
                path.unlink(missing_ok=True)

    def remove_app(self, app: str) -> None:
        """Forget every file of an uninstalled app (attached or not)."""
        if app and "/" not in app and app not in (".", ".."):
            shutil.rmtree(self._dir(app), ignore_errors=True)
