"""The tokens keyword search stores and looks up: bigrams per field, pinyin keys of the title."""

from __future__ import annotations

from engine.schema.search_text import PINYIN_COLUMN, SEARCH_COLUMN, bigrams, pinyin_keys, search_values
from form_engine import EntityDef


def test_bigrams_are_neighbouring_letters_or_digits_without_repeats() -> None:
    assert bigrams("华为华为") == ["华为", "为华"]
    assert bigrams("Ab c-12") == ["ab", "12"]
    assert bigrams("a") == []


def test_pinyin_keys_hold_initials_and_full_syllables() -> None:
    assert pinyin_keys("华为") == "hw huawei"
    assert pinyin_keys("华为 Mate60") == "hwmate60 huaweimate60"


def test_pinyin_keys_give_every_reading_of_a_polyphonic_surname() -> None:
    keys = pinyin_keys("单田芳").split()
    for key in ("dtf", "dantianfang", "stf", "shantianfang"):
        assert key in keys


def test_search_values_tag_each_field_and_skip_other_types() -> None:
    entity = EntityDef.model_validate(
        {
            "name": "thing",
            "label": {"zh": "物", "en": "Thing"},
            "title_field": "name",
            "fields": [
                {"name": "name", "type": "text", "label": {"zh": "名", "en": "Name"}},
                {"name": "memo", "type": "long_text", "label": {"zh": "备注", "en": "Memo"}},
                {"name": "size", "type": "integer", "label": {"zh": "大小", "en": "Size"}},
            ],
        }
    )
    values = search_values(entity, {"name": "华为", "memo": "华为", "size": 12})
    tokens = (values[SEARCH_COLUMN] or "").split()
    assert len([t for t in tokens if t.endswith("华为")]) == 2  # one per field, tagged apart
    assert len({t[:3] for t in tokens if t.endswith("华为")}) == 2
    assert not any(t.endswith("12") for t in tokens)
    assert values[PINYIN_COLUMN] == "hw huawei"
    assert search_values(entity, {}) == {SEARCH_COLUMN: None, PINYIN_COLUMN: None}
