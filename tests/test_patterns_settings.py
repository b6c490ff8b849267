"""Settings validation: bad settings give clear errors naming the bad key or value."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from plugins.patterns import PATTERN_NAMES, PatternSettings


def test_defaults_are_valid_and_enable_every_pattern() -> None:
    s = PatternSettings()
    assert s.chart.patterns == list(PATTERN_NAMES)
    assert s.swings.method == "fractal"
    assert PatternSettings.model_validate({}) == s


@pytest.mark.parametrize(
    ("block", "named"),
    [
        ({"swing_width": 3}, "swing_width"),  # unknown top-level key
        ({"chart": {"tolerance": 0.1}}, "tolerance"),  # unknown nested key
        ({"swings": {"fractal_bars": "5"}}, "fractal_bars"),  # wrong type (strict)
        ({"swings": {"fractal_bars": 2.5}}, "fractal_bars"),
        ({"notify": "yes"}, "notify"),
        ({"swings": {"fractal_bars": 0}}, "fractal_bars"),  # out of range
        ({"swings": {"method": "zigzag"}}, "zigzag"),
        ({"chart": {"level_tolerance": 1.5}}, "level_tolerance"),
        ({"anomalies": {"volume_window": 2}}, "volume_window"),
        ({"anomalies": {"range_ratio": -1.0}}, "range_ratio"),
        ({"chart": {"patterns": ["double_top", "cup_and_handle"]}}, "cup_and_handle"),
        ({"candlesticks": ["CDLNOPE"]}, "CDLNOPE"),
        ({"chart": {"min_pattern_bars": 50, "max_pattern_bars": 40}}, "max_pattern_bars"),
        ({"chart": {"sr_min_touches": 5, "sr_lookback": 3}}, "sr_min_touches"),
    ],
)
def test_bad_settings_name_the_offender(block: dict, named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        PatternSettings.model_validate(block)


def test_settings_are_frozen() -> None:
    s = PatternSettings()
    with pytest.raises(ValidationError):
        s.notify = False  # type: ignore[misc]
