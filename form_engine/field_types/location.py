"""Places: a Chinese postal address checked against the bundled region list, and map points."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from form_engine import regions
from form_engine.column_types import json_column
from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages
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
        "unknown_region": {
            "zh": "{label}中的{level} {value} 不存在{within}",
            "en": "{label}: there is no {level} {value}{within}",
        },
        "region_incomplete": {
            "zh": "{label}需要填写到{level}",
            "en": "{label} must name the {level}",
        },
        "invalid_geolocation": {
            "zh": "{label}应为坐标 {{lat, lng}}（纬度 -90~90，经度 -180~180），收到 {value}",
            "en": "{label} must be a point {{lat, lng}} with latitude -90..90 and longitude -180..180, "
            "got {value}",
        },
    }
)

_LEVELS = ("province", "city", "district")
_LEVEL_NAMES = {
    "province": {"zh": "省份", "en": "province"},
    "city": {"zh": "城市", "en": "city"},
    "district": {"zh": "区县", "en": "district"},
}


class AddressConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: The smallest division that must be filled in.
    level: Literal["province", "city", "district"] = "city"
    #: Whether a street address (``detail``) is asked for.
    detail: bool = True
    max_detail_length: int = Field(default=200, ge=1, le=1000)


def _unknown(level: str, value: str, within: str | None = None) -> FieldValueError:
    return FieldValueError(
        "unknown_region",
        level=_LEVEL_NAMES[level],
        value=value,
        within={"zh": f"（{within}）", "en": f" in {within}"} if within else {"zh": "", "en": ""},
    )


def compile_address(config: AddressConfig) -> Coercer:
    required = _LEVELS.index(config.level)

    def run(value: Any) -> Any:
        if isinstance(value, str):
            province, city, district, detail = regions.split_address(value)
            if province is None:
                raise FieldValueError("invalid_address", value=value)
            value = {"province": province, "city": city, "district": district, "detail": detail}
        if not isinstance(value, dict) or not set(value) <= {"province", "city", "district", "detail"}:
            raise FieldValueError("invalid_address", value=value)
        parts = [value.get(level) for level in _LEVELS]
        if any(p is not None and not isinstance(p, str) for p in parts):
            raise FieldValueError("invalid_address", value=value)
        texts = [p.strip() if p else "" for p in parts]
        province = city = district = None
        if texts[0]:
            province = regions.resolve_province(texts[0])
            if province is None:
                raise _unknown("province", texts[0])
        if texts[1]:
            if province is None:
                raise FieldValueError("region_incomplete", level=_LEVEL_NAMES["province"])
            city = regions.resolve_city(province, texts[1])
            if city is None:
                raise _unknown("city", texts[1], province)
        elif province is not None and regions.is_municipality(province):
            city = province
        if texts[2]:
            if city is None or province is None:
                raise FieldValueError("region_incomplete", level=_LEVEL_NAMES["city"])
            if regions.districts_known(province, city):
                district = regions.resolve_district(province, city, texts[2])
                if district is None:
                    raise _unknown("district", texts[2], city)
            else:
                district = texts[2]
        filled = [province, city, district]
        for i in range(required + 1):
            if filled[i] is None:
                raise FieldValueError("region_incomplete", level=_LEVEL_NAMES[_LEVELS[required]])
        raw_detail = value.get("detail")
        if raw_detail is not None and not isinstance(raw_detail, str):
            raise FieldValueError("invalid_address", value=value)
        detail = " ".join((raw_detail or "").split())
        if len(detail) > config.max_detail_length:
            raise FieldValueError("too_long", max=config.max_detail_length, actual=len(detail))
        out = {"province": province, "city": city, "district": district}
        if config.detail:
            out["detail"] = detail or None
        return out

    return run


@register_field_type
class AddressType(FieldType):
    name = "address"
    label = Label(zh="地址", en="Address")
    #: Rules read divisions through select fields; an address object has no DSL type.
    dsl_type = None
    config_model = AddressConfig
    indexable = False
    sortable = False
    stores = "JSON {province, city, district, detail} with canonical names from the bundled region list"

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
            "properties": {level: nullable_text for level in (*_LEVELS, "detail")},
            "additionalProperties": False,
        }

    def normalise(self, value: Any, field: FieldDef) -> Any:
        """Canonical divisions (so 北京 = 北京市) plus the folded detail (``fold_text``)."""
        if value is None:
            return None
        detail = fold_text(value.get("detail") or "")
        return (value.get("province"), value.get("city"), value.get("district"), detail)


_POINT_TEXT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*[,，\s]\s*([+-]?\d+(?:\.\d+)?)\s*$")


class GeolocationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Datum of the coordinates: WGS-84 (GPS), GCJ-02 (Chinese maps), BD-09 (Baidu).
    datum: Literal["wgs84", "gcj02", "bd09"] = "gcj02"


def compile_point() -> Coercer:
    def run(value: Any) -> Any:
        if isinstance(value, str):
            match = _POINT_TEXT.match(value)
            if not match:
                raise FieldValueError("invalid_geolocation", value=value)
            value = {"lat": float(match[1]), "lng": float(match[2])}
        if not isinstance(value, dict) or set(value) != {"lat", "lng"}:
            raise FieldValueError("invalid_geolocation", value=value)
        lat, lng = value["lat"], value["lng"]
        try:
            if isinstance(lat, bool) or isinstance(lng, bool):
                raise ValueError
            lat, lng = float(lat), float(lng)
        except (TypeError, ValueError):
            raise FieldValueError("invalid_geolocation", value=value) from None
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise FieldValueError("invalid_geolocation", value=value)
        return {"lat": round(lat, 7), "lng": round(lng, 7)}

    return run


@register_field_type
class GeolocationType(FieldType):
    name = "geolocation"
    label = Label(zh="地理位置", en="Geolocation")
    dsl_type = None
    config_model = GeolocationConfig
    indexable = False
    sortable = False
    stores = "JSON {lat, lng} in degrees (7 decimals); the datum is the field's setting"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return json_column()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return compile_point()

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if value is None else f"{value['lat']:.6f}, {value['lng']:.6f}"

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                "lng": {"type": "number", "minimum": -180, "maximum": 180},
            },
            "required": ["lat", "lng"],
            "additionalProperties": False,
        }

    def normalise(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else (round(value["lat"], 4), round(value["lng"], 4))
