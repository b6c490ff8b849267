"""Trading sessions: classification, daylight saving, overlaps, columns and the plugin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.session_manager.clock import format_clock_time, parse_clock_time, seconds_of_day
from plugins.session_manager.columns import SESSION_COLUMNS, session_columns
from plugins.session_manager.parameters import DEFAULT_PARAMETERS
from plugins.session_manager.plugin import SessionPlugin
from plugins.session_manager.schedule import (
    SessionSchedule,
    SessionWindow,
    classify_sessions,
    session_at,
)
from plugins.session_manager.settings import SessionSettings

MINUTES_PER_WEEK = 7 * 24 * 60


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def minutes(start: str, count: int) -> pd.DatetimeIndex:
    return pd.date_range(utc(start), periods=count, freq="1min")


def labels_at(stamps: list[str], settings: SessionSettings) -> list[str]:
    index = pd.DatetimeIndex([utc(s) for s in stamps])
    return list(classify_sessions(index, settings.schedule()).labels)


# -- an independent per-minute reference -----------------------------------------------------


def reference_classification(
    moment: datetime, config: dict[str, tuple[str, str, str]], priority: str | list[str]
) -> tuple[str, set[str]]:
    """Straightforward scalar classification of one instant, written apart from the library.

    ``config`` maps session -> (start "HH:MM", end "HH:MM", time zone).
    """
    open_sessions: dict[str, int] = {}
    for name, (start, end, zone) in config.items():
        local = moment.astimezone(ZoneInfo(zone))
        now = local.hour * 60 + local.minute
        begin = int(start[:2]) * 60 + int(start[3:])
        finish = int(end[:2]) * 60 + int(end[3:])
        # a window whose end is before its start wraps midnight
        is_open = (begin <= now < finish) if begin < finish else (now >= begin or now < finish)
        if is_open:
            open_sessions[name] = (now - begin) % 1440  # minutes since it opened
    if not open_sessions:
        return "off", set()
    if priority == "latest_open":
        order = ["asia", "europe", "us"]
        best = min(open_sessions, key=lambda n: (open_sessions[n], -order.index(n)))
    else:
        best = next(name for name in priority if name in open_sessions)
    return best, set(open_sessions)


def assert_week_matches_reference(settings: SessionSettings, first_minute: str) -> None:
    index = minutes(first_minute, MINUTES_PER_WEEK)
    config = {
        name: (
            getattr(settings, name).start,
            getattr(settings, name).end,
            getattr(settings, name).timezone,
        )
        for name in ("asia", "europe", "us")
    }
    frame = session_columns(index, settings.schedule(), settings.parameter_table())
    expected = [
        reference_classification(ts.to_pydatetime(), config, settings.priority) for ts in index
    ]
    expected_label = np.array([label for label, _ in expected], dtype=object)
    mismatched = np.flatnonzero(frame["session"].to_numpy(dtype=object) != expected_label)
    assert mismatched.size == 0, (
        f"{mismatched.size} minutes differ, first at {index[mismatched[0]]}: "
        f"got {frame['session'].iloc[mismatched[0]]}, expected {expected_label[mismatched[0]]}"
    )
    for name in ("asia", "europe", "us"):
        want = np.array([name in members for _, members in expected], dtype=np.int64)
        np.testing.assert_array_equal(frame[f"session_{name}"].to_numpy(), want, err_msg=name)
    want_overlap = np.array([len(members) >= 2 for _, members in expected], dtype=np.int64)
    np.testing.assert_array_equal(frame["session_overlap"].to_numpy(), want_overlap)


# -- clock strings -----------------------------------------------------------------------------


def test_clock_times_parse_and_format() -> None:
    assert parse_clock_time("00:00") == 0
    assert parse_clock_time("09:30") == 34_200
    assert parse_clock_time("24:00", allow_end_of_day=True) == 86_400
    assert format_clock_time(34_200) == "09:30"
    for bad in ("24:00", "25:00", "8:00", "12:60", "noon", "12:00:00"):
        with pytest.raises(ValueError, match=bad):
            parse_clock_time(bad)


def test_naive_or_missing_dates_are_refused() -> None:
    schedule = SessionSettings().schedule()
    with pytest.raises(ValueError, match="timezone-aware"):
        classify_sessions(pd.date_range("2024-01-01", periods=3, freq="h"), schedule)
    with pytest.raises(ValueError, match="NaT"):
        classify_sessions(pd.DatetimeIndex([utc("2024-01-01"), pd.NaT]), schedule)


def test_non_utc_aware_dates_are_the_same_instants() -> None:
    schedule = SessionSettings().schedule()
    # 09:00 in New York in January is 14:00 UTC: Europe and US overlap, US governs.
    assert session_at(pd.Timestamp("2024-01-10 09:00", tz="America/New_York"), schedule) == "us"
    assert session_at(utc("2024-01-10 14:00"), schedule) == "us"


def test_any_datetime_resolution_gives_the_same_result() -> None:
    index = pd.date_range(utc("2024-05-01"), periods=2000, freq="7min")
    schedule = SessionSettings(hours_preset="exchange").schedule()
    expected = classify_sessions(index.as_unit("ns"), schedule).code
    for unit in ("s", "ms", "us"):
        np.testing.assert_array_equal(
            classify_sessions(index.as_unit(unit), schedule).code, expected
        )


# -- the seed's UTC table ----------------------------------------------------------------------


def expected_utc_label(hour: int) -> str:
    """The documented default table: Asia 0-8, Europe 8-13, US 13-21 (wins 13-16), off 21-24."""
    if hour < 8:
        return "asia"
    if hour < 13:
        return "europe"
    if hour < 21:
        return "us"
    return "off"


def test_every_minute_of_a_week_follows_the_default_utc_table() -> None:
    index = minutes("2024-02-05 00:00", MINUTES_PER_WEEK)
    frame = session_columns(index, SessionSettings().schedule(), DEFAULT_PARAMETERS)
    hours = index.hour.to_numpy()
    want = np.array([expected_utc_label(h) for h in hours], dtype=object)
    np.testing.assert_array_equal(frame["session"].to_numpy(dtype=object), want)
    np.testing.assert_array_equal(frame["session_asia"], (hours < 8).astype(int))
    np.testing.assert_array_equal(frame["session_europe"], ((hours >= 8) & (hours < 16)))
    np.testing.assert_array_equal(frame["session_us"], ((hours >= 13) & (hours < 21)))
    np.testing.assert_array_equal(frame["session_overlap"], ((hours >= 13) & (hours < 16)))
    codes = {"off": 0, "asia": 1, "europe": 2, "us": 3}
    np.testing.assert_array_equal(frame["session_code"], [codes[x] for x in want])
    # the parameter columns are the governing session's row of the table
    for label in ("asia", "europe", "us", "off"):
        rows = frame[frame["session"] == label]
        assert len(rows) > 0
        params = DEFAULT_PARAMETERS.row(label)
        assert (rows["session_momentum_threshold"] == params.momentum_threshold).all()
        assert (rows["session_position_size_factor"] == params.position_size_factor).all()
        assert (rows["session_take_profit_bps"] == params.take_profit_bps).all()
        assert (rows["session_stop_loss_bps"] == params.stop_loss_bps).all()


def test_seed_parameter_values_reach_the_columns() -> None:
    stamps = ["2024-02-05 03:00", "2024-02-05 10:00", "2024-02-05 14:00", "2024-02-05 22:00"]
    frame = session_columns(
        pd.DatetimeIndex([utc(s) for s in stamps]), SessionSettings().schedule(), DEFAULT_PARAMETERS
    )
    assert list(frame["session"]) == ["asia", "europe", "us", "off"]
    assert list(frame["session_imbalance_threshold"]) == [0.15, 0.20, 0.25, 0.15]
    assert list(frame["session_volatility_threshold"]) == [0.12, 0.10, 0.08, 0.12]
    assert list(frame["session_momentum_threshold"]) == [0.04, 0.05, 0.06, 0.04]
    assert list(frame["session_position_size_factor"]) == [0.8, 1.0, 1.2, 0.5]
    assert list(frame["session_take_profit_bps"]) == [25, 20, 15, 25]
    assert list(frame["session_stop_loss_bps"]) == [15, 10, 8, 15]


def test_boundaries_belong_to_the_session_that_opens() -> None:
    stamps = [
        "2024-02-05 07:59",
        "2024-02-05 08:00",
        "2024-02-05 12:59",
        "2024-02-05 13:00",
        "2024-02-05 15:59",
        "2024-02-05 16:00",
        "2024-02-05 20:59",
        "2024-02-05 21:00",
        "2024-02-05 23:59",
        "2024-02-06 00:00",
    ]
    assert labels_at(stamps, SessionSettings()) == [
        "asia",
        "europe",
        "europe",
        "us",
        "us",
        "us",
        "us",
        "off",
        "off",
        "asia",
    ]


# -- priority rule -----------------------------------------------------------------------------


def test_priority_list_changes_who_governs_the_overlap() -> None:
    stamps = ["2024-02-05 12:00", "2024-02-05 14:00", "2024-02-05 17:00"]
    assert labels_at(stamps, SessionSettings()) == ["europe", "us", "us"]
    europe_first = SessionSettings(priority=["europe", "us", "asia"])
    assert labels_at(stamps, europe_first) == ["europe", "europe", "us"]


def test_latest_open_picks_the_most_recent_opening_across_midnight() -> None:
    # Asia wraps 22:00-06:00 and Europe runs 05:00-12:00: from 05:00 to 06:00 both are open
    # and Europe opened last; Asia governs 22:00-05:00 even though it opened "yesterday".
    cfg = SessionSettings(
        asia={"start": "22:00", "end": "06:00"}, europe={"start": "05:00", "end": "12:00"}
    )
    assert labels_at(
        [
            "2024-02-05 21:59",
            "2024-02-05 22:00",
            "2024-02-06 04:59",
            "2024-02-06 05:00",
            "2024-02-06 05:59",
            "2024-02-06 06:00",
        ],
        cfg,
    ) == ["off", "asia", "asia", "europe", "europe", "europe"]


def test_identical_openings_go_to_the_session_later_in_the_list() -> None:
    cfg = SessionSettings(europe={"start": "13:00", "end": "15:00"})
    assert labels_at(["2024-02-05 13:00", "2024-02-05 14:59"], cfg) == ["us", "us"]


def test_a_whole_day_session_is_always_open() -> None:
    cfg = SessionSettings(asia={"start": "00:00", "end": "24:00"})
    frame = session_columns(minutes("2024-02-05", 1440), cfg.schedule(), cfg.parameter_table())
    assert frame["session_asia"].all()
    assert not (frame["session"] == "off").any()
    # asia opened at midnight, so the later openings win while they are open
    assert (frame["session"].iloc[8 * 60 : 13 * 60] == "europe").all()


# -- midnight wrap -----------------------------------------------------------------------------


def test_midnight_wrap_week_matches_reference() -> None:
    cfg = SessionSettings(
        asia={"start": "22:00", "end": "02:00"},
        europe={"start": "01:00", "end": "09:00", "timezone": "Europe/London"},
        us={"start": "23:30", "end": "03:15", "timezone": "America/New_York"},
    )
    assert labels_at(
        ["2024-02-05 21:59", "2024-02-05 22:00", "2024-02-06 01:59", "2024-02-06 02:00"],
        SessionSettings(asia={"start": "22:00", "end": "02:00"}),
    ) == ["off", "asia", "asia", "off"]
    assert_week_matches_reference(cfg, "2024-03-08 00:00")
    assert_week_matches_reference(
        cfg.model_copy(update={"priority": ["asia", "us", "europe"]}), "2024-10-24 00:00"
    )


# -- daylight saving ---------------------------------------------------------------------------


def us_open_minutes(day: str) -> tuple[str, str]:
    """First and last UTC minute of the New York session (09:30-16:00 local) on ``day``."""
    frame = session_columns(
        minutes(f"{day} 00:00", 1440),
        SessionSettings(hours_preset="exchange").schedule(),
        DEFAULT_PARAMETERS,
    )
    idx = np.flatnonzero(frame["session_us"].to_numpy())
    stamps = minutes(f"{day} 00:00", 1440)
    return stamps[idx[0]].strftime("%H:%M"), stamps[idx[-1]].strftime("%H:%M")


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        ("2024-03-09", "14:30", "20:59"),  # EST, UTC-5
        ("2024-03-10", "13:30", "19:59"),  # DST began 02:00 local that morning: EDT, UTC-4
        ("2024-11-02", "13:30", "19:59"),  # EDT
        ("2024-11-03", "14:30", "20:59"),  # DST ended 02:00 local that morning: EST
    ],
)
def test_new_york_session_follows_daylight_saving(day: str, first: str, last: str) -> None:
    assert us_open_minutes(day) == (first, last)


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        ("2024-03-30", "08:00", "16:29"),  # GMT
        ("2024-03-31", "07:00", "15:29"),  # BST from 01:00 UTC
        ("2024-10-26", "07:00", "15:29"),  # BST
        ("2024-10-27", "08:00", "16:29"),  # GMT again from 01:00 UTC
    ],
)
def test_london_session_follows_daylight_saving(day: str, first: str, last: str) -> None:
    stamps = minutes(f"{day} 00:00", 1440)
    frame = session_columns(
        stamps, SessionSettings(hours_preset="exchange").schedule(), DEFAULT_PARAMETERS
    )
    idx = np.flatnonzero(frame["session_europe"].to_numpy())
    assert (stamps[idx[0]].strftime("%H:%M"), stamps[idx[-1]].strftime("%H:%M")) == (first, last)
    assert idx[-1] - idx[0] + 1 == idx.size == 510  # 8.5 hours, in one piece


def test_a_window_across_the_clock_change_itself() -> None:
    """01:00-03:00 New York: one hour on the spring-forward night, three on fall-back night."""
    cfg = SessionSettings(us={"start": "01:00", "end": "03:00", "timezone": "America/New_York"})
    for day, utc_open, expected_minutes in (
        ("2024-03-10", "06:00", 60),
        ("2024-11-03", "05:00", 180),
    ):
        stamps = minutes(f"{day} 00:00", 1440)
        frame = session_columns(stamps, cfg.schedule(), cfg.parameter_table())
        idx = np.flatnonzero(frame["session_us"].to_numpy())
        assert stamps[idx[0]].strftime("%H:%M") == utc_open
        assert idx.size == expected_minutes
        assert idx[-1] - idx[0] + 1 == idx.size


def test_seconds_of_day_on_local_clocks() -> None:
    index = pd.DatetimeIndex([utc("2024-03-10 06:59"), utc("2024-03-10 07:00")])
    np.testing.assert_array_equal(
        seconds_of_day(index, "America/New_York"), [1 * 3600 + 59 * 60, 3 * 3600]
    )
    np.testing.assert_array_equal(seconds_of_day(index, "UTC"), [6 * 3600 + 59 * 60, 7 * 3600])


@pytest.mark.parametrize(
    "first_minute", ["2024-03-08 00:00", "2024-03-28 00:00", "2024-10-25 00:00", "2024-11-01 00:00"]
)
def test_exchange_hours_week_matches_reference_around_dst(first_minute: str) -> None:
    """Every minute of a week spanning a clock change, against the scalar reference."""
    assert_week_matches_reference(SessionSettings(hours_preset="exchange"), first_minute)


def test_between_the_us_and_uk_clock_changes_the_overlap_moves() -> None:
    """From 10 to 31 March 2024 New York is on summer time and London is not."""
    cfg = SessionSettings(hours_preset="exchange")
    # 13:30 UTC: 09:30 New York (EDT) opens while London (GMT) is open until 16:30 UTC.
    assert labels_at(["2024-03-20 13:29", "2024-03-20 13:30"], cfg) == ["europe", "us"]
    # a week earlier New York was on EST and opened at 14:30 UTC
    assert labels_at(["2024-03-06 13:30", "2024-03-06 14:30"], cfg) == ["europe", "us"]


# -- the plugin --------------------------------------------------------------------------------


def test_plugin_returns_new_columns_only_and_leaves_the_input_alone(btc_5m: pd.DataFrame) -> None:
    candles = btc_5m.iloc[1000:4000].copy()
    candles.index = candles.index + 17  # a non-default index must be kept
    before = candles.copy()
    out = SessionPlugin().add_indicators(
        dataframe=candles, pair="BTC/USDT", timeframe="5m", runmode="backtest"
    )
    pd.testing.assert_frame_equal(candles, before)
    assert out.index.equals(candles.index)
    assert tuple(out.columns) == SESSION_COLUMNS
    assert not set(out.columns) & set(candles.columns)
    assert out["session"].isin(["asia", "europe", "us", "off"]).all()
    hours = candles["date"].dt.hour.to_numpy()
    want = np.array([expected_utc_label(h) for h in hours], dtype=object)
    np.testing.assert_array_equal(out["session"].to_numpy(dtype=object), want)


def test_plugin_is_loaded_through_the_entry_point_with_settings() -> None:
    from trading_agent.manager import AgentPlugins, PluginConfigError

    config = {
        "trading_agent": {
            "enabled_plugins": ["session_manager"],
            "plugins": {
                "session_manager": {
                    "priority": ["europe", "us", "asia"],
                    "us": {"stop_loss_bps": 9},
                }
            },
        }
    }
    agent = AgentPlugins.from_config(config)
    candles = pd.DataFrame(
        {
            "date": pd.DatetimeIndex([utc("2024-02-05 14:00"), utc("2024-02-05 17:00")]),
            "close": [1.0, 1.0],
        }
    )
    joined = agent.add_indicators(
        dataframe=candles, pair="BTC/USDC", timeframe="5m", runmode="backtest"
    )
    assert list(joined["session"]) == ["europe", "us"]
    assert list(joined["session_stop_loss_bps"]) == [10.0, 9.0]
    bad = {
        "trading_agent": {
            "enabled_plugins": ["session_manager"],
            "plugins": {"session_manager": {"us": {"timezone": "Mars/Olympus"}}},
        }
    }
    with pytest.raises(PluginConfigError, match=r"session_manager\.us\.timezone.*Mars/Olympus"):
        AgentPlugins.from_config(bad)


_PREFIX_CACHE: dict[str, pd.DataFrame] = {}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=1, max_value=76_000), preset=st.sampled_from(["utc", "exchange"]))
def test_prefix_invariance_on_real_candles(btc_5m: pd.DataFrame, cut: int, preset: str) -> None:
    """Computing on the first ``cut`` candles gives exactly the full run's first rows."""
    plugin = SessionPlugin(SessionSettings(hours_preset=preset))
    if preset not in _PREFIX_CACHE:
        _PREFIX_CACHE[preset] = plugin.add_indicators(
            dataframe=btc_5m, pair="BTC/USDT", timeframe="5m", runmode="backtest"
        )
    full = _PREFIX_CACHE[preset]
    prefix = plugin.add_indicators(
        dataframe=btc_5m.iloc[:cut], pair="BTC/USDT", timeframe="5m", runmode="backtest"
    )
    pd.testing.assert_frame_equal(prefix, full.iloc[:cut])


def test_session_at_single_instant() -> None:
    schedule = SessionSettings().schedule()
    when = datetime(2024, 6, 3, 22, 30, tzinfo=UTC)
    assert session_at(pd.Timestamp(when), schedule) == "off"
    assert session_at(pd.Timestamp(when + timedelta(hours=2)), schedule) == "asia"


def test_schedule_objects_validate_themselves() -> None:
    with pytest.raises(ValueError, match="same start and end"):
        SessionWindow.from_text("08:00", "08:00")
    with pytest.raises(ValueError, match="Nowhere/City"):
        SessionWindow.from_text("08:00", "09:00", "Nowhere/City")
    windows = {"asia": SessionWindow(0, 3600)}
    with pytest.raises(ValueError, match="missing"):
        SessionSchedule(windows=windows)


def test_plugin_survives_pickling_for_hyperopt_workers() -> None:
    import pickle

    plugin = SessionPlugin(
        SessionSettings(hours_preset="exchange", priority=["us", "europe", "asia"])
    )
    clone = pickle.loads(pickle.dumps(plugin))
    candles = pd.DataFrame({"date": minutes("2024-03-11 00:00", 1440)})
    pd.testing.assert_frame_equal(
        clone.add_indicators(
            dataframe=candles, pair="BTC/USDC", timeframe="1m", runmode="hyperopt"
        ),
        plugin.add_indicators(
            dataframe=candles, pair="BTC/USDC", timeframe="1m", runmode="hyperopt"
        ),
    )


def test_an_empty_frame_gives_empty_columns() -> None:
    for dates in (pd.Series([], dtype="datetime64[ns, UTC]"), pd.Series([], dtype=object)):
        out = SessionPlugin().add_indicators(
            dataframe=pd.DataFrame({"date": dates}), pair="X/Y", timeframe="5m", runmode="live"
        )
        assert out.empty
        assert tuple(out.columns) == SESSION_COLUMNS
