"""Map points (latitude and longitude in a stated datum); addresses are in ``divisions``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from form_engine.column_types import json_column
from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "invalid_geolocation": {
            "zh": "{label}应为坐标 {{lat, lng}}（纬度 -90~90，经度 -180~180），收到 {value}",
            "en": "{label} must be a point {{lat, lng}} with latitude -90..90 and longitude -180..180, "
            "got {value}",
        },
    }
)


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
