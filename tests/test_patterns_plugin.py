"""The patterns plugin: entry point, new columns only, input untouched, live notifications."""

from __future__ import annotations

from importlib import metadata

import numpy as np
import pandas as pd
import pytest

from plugins.patterns import Detection, PatternSettings, detections_at
from plugins.patterns.plugin import PatternsPlugin
from tests.test_patterns_chart import DOUBLE_TOP
from tests.test_patterns_synthetic import path_candles
from trading_agent import ENTRY_POINT_GROUP
from trading_agent.manager import AgentPlugins, PluginConfigError


def test_entry_point_names_the_plugin_class() -> None:
    (ep,) = [e for e in metadata.entry_points(group=ENTRY_POINT_GROUP) if e.name == "patterns"]
    assert ep.load() is PatternsPlugin
    assert PatternsPlugin.name == "patterns"
    assert PatternsPlugin.Settings is PatternSettings


def test_add_indicators_returns_only_new_columns_on_the_same_index(btc_5m: pd.DataFrame) -> None:
    frame = btc_5m.iloc[10_000:13_000]  # a real slice, index not starting at 0
    before = frame.copy()
    out = PatternsPlugin().add_indicators(
        dataframe=frame, pair="BTC/USDT", timeframe="5m", runmode="backtest"
    )
    pd.testing.assert_frame_equal(frame, before)
    assert out.index.equals(frame.index)
    assert not set(out.columns) & set(frame.columns)
    for col in out.columns:
        if col.startswith(("pattern_", "cdl_", "anomaly_")) and not col.endswith(
            ("_neckline", "_target", "_invalidation", "_z", "_atr", "_ratio")
        ):
            assert out[col].dtype == np.int64, col
            assert set(np.unique(out[col])) <= {-1, 0, 1}, col
    for name in ("double_top", "breakout_resistance"):
        sig = out[f"pattern_{name}"].to_numpy() != 0
        for suffix in ("neckline", "target", "invalidation"):
            level = out[f"pattern_{name}_{suffix}"].to_numpy()
            assert np.isnan(level[~sig]).all()
            assert np.isfinite(level[sig]).all()


def test_manager_loads_and_joins_the_plugin_columns() -> None:
    config = {
        "trading_agent": {
            "enabled_plugins": ["patterns"],
            "plugins": {"patterns": {"chart": {"patterns": ["double_top"]}, "candlesticks": []}},
        }
    }
    agent = AgentPlugins.from_config(config)
    frame = path_candles(DOUBLE_TOP)
    joined = agent.add_indicators(frame, "X/USDT", "5m", "backtest")
    assert joined["pattern_double_top"].iloc[80] == -1
    bad = {"trading_agent": {"enabled_plugins": ["patterns"], "plugins": {"patterns": {"k": 1}}}}
    with pytest.raises(PluginConfigError, match="k"):
        AgentPlugins.from_config(bad)


def _started(runmode: str, **settings: object) -> tuple[PatternsPlugin, list]:
    sent: list = []
    plugin = PatternsPlugin(PatternSettings.model_validate(settings))
    plugin.bot_start(
        config={}, runmode=runmode, notify=lambda msg, key=None: sent.append((msg, key))
    )
    return plugin, sent


def test_live_notifies_a_new_detection_once() -> None:
    frame = path_candles(DOUBLE_TOP)  # SYNTHETIC: double top confirmed on candle 80
    plugin, sent = _started("dry_run")
    for end in (79, 80):  # latest candles 78 and 79: nothing confirmed there
        plugin.add_indicators(
            dataframe=frame.iloc[:end], pair="X/USDT", timeframe="5m", runmode="dry_run"
        )
    assert sent == []
    for _ in range(3):  # the same candle analysed again: one message
        plugin.add_indicators(
            dataframe=frame.iloc[:81], pair="X/USDT", timeframe="5m", runmode="dry_run"
        )
    assert len(sent) == 1
    message, key = sent[0]
    assert key == "patterns:X/USDT:double_top"
    assert "double top" in message and "bearish" in message and "94.9" in message
    plugin.add_indicators(
        dataframe=frame.iloc[:82], pair="X/USDT", timeframe="5m", runmode="dry_run"
    )
    assert len(sent) == 1  # candle 81 confirms nothing new
    plugin.add_indicators(
        dataframe=frame.iloc[:81], pair="Y/USDT", timeframe="5m", runmode="dry_run"
    )
    assert len(sent) == 2  # another pair is another detection


@pytest.mark.parametrize(("runmode", "settings"), [("backtest", {}), ("live", {"notify": False})])
def test_no_notifications_outside_live_or_when_disabled(runmode: str, settings: dict) -> None:
    frame = path_candles(DOUBLE_TOP)
    plugin, sent = _started(runmode, **settings)
    plugin.add_indicators(dataframe=frame.iloc[:81], pair="X/USDT", timeframe="5m", runmode=runmode)
    assert sent == []


def test_detections_at_reads_the_levels_of_a_candle() -> None:
    frame = path_candles(DOUBLE_TOP)
    out = PatternsPlugin().add_indicators(
        dataframe=frame, pair="X", timeframe="5m", runmode="backtest"
    )
    (d,) = detections_at(out, 80, pair="X/USDT", dates=frame["date"])
    assert d == Detection(
        pattern="double_top",
        direction=-1,
        confirmed_at=frame["date"].iloc[80].to_pydatetime(),
        neckline=pytest.approx(94.9),
        target=pytest.approx(out["pattern_double_top_target"].iloc[80]),
        invalidation=pytest.approx(105.6),
        pair="X/USDT",
    )
    assert detections_at(out, 79) == []
    assert detections_at(out.assign(date=frame["date"]), 80)[0].confirmed_at == d.confirmed_at
    with pytest.raises(IndexError):
        detections_at(out, len(out))


def test_plugin_pickles_without_its_notifier() -> None:
    import pickle

    plugin, _ = _started("dry_run")
    copy = pickle.loads(pickle.dumps(plugin))
    assert copy._notify is None
    assert copy.settings == plugin.settings
