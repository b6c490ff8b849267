"""TA-Lib candlestick selection (recorded BTC 5m candles)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from pydantic import ValidationError

from plugins.patterns import PatternSettings, compute_pattern_columns
from plugins.patterns.settings import candlestick_column, normalise_candlestick_name


def test_selected_candlesticks_become_sign_columns(btc_5m: pd.DataFrame) -> None:
    seg = btc_5m.iloc[:3000]
    settings = PatternSettings.model_validate(
        {"candlesticks": ["engulfing", "CDLHammer", "CDL3BLACKCROWS", "CDLHIKKAKE"]}
    )
    out = compute_pattern_columns(seg, settings)
    cdl = [c for c in out.columns if c.startswith("cdl_")]
    assert cdl == ["cdl_engulfing", "cdl_hammer", "cdl_3blackcrows", "cdl_hikkake"]
    o, h, lo, c = (seg[x].to_numpy() for x in ("open", "high", "low", "close"))
    for col, fn in zip(
        cdl, ["CDLENGULFING", "CDLHAMMER", "CDL3BLACKCROWS", "CDLHIKKAKE"], strict=True
    ):
        expected = np.sign(getattr(talib, fn)(o, h, lo, c))
        np.testing.assert_array_equal(out[col].to_numpy(), expected)
        assert set(np.unique(out[col])) <= {-1, 0, 1}
    assert (out["cdl_engulfing"] != 0).sum() > 0  # the real data does contain engulfings


def test_no_candlesticks_when_none_selected(btc_5m: pd.DataFrame) -> None:
    out = compute_pattern_columns(
        btc_5m.iloc[:500], PatternSettings.model_validate({"candlesticks": []})
    )
    assert not [c for c in out.columns if c.startswith("cdl_")]


def test_names_are_normalised_and_deduplicated() -> None:
    assert normalise_candlestick_name(" doji ") == "CDLDOJI"
    assert candlestick_column("CDLMORNINGSTAR") == "cdl_morningstar"
    s = PatternSettings.model_validate({"candlesticks": ["doji", "CDLDOJI"]})
    assert s.candlesticks == ["CDLDOJI"]


def test_unknown_candlestick_name_is_named_in_the_error() -> None:
    with pytest.raises(ValidationError, match="CDLBANANA"):
        PatternSettings.model_validate({"candlesticks": ["engulfing", "CDLBANANA"]})
    with pytest.raises(ValueError, match="'SMA'"):
        normalise_candlestick_name("SMA")  # a TA-Lib function, but not a pattern
