"""Places in China by administrative division: a postal ``address`` and a ``region``.

Both check every level against the bundled list (:mod:`form_engine.regions`) and keep the
GB/T 2260 codes beside the names, so SQL can group by province, city or district code. A
``region`` stores just the code of the smallest division named, which rules compare by names and
groupings (``region in ['华东']``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator

import rule_engine
from form_engine import regions
from form_engine.column_types import json_column
from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages
from form_engine.regions import LEVELS, Division, Level
from form_engine.text_folding import fold_text

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "invalid_address": {
            "zh": "{label}应为地址对象 {{province, city, district, detail}} 或地址文本，收到 {value}",
            "en": "{label} must be an address {{province, city, district, detail}} or address text, "
            "got {value}",
        },
        "invalid_region": {
            "zh": "{label}应为行政区划代码、名称（如“上海浦东”）或对象 {{province, city, district}}，"
            "收到 {value}",
            "en": "{label} must be a division code, a name such as 上海浦东, or {{province, city, "
            "district}}, got {value}",
        },
        "unknown_region": {
            "zh": "{label}中的{level} {value} 不存在{within}",
            "en": "{label}: there is no {level} {value}{within}",
        },
        "ambiguous_region": {
            "zh": "{label}：{value} 不止一处（{candidates}），请连同上一级名称一起填写",
            "en": "{label}: {value} names more than one place ({candidates}); add the name above it",
        },
        "region_incomplete": {
            "zh": "{label}需要填写到{level}",
            "en": "{label} must name the {level}",
        },
        "region_too_deep": {
            "zh": "{label}最多填写到{level}",
            "en": "{label} names places down to the {level} at most",
        },
    }
)

LEVEL_NAMES = {
    "province": {"zh": "省份", "en": "province"},
    "city": {"zh": "城市", "en": "city"},
    "district": {"zh": "区县", "en": "district"},
}
Chain = tuple[Division | None, Division | None, Division | None]


def _unknown(level: Level, value: str, within: Division | None = None) -> FieldValueError:
    where = within.name if within is not None else None
    return FieldValueError(
        "unknown_region",
        level=LEVEL_NAMES[level],
        value=value,
        within={"zh": f"（{where}）", "en": f" in {where}"} if where else {"zh": "", "en": ""},
    )


def _text_or_none(value: Any, error: FieldValueError) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise error
    return value.strip()


def resolve_parts(value: dict[str, Any], error: FieldValueError) -> Chain:
    """Province, city and district named by ``value``'s names and/or ``*_code`` keys.

    Codes, when given, decide; a name given beside a code must name the same division. Without
    codes the names are resolved level by level.
    """
    names = [_text_or_none(value.get(level), error) for level in LEVELS]
    codes = [_text_or_none(value.get(f"{level}_code"), error) for level in LEVELS]
    chain: list[Division | None] = [None, None, None]
    deepest = max((i for i, c in enumerate(codes) if c), default=None)
    if deepest is not None:
        found = regions.division(codes[deepest])
        if found is None or found.level != LEVELS[deepest]:
            raise _unknown(LEVELS[deepest], codes[deepest])
        chain = list(regions.lineage(found.code))
        for i, code in enumerate(codes):
            at = chain[i]
            if code and (at is None or at.code != code):
                raise _unknown(LEVELS[i], code, chain[i - 1] if i else None)
    for i, name in enumerate(names):
        if not name:
            continue
        if i == 2:
            chain[:] = with_municipal_city((chain[0], chain[1], chain[2]))
        parent = chain[i - 1] if i else None
        if i and parent is None:
            raise FieldValueError("region_incomplete", level=LEVEL_NAMES[LEVELS[i - 1]])
        named = regions.resolve(parent.code if parent else None, name)
        if named is None or (chain[i] is not None and chain[i] != named):
            raise _unknown(LEVELS[i], name, parent)
        chain[i] = named
    return chain[0], chain[1], chain[2]


def with_municipal_city(chain: Chain) -> Chain:
    """A municipality's one city filled in when only the province was named (上海 -> 上海市/上海市)."""
    province, city, district = chain
    if city is None and province is not None and regions.is_municipality(province):
        return province, regions.children(province.code)[0], district
    return chain


def check_levels(chain: Chain, required: Level, deepest: Level = "district") -> None:
    """Every level down to ``required`` is named (where the list has it: 东莞 has no districts),
    none below ``deepest``."""
    for i in range(LEVELS.index(required) + 1):
        if chain[i] is None:
            above = chain[i - 1] if i else None
            if above is not None and not regions.children(above.code):
                break
            raise FieldValueError("region_incomplete", level=LEVEL_NAMES[required])
    if any(chain[i] is not None for i in range(LEVELS.index(deepest) + 1, len(LEVELS))):
        raise FieldValueError("region_too_deep", level=LEVEL_NAMES[deepest])


def chain_text(chain: Chain) -> str:
    """``上海市浦东新区``: a municipality's city is not repeated."""
    province, city, district = chain
    parts = [
        province,
        None if city is not None and province is not None and city.name == province.name else city,
    ]
    return "".join(d.name for d in (*parts, district) if d is not None)


class AddressConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: The smallest division that must be filled in.
    level: Level = "city"
    #: Whether a street address (``detail``) is asked for.
    detail: bool = True
    max_detail_length: int = Field(default=200, ge=1, le=1000)


_ADDRESS_KEYS = frozenset({"detail", *LEVELS, *(f"{level}_code" for level in LEVELS)})


def compile_address(config: AddressConfig) -> Coercer:
    def run(value: Any) -> Any:
        error = FieldValueError("invalid_address", value=value)
        if isinstance(value, str):
            province, city, district, rest = regions.split_address(value)
            if province is None:
                raise error
            chain: Chain = (province, city, district)
            raw_detail: Any = rest
        elif isinstance(value, dict) and set(value) <= _ADDRESS_KEYS:
            chain = resolve_parts(value, error)
            raw_detail = value.get("detail")
        else:
            raise error
        chain = with_municipal_city(chain)
        check_levels(chain, config.level)
        if raw_detail is not None and not isinstance(raw_detail, str):
            raise error
        detail = " ".join((raw_detail or "").split())
        if len(detail) > config.max_detail_length:
            raise FieldValueError("too_long", max=config.max_detail_length, actual=len(detail))
        out: dict[str, Any] = {}
        for level, division in zip(LEVELS, chain, strict=True):
            out[level] = division.name if division else None
            out[f"{level}_code"] = division.code if division else None
        if config.detail:
            out["detail"] = detail or None
        return out

    return run


@register_field_type
class AddressType(FieldType):
    name = "address"
    label = Label(zh="地址", en="Address")
    #: Rules read divisions through region fields; an address object has no DSL type.
    dsl_type = None
    config_model = AddressConfig
    indexable = False
    sortable = False
    stores = (
        "JSON {province, province_code, city, city_code, district, district_code, detail}: "
        "canonical names and GB/T 2260 codes from the bundled list"
    )
    input_notes = (
        "Text such as 上海浦东新区世纪大道100号 is split into its levels; an object may give names, "
        "codes (province_code, city_code, district_code) or both."
    )

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return json_column()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return compile_address(field.config_as(AddressConfig))

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if not value:
            return ""
        parts = [value.get("province"), value.get("city"), value.get("district")]
        if parts[0] is not None and parts[0] == parts[1]:
            parts[1] = None
        text = "".join(p for p in parts if p)
        detail = value.get("detail")
        return f"{text}{detail}" if detail else text

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        nullable_text = {"type": ["string", "null"]}
        return {
            "type": ["object", "string"],
            "properties": {key: nullable_text for key in sorted(_ADDRESS_KEYS)},
            "additionalProperties": False,
        }

    def normalise(self, value: Any, field: FieldDef) -> Any:
        """The divisions (codes, or names of a value stored before codes were) and the folded
        detail (``fold_text``): 北京 and 北京市, 闸北区 and 静安区 are the same place."""
        if value is None:
            return None
        places = tuple(value.get(f"{level}_code") or value.get(level) for level in LEVELS)
        return (*places, fold_text(value.get("detail") or ""))


class RegionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: The smallest division that must be named.
    level: Level = "province"
    #: The smallest division that may be named (a sales region may stop at the city).
    depth: Level = "district"
    #: Named groupings of divisions for rules (``region in ['华东']``); by default the bundled
    #: seven geographic regions plus 港澳台. Members are names or codes of any level.
    groups: dict[str, list[str]] | None = None

    @field_validator("groups")
    @classmethod
    def _known_members(cls, groups: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        for name, members in (groups or {}).items():
            if not name.strip() or not members:
                raise ValueError(f"group {name!r} needs a name and at least one member")
            for member in members:
                if len(regions.find(member)) != 1:
                    raise ValueError(f"group {name!r}: {member!r} names no single division")
        return groups


def region_groups(config: RegionConfig) -> dict[str, tuple[str, ...]]:
    """Group name -> codes of its members."""
    groups = config.groups if config.groups is not None else regions.table().groups
    return {name: tuple(regions.find(m)[0].code for m in members) for name, members in groups.items()}


def parse_region(value: Any, config: RegionConfig) -> str:
    """The code of the smallest division ``value`` names."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    error = FieldValueError("invalid_region", value=value)
    if isinstance(value, str):
        found = regions.find(value)
        if not found:
            raise error
        if len(found) > 1:
            paths = "、".join(chain_text(regions.lineage(d.code)) for d in found[:5])
            raise FieldValueError("ambiguous_region", value=value, candidates=paths)
        chain = regions.lineage(found[0].code)
    elif isinstance(value, dict) and set(value) <= {"code", *LEVELS}:
        code = _text_or_none(value.get("code"), error)
        parts = {k: v for k, v in value.items() if k != "code"}
        if code:
            known = regions.division(code)
            if known is None:
                raise error
            parts[f"{known.level}_code"] = code
        chain = resolve_parts(parts, error)
    else:
        raise error
    if config.depth != "province":
        chain = with_municipal_city(chain)
    check_levels(chain, config.level, config.depth)
    deepest = next(d for d in reversed(chain) if d is not None)
    return deepest.code


@register_field_type
class RegionType(FieldType):
    name = "region"
    label = Label(zh="区域", en="Region")
    config_model = RegionConfig
    stores = (
        "VARCHAR(6): the GB/T 2260 code of the smallest division named (province, city or district); "
        "read as {code, province, city, district}"
    )
    input_notes = (
        "A code (310115), a name or path (上海浦东, 苏州市, 浙江), or {province, city, district} / "
        "{code}. Rules compare it with names and groups: region in ['华东', '苏州'] holds for every "
        "place inside them."
    )

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(6)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        config = field.config_as(RegionConfig)
        return lambda value: parse_region(value, config)

    def to_json(self, value: Any, field: FieldDef) -> Any:
        if value is None:
            return None
        province, city, district = regions.lineage(value)
        return {
            "code": value,
            "province": province.name if province else None,
            "city": city.name if city else None,
            "district": district.name if district else None,
        }

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if value is None else chain_text(regions.lineage(value))

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        nullable_text = {"type": ["string", "null"]}
        return {
            "type": ["object", "string"],
            "properties": {key: nullable_text for key in ("code", *LEVELS)},
            "additionalProperties": False,
        }

    def dsl_entry(self, field: FieldDef) -> rule_engine.CodeTree | None:
        config = field.config_as(RegionConfig)
        groups = region_groups(config)
        key = "cn-divisions:" + json.dumps(groups, ensure_ascii=False, sort_keys=True)
        return rule_engine.CodeTree(key, lambda name: region_prefixes(name, groups))


def region_prefixes(name: str, groups: dict[str, tuple[str, ...]]) -> rule_engine.Resolution:
    """The code prefixes a group, division name or code stands for; else what it might mean."""
    text = name.strip()
    if text in groups:
        return rule_engine.Resolution(tuple(p for c in groups[text] for p in regions.within_prefixes(c)))
    found = regions.find(text)
    if len(found) == 1:
        return rule_engine.Resolution(regions.within_prefixes(found[0].code))
    if found:
        return rule_engine.Resolution(candidates=tuple(chain_text(regions.lineage(d.code)) for d in found))
    return rule_engine.Resolution(nearest=tuple(regions.nearest_names(text, extra=list(groups))))
