"""The bundled Chinese region list: province -> city -> district, with the short names people use.

Names are matched exactly or by a unique prefix among siblings, so ``北京`` is ``北京市``,
``广西`` is ``广西壮族自治区`` and ``延边`` is ``延边朝鲜族自治州``. Cities whose districts are
not bundled (see ``data/cn_regions.json``) accept any district name.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources

_SUFFIXES = re.compile(
    r"(特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|省|市|地区|盟|自治州|林区|新区|区|县)$"
)


@dataclass(frozen=True)
class Province:
    name: str
    code: str
    #: city name -> its districts (an empty tuple: districts not bundled).
    cities: dict[str, tuple[str, ...]]


@functools.cache
def provinces() -> dict[str, Province]:
    """All 34 provincial-level divisions by canonical name, loaded once."""
    data = json.loads(resources.files("form_engine").joinpath("data/cn_regions.json").read_text("utf-8"))
    return {
        p["name"]: Province(p["name"], p["code"], {c: tuple(d) for c, d in p["cities"].items()})
        for p in data["provinces"]
    }


def short_name(name: str) -> str:
    """``广西壮族自治区`` -> ``广西``, ``北京市`` -> ``北京``: the form used for display and matching."""
    short = _SUFFIXES.sub("", name)
    return short if len(short) >= 2 else name


def resolve(text: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The canonical name ``text`` means among ``candidates``: exact, short form, or unique prefix."""
    text = text.strip()
    if not text:
        return None
    if text in candidates:
        return text
    by_short = [c for c in candidates if short_name(c) == text or short_name(c) == short_name(text)]
    if len(by_short) == 1:
        return by_short[0]
    if len(text) >= 2:
        by_prefix = [c for c in candidates if c.startswith(text)]
        if len(by_prefix) == 1:
            return by_prefix[0]
    return None


def resolve_province(text: str) -> str | None:
    return resolve(text, list(provinces()))


def resolve_city(province: str, text: str) -> str | None:
    return resolve(text, list(provinces()[province].cities))


def districts_known(province: str, city: str) -> bool:
    return bool(provinces()[province].cities.get(city))


def resolve_district(province: str, city: str, text: str) -> str | None:
    return resolve(text, provinces()[province].cities[city])


def is_municipality(province: str) -> bool:
    """Beijing, Tianjin, Shanghai, Chongqing and the SARs: the city is the province itself."""
    cities = provinces()[province].cities
    return list(cities) == [province]


def split_address(text: str) -> tuple[str | None, str | None, str | None, str]:
    """Peel province, city and district off the front of ``北京市朝阳区建国路 88 号``.

    Returns what was recognised and the rest as the detail; unrecognised parts stay in the detail.
    """
    rest = text.strip()
    province = _longest_prefix(rest, list(provinces()))
    if province is None:
        return None, None, None, rest
    rest = rest[province[1] :].lstrip()
    name = province[0]
    cities = list(provinces()[name].cities)
    city_match = _longest_prefix(rest, cities)
    if city_match is None and is_municipality(name):
        city_match = (name, 0)
    if city_match is None:
        return name, None, None, rest
    rest = rest[city_match[1] :].lstrip()
    district_match = _longest_prefix(rest, provinces()[name].cities[city_match[0]])
    if district_match is None:
        return name, city_match[0], None, rest
    return name, city_match[0], district_match[0], rest[district_match[1] :].lstrip()


def _longest_prefix(text: str, candidates: list[str] | tuple[str, ...]) -> tuple[str, int] | None:
    """The candidate ``text`` starts with (full name first, then short name) and its length."""
    best: tuple[str, int] | None = None
    for candidate in candidates:
        for form in (candidate, short_name(candidate)):
            if text.startswith(form) and (best is None or len(form) > best[1]):
                best = (candidate, len(form))
    return best
