"""Uploads are typed by their first bytes: the claim counts only where the bytes agree."""

from __future__ import annotations

import pytest

from engine.records.file_types import accepted, sniff, stored_type

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
ZIP = b"PK\x03\x04\x14\x00\x06\x00"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("head", "shown"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x00\x18ftypheic", "image/heic"),
        (b"%PDF-1.7\n", "application/pdf"),
        (ZIP, "application/zip"),
        (b"MZ\x90\x00\x03\x00", "application/x-msdownload"),
        (b"MZ Motors, 3 cars", "text/plain"),  # a two-byte signature counts only in binary data
        (b"BMW,320i\n", "text/plain"),
        ("名称,电话\n张三,138".encode(), "text/plain"),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"\n<!DOCTYPE HTML><p>hi", "text/html"),
        (b"\x00\x01\x02\x03binary", None),
    ],
)
def test_the_first_bytes_show_the_type(head: bytes, shown: str | None) -> None:
    assert sniff(head) == shown


@pytest.mark.parametrize(
    ("claim", "head", "stored"),
    [
        ("image/png", PNG, "image/png"),
        ("image/png", b"<html><script>x</script>", "text/html"),  # a claim the bytes deny
        ("image/gif", PNG, "image/png"),
        (DOCX, ZIP, DOCX),  # a format inside a container keeps its name
        ("application/msword", OLE, "application/msword"),
        ("application/pdf", ZIP, "application/zip"),
        ("text/csv", b"a,b\n1,2\n", "text/csv"),
        ("text/html", b"just words", "text/plain"),
        ("image/png", b"\x00\x01\x02\x03", "application/octet-stream"),
        ("font/woff2", b"wOF2\x00\x01\x00\x00", "font/woff2"),  # unknown to the table: the claim stays
    ],
)
def test_the_stored_type_is_what_the_bytes_agree_with(claim: str, head: bytes, stored: str) -> None:
    assert stored_type(claim, head) == stored


@pytest.mark.parametrize(
    ("accept", "name", "content_type", "ok"),
    [
        ([], "anything.exe", "application/x-msdownload", True),
        (["image/*"], "cat.png", "image/png", True),
        (["image/*"], "cat.png", "text/html", False),
        ([".pdf"], "report.pdf", "application/pdf", True),
        ([".pdf"], "report.pdf", "text/plain", False),  # named .pdf, but text inside
        ([".docx"], "memo.docx", "application/zip", True),
        ([".docx"], "memo.docx", "application/x-msdownload", False),
        ([".csv"], "list.csv", "text/plain", True),
        ([".pdf", "image/*"], "scan.jpg", "image/jpeg", True),
    ],
)
def test_accept_patterns_match_the_bytes(accept: list[str], name: str, content_type: str, ok: bool) -> None:
    assert accepted(accept, name, content_type) is ok
