"""Session settings: defaults, partial overrides, bad values, and hyperopt overrides."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from plugins.session_manager.parameters import (
    DEFAULT_PARAMETERS,
    HYPEROPT_RANGES,
    PARAMETER_NAMES,
    SessionParameters,
    apply_overrides,
    hyperopt_parameter_names,
    parameter_columns,
)
from plugins.session_manager.settings import SessionSettings


def test_defaults_follow_the_seed() -> None:
    settings = SessionSettings()
    assert (settings.asia.start, settings.asia.end, settings.asia.timezone) == (
        "00:00",
        "08:00",
        "UTC",
    )
    assert (settings.europe.start, settings.europe.end) == ("08:00", "16:00")
    assert (settings.us.start, settings.us.end) == ("13:00", "21:00")
    assert settings.priority == "latest_open"
    assert settings.parameter_table() == DEFAULT_PARAMETERS
    seed = {
        "asia": (0.15, 0.12, 0.04, 0.8, 25, 15),
        "europe": (0.20, 0.10, 0.05, 1.0, 20, 10),
        "us": (0.25, 0.08, 0.06, 1.2, 15, 8),
    }
    for name, values in seed.items():
        row = DEFAULT_PARAMETERS.row(name)
        assert tuple(getattr(row, p) for p in PARAMETER_NAMES) == values


def test_a_partial_session_block_keeps_that_sessions_other_defaults() -> None:
    settings = SessionSettings.model_validate(
        {"us": {"momentum_threshold": 0.055}, "off": {"position_size_factor": 0.0}}
    )
    assert settings.us.momentum_threshold == 0.055
    assert settings.us.imbalance_threshold == 0.25  # the US default, not another session's
    assert (settings.us.start, settings.us.end) == ("13:00", "21:00")
    assert settings.off.position_size_factor == 0.0
    assert settings.off.take_profit_bps == 25.0


def test_exchange_preset_and_partial_hours() -> None:
    settings = SessionSettings.model_validate(
        {"hours_preset": "exchange", "asia": {"end": "15:00"}}
    )
    assert (settings.asia.start, settings.asia.end, settings.asia.timezone) == (
        "09:00",
        "15:00",
        "Asia/Tokyo",
    )
    assert settings.europe.timezone == "Europe/London"
    assert (settings.us.start, settings.us.end, settings.us.timezone) == (
        "09:30",
        "16:00",
        "America/New_York",
    )


def test_integers_are_accepted_for_float_settings() -> None:
    assert SessionSettings.model_validate({"us": {"take_profit_bps": 18}}).us.take_profit_bps == 18


def test_wrapping_and_all_day_windows_are_valid() -> None:
    settings = SessionSettings.model_validate(
        {"asia": {"start": "22:00", "end": "02:00"}, "us": {"start": "00:00", "end": "24:00"}}
    )
    assert settings.schedule().windows["asia"].wraps_midnight


BAD_SETTINGS: list[tuple[dict[str, Any], tuple[str, ...]]] = [
    # unknown keys
    ({"sessions": {}}, ("sessions", "Extra inputs are not permitted")),
    ({"us": {"momentum": 0.1}}, ("us.momentum", "Extra inputs")),
    ({"off": {"start": "21:00"}}, ("off.start", "Extra inputs")),
    # wrong types
    ({"us": {"momentum_threshold": "high"}}, ("us.momentum_threshold", "high")),
    ({"us": {"momentum_threshold": "0.05"}}, ("us.momentum_threshold", "0.05")),
    ({"europe": {"position_size_factor": True}}, ("europe.position_size_factor", "True")),
    ({"asia": "00:00-08:00"}, ("asia", "00:00-08:00")),
    ({"asia": {"start": 8}}, ("asia.start", "8")),
    ({"priority": 5}, ("priority", "5")),
    # out of range
    ({"europe": {"imbalance_threshold": 1.5}}, ("europe.imbalance_threshold", "1.5")),
    ({"off": {"position_size_factor": -0.1}}, ("off.position_size_factor", "-0.1")),
    ({"us": {"position_size_factor": 2.5}}, ("us.position_size_factor", "2.5")),
    ({"us": {"take_profit_bps": 0}}, ("us.take_profit_bps", "greater than 0")),
    ({"asia": {"stop_loss_bps": 5000}}, ("asia.stop_loss_bps", "5000")),
    # malformed or invalid hours
    ({"asia": {"start": "25:00"}}, ("asia.start", "25:00")),
    ({"asia": {"start": "8:00"}}, ("asia.start", "8:00")),
    ({"asia": {"start": "24:00"}}, ("asia.start", "24:00", "end of a window")),
    ({"asia": {"end": "08:61"}}, ("asia.end", "08:61")),
    ({"europe": {"start": "10:00", "end": "10:00"}}, ("europe", "same start and end")),
    # time zones
    ({"us": {"timezone": "America/New_Yrok"}}, ("us.timezone", "America/New_Yrok")),
    ({"us": {"timezone": "EST5EDT/x"}}, ("us.timezone", "EST5EDT/x")),
    ({"hours_preset": "tokyo"}, ("hours_preset", "tokyo")),
    # priority lists
    ({"priority": ["us", "europe", "asai"]}, ("priority", "asai", "unknown session")),
    ({"priority": ["us", "europe", "off"]}, ("priority", "'off'", "unknown session")),
    ({"priority": ["us", "us", "asia"]}, ("priority", "more than once", "us")),
    ({"priority": ["us", "europe"]}, ("priority", "missing", "asia")),
    ({"priority": "earliest_open"}, ("priority", "earliest_open")),
]


@pytest.mark.parametrize(("raw", "expected"), BAD_SETTINGS, ids=[str(r) for r, _ in BAD_SETTINGS])
def test_bad_settings_name_the_key_and_value(
    raw: dict[str, Any], expected: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as caught:
        SessionSettings.model_validate(raw)
    text = str(caught.value)
    for fragment in expected:
        assert fragment in text, f"{fragment!r} missing from:\n{text}"


# -- hyperopt overrides ------------------------------------------------------------------------


def test_overrides_apply_and_leave_the_input_table_alone() -> None:
    table = apply_overrides(
        DEFAULT_PARAMETERS, {"us.momentum_threshold": 0.055, "off.position_size_factor": 0}
    )
    assert table.us.momentum_threshold == 0.055
    assert table.off.position_size_factor == 0.0
    assert table.us.imbalance_threshold == DEFAULT_PARAMETERS.us.imbalance_threshold
    assert DEFAULT_PARAMETERS.us.momentum_threshold == 0.06
    assert apply_overrides(DEFAULT_PARAMETERS, {}) == DEFAULT_PARAMETERS


def test_overrides_take_freqtrade_hyperopt_parameters() -> None:
    from freqtrade.strategy import DecimalParameter

    momentum = DecimalParameter(0.01, 0.15, default=0.055, decimals=3, space="buy")
    table = apply_overrides(DEFAULT_PARAMETERS, {"us.momentum_threshold": momentum})
    assert table.us.momentum_threshold == 0.055


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"us_momentum_threshold": 0.05}, "us_momentum_threshold"),
        ({"eu.momentum_threshold": 0.05}, "unknown session 'eu'"),
        ({"us.momentum": 0.05}, "unknown parameter 'momentum'"),
        ({"us.momentum_threshold": "0.05"}, "us.momentum_threshold"),
        ({"us.momentum_threshold": 1.5}, r"us\.momentum_threshold=1\.5"),
        ({"asia.take_profit_bps": -1}, r"asia\.take_profit_bps=-1"),
    ],
)
def test_bad_overrides_name_the_key(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        apply_overrides(DEFAULT_PARAMETERS, overrides)


def test_hyperopt_ranges_are_valid_and_contain_every_default() -> None:
    names = hyperopt_parameter_names()
    assert len(names) == 3 * len(PARAMETER_NAMES)
    assert "us.momentum_threshold" in names
    assert set(HYPEROPT_RANGES) == set(PARAMETER_NAMES)
    for name, bounds in HYPEROPT_RANGES.items():
        assert bounds.low < bounds.high
        for label in ("asia", "europe", "us", "off"):
            default = getattr(DEFAULT_PARAMETERS.row(label), name)
            assert bounds.low <= default <= bounds.high, (name, label)
        # both ends of every range pass validation
        for end in (bounds.low, bounds.high):
            apply_overrides(DEFAULT_PARAMETERS, {f"europe.{name}": end})


def test_parameter_columns_follow_codes_and_overrides() -> None:
    table = apply_overrides(DEFAULT_PARAMETERS, {"us.stop_loss_bps": 7})
    columns = parameter_columns(np.array([0, 1, 2, 3, 3]), table)
    assert list(columns["session_stop_loss_bps"]) == [15, 15, 10, 7, 7]
    # float codes (e.g. after a merge) work when integral; other input is refused
    assert list(parameter_columns(np.array([3.0]), table)["session_stop_loss_bps"]) == [7]
    with pytest.raises(ValueError, match=r"0\.\.3"):
        parameter_columns(np.array([4]), table)
    with pytest.raises(ValueError, match="integers"):
        parameter_columns(np.array([np.nan]), table)


def test_session_parameters_model_is_strict() -> None:
    with pytest.raises(ValidationError, match="imbalance_threshold"):
        SessionParameters.model_validate(
            {**DEFAULT_PARAMETERS.us.model_dump(), "imbalance_threshold": None}
        )
