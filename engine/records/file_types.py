"""What an upload really is, from its first bytes (magic numbers), not from the client's claim.

A client names a file and a Content-Type; both are free text. The upload endpoint sniffs the
first bytes against a small signature table of the formats people attach to business records
(images, PDF, office documents, archives, audio and video, executables) and decides the type
the file is stored and served as:

- bytes with a known signature are that type; the claim is kept only when it names a format of
  the same container (a ``.docx`` is a zip, a ``.xls`` an OLE compound file);
- text without a signature keeps a text claim (``text/csv``, ``application/json``...) and is
  plain text otherwise; markup that a browser would run (HTML, SVG) is named as such;
- other binary data keeps the claim unless the claim names a format whose signature is known
  (a "PNG" that does not start like one is ``application/octet-stream``).

The field's ``accept`` setting is then matched against that type; an extension pattern
(``.pdf``) matches only a file whose name ends so *and* whose bytes fit the extension. No
library is needed for this: the table covers the formats ``accept`` is used with, and anything
else is served as an attachment that browsers do not sniff.
"""

from __future__ import annotations

import fnmatch
import mimetypes
from collections.abc import Iterable

#: How many leading bytes ``sniff`` needs.
HEAD = 4096
OCTET = "application/octet-stream"

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x00\x00\x01\x00", "image/vnd.microsoft.icon"),
    (b"BM", "image/bmp"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"{\\rtf", "application/rtf"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"\x1aE\xdf\xa3", "video/webm"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
)
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_BRANDS = {b"heic": "image/heic", b"heix": "image/heic", b"mif1": "image/heif", b"avif": "image/avif"}
#: Formats stored inside a container whose signature is all the bytes show.
_CONTAINERS = {
    "application/zip": (
        "application/zip",
        "application/x-zip-compressed",
        "application/vnd.openxmlformats-officedocument.*",
        "application/vnd.oasis.opendocument.*",
        "application/epub+zip",
        "application/java-archive",
        "application/vnd.android.package-archive",
    ),
    "application/x-ole-storage": (
        "application/msword",
        "application/vnd.ms-*",
        "application/x-ole-storage",
    ),
}
_TEXT_CLAIMS = ("text/*", "application/json", "application/xml", "application/x-yaml", "application/yaml")
_MARKUP = ((b"<svg", "image/svg+xml"), (b"<!doctype html", "text/html"), (b"<html", "text/html"))
#: Types whose signature the table knows: a claim of one of these must show it.
_KNOWN = {mime for _s, mime in _SIGNATURES} | set(_RIFF.values()) | set(_BRANDS.values())
_KNOWN |= {"image/*", "video/mp4", "video/quicktime", "image/svg+xml"}


def _matches(mime: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(mime, p) for p in patterns)


def _text(head: bytes) -> str | None:
    """The head as text, or None for binary data (a NUL, or bytes that are not UTF-8)."""
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the head
            return None
        return head[: exc.start].decode("utf-8")


#: Signatures short enough to start a line of text ("BMW dealers", "MZ Motors", "ID3 tags"):
#: they count only for binary data.
_WEAK = (b"BM", b"MZ", b"ID3")


def sniff(head: bytes) -> str | None:
    """The type the first bytes show; ``text/plain`` for text without markup, None when
    they show nothing known."""
    text = _text(head)
    for signature, mime in _SIGNATURES:
        if head.startswith(signature) and (text is None or signature not in _WEAK):
            return mime
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return _BRANDS.get(brand, "video/quicktime" if brand == b"qt  " else "video/mp4")
    if text is None:
        return None
    lowered = text.lower().encode()
    for marker, mime in _MARKUP:
        if marker in lowered:
            return mime
    return "text/plain"


def _same_format(claim: str, shown: str) -> bool:
    if claim == shown:
        return True
    return _matches(claim, _CONTAINERS.get(shown, ())) or (shown == "image/jpeg" and claim == "image/jpg")


def stored_type(claim: str, head: bytes) -> str:
    """The type an upload is stored and served as (see the module docstring)."""
    claim = claim.lower()
    shown = sniff(head)
    if shown is None:
        return OCTET if _matches(claim, _KNOWN) or claim.startswith("text/") else claim
    if shown == "text/plain":
        return claim if _matches(claim, _TEXT_CLAIMS) and claim not in ("text/html",) else shown
    return claim if _same_format(claim, shown) else shown


def extension_fits(extension: str, content_type: str) -> bool:
    """Whether a file stored as ``content_type`` may carry ``extension`` (``.pdf``): the type the
    extension stands for must be that format (or there is none to compare with)."""
    expected = mimetypes.guess_type("file" + extension.lower())[0]
    if expected is None or (content_type == OCTET and not _matches(expected, _KNOWN)):
        return True
    if content_type == "text/plain":
        return _matches(expected, _TEXT_CLAIMS) and expected != "text/html"
    return _same_format(expected, content_type) or expected == content_type


def accepted(accept: list[str], name: str, content_type: str) -> bool:
    """The field's ``accept`` patterns against the stored type and the name; empty: any file."""
    if not accept:
        return True
    lowered = name.lower()
    for pattern in accept:
        if pattern.startswith("."):
            if lowered.endswith(pattern.lower()) and extension_fits(pattern, content_type):
                return True
        elif fnmatch.fnmatch(content_type, pattern.lower()):
            return True
    return False


#: Types a browser shows without running anything: served inline, everything else as a download.
INLINE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
