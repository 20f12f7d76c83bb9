"""Text people type differently for the same name folds to one form: the key duplicates match on."""

from __future__ import annotations

import pytest

from form_engine import fold_text


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [
        ("腾讯科技（深圳）有限公司", "腾讯科技(深圳)有限公司"),
        ("腾讯科技【深圳】有限公司", "腾讯科技(深圳)有限公司"),
        ("腾讯 科技", "腾讯科技"),
        ("腾讯\u3000科技", "腾讯科技"),
        ("ＡＣＭＥ　Ｌｔｄ", "acme ltd"),
        ("ACME  Ltd", "acme ltd"),
        ("Acme Co., Ltd.", "ACME CO.,LTD."),
        ("Acme Co，Ltd。", "acme co,ltd."),
        ("上海、北京", "上海,北京"),
        ("迈克尔•乔丹", "迈克尔·乔丹"),
        ("迈克尔・乔丹", "迈克尔·乔丹"),
        ("迈克尔‧乔丹", "迈克尔·乔丹"),
        ("“Acme”", '"acme"'),
        ("「Acme」", '"acme"'),
        ("O’Brien", "o'brien"),
        ("Coca—Cola", "coca-cola"),
        ("Coca－Cola", "coca-cola"),
        ("Ac\u200bme\ufeff", "acme"),
        ("１２３号", "123号"),
        ("Straße", "STRASSE"),
    ],
)
def test_variants_fold_together(typed: str, same_as: str) -> None:
    assert fold_text(typed) == fold_text(same_as)


@pytest.mark.parametrize(("one", "other"), [("腾讯", "腾迅"), ("acme", "acne"), ("a-b", "ab"), ("(a)", "a")])
def test_different_names_stay_different(one: str, other: str) -> None:
    assert fold_text(one) != fold_text(other)
