"""An allow-list HTML sanitiser on the standard library's ``html.parser``.

Rich text is stored already clean, so every reader (UI, exports, e-mails) can trust it. Anything
not on the lists below is dropped: unknown tags keep their text, ``script``/``style`` lose
their content too, attributes are kept only when allowed for their tag, and links only with
safe schemes.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

ALLOWED_TAGS: frozenset[str] = frozenset(
    [
        "a",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    ]
)
VOID_TAGS: frozenset[str] = frozenset({"br", "hr", "img"})
#: Tags whose content is code, not text: dropped entirely.
DROP_CONTENT: frozenset[str] = frozenset(
    {"script", "style", "iframe", "object", "embed", "template", "noscript"}
)
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title", "target"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan"}),
}
URL_ATTRIBUTES: frozenset[str] = frozenset({"href", "src"})
SAFE_SCHEMES: tuple[str, ...] = ("http:", "https:", "mailto:", "tel:")


def _safe_url(url: str) -> bool:
    compact = "".join(url.split()).lower()
    if ":" not in compact.split("/", 1)[0]:
        return True  # relative URL
    return compact.startswith(SAFE_SCHEMES)


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT:
            self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        allowed = ALLOWED_ATTRIBUTES.get(tag, frozenset())
        kept = []
        for name, value in attrs:
            if name not in allowed or value is None:
                continue
            if name in URL_ATTRIBUTES and not _safe_url(value):
                continue
            if name == "target" and value != "_blank":
                continue
            kept.append(f' {name}="{html.escape(value, quote=True)}"')
        if tag == "a" and any(k.startswith(' target="') for k in kept):
            kept.append(' rel="noopener noreferrer"')
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and not self.dropping and tag in ALLOWED_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in self.open:
            return
        while self.open:
            top = self.open.pop()
            self.out.append(f"</{top}>")
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(html.escape(data, quote=False))
            self.text.append(data)

    def finish(self) -> str:
        self.close()
        self.out.extend(f"</{tag}>" for tag in reversed(self.open))
        self.open.clear()
        return "".join(self.out)


def sanitise_html(markup: str) -> str:
    """Clean HTML that is safe to render: allowed tags and attributes only, tags balanced."""
    parser = _Sanitiser()
    parser.feed(markup)
    return parser.finish()


def html_text(markup: str) -> str:
    """The visible text of (sanitised) HTML, whitespace collapsed: for display and matching."""
    parser = _Sanitiser()
    parser.feed(markup)
    parser.finish()
    return " ".join("".join(parser.text).split())
