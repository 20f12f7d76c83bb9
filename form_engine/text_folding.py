"""One spelling for text people type differently but mean the same: the key duplicates match on.

Chinese input methods switch between full-width and half-width forms, between ``（`` and ``(``,
``，`` and ``,``, ``·`` and ``•``; copied text brings zero-width spaces; Latin names come in any
case and with any spacing. ``fold_text`` maps all of these to one form, so ``腾讯（深圳） 有限公司``
matches ``腾讯(深圳)有限公司`` and ``ＡＣＭＥ　Ltd`` matches ``acme ltd``. It is for comparing only:
stored values keep what the person typed.

Changing what folds together changes stored duplicate keys: bump
:data:`form_engine.duplicates.KEY_VERSION` with it (``tangram migrate`` then recomputes them).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

_VARIANTS = {
    "·": "·•‧∙⋅・",  # middle dots in transliterated names: 迈克尔·乔丹
    "-": "‐‑‒–—―−﹣",  # hyphens and dashes
    "(": "[【〔〖{",
    ")": "]】〕〗}",
    ",": "、",  # the enumeration comma is typed where a comma is meant
    ".": "。",
    '"': "“”„‟«»「」『』",
    "'": "‘’‚‛`´",
}
#: Punctuation variants -> one ASCII (or middle-dot) form, applied after NFKC.
_PUNCTUATION = str.maketrans(
    {variant: canonical for canonical, chars in _VARIANTS.items() for variant in chars}
)


def fold_text(text: str) -> str:
    """``text`` in the one form duplicates compare: NFKC, case-folded, punctuation variants
    unified, and no whitespace or invisible format characters at all (``腾讯 科技`` is
    ``腾讯科技``: Chinese has no word spaces, and Latin names rarely differ only by one)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    folded = folded.translate(_PUNCTUATION)
    return _dropped().sub("", folded)


@functools.cache
def _dropped() -> re.Pattern[str]:
    """Whitespace (as ``str.isspace``) and invisible format characters (category Cf), built
    once: one regular-expression pass instead of a Python call per character."""
    # Format characters live in the first two planes and the tags block of plane 14 only.
    planes = itertools.chain(range(0x20000), range(0xE0000, 0xE1000))
    invisible = "".join(re.escape(chr(c)) for c in planes if unicodedata.category(chr(c)) == "Cf")
    return re.compile(f"[\\s{invisible}]")
