"""Every strategy's ``plot_config`` draws columns that exist, are finite, and share a scale.

For each strategy in ``user_data/strategies`` (whatever lands there), real recorded candles
are analysed the way Freqtrade does (``analyze_ticker``, informative pairs and timeframes from
the recorded files) and every plotted column is checked after the start-up candles: present,
finite on every row unless the strategy lists it in ``plot_sparse_columns`` (NaN by design
where there is nothing to show, finite wherever it is not NaN); at most four subplots for a
1600x1000 screen; within each subplot no column ten times larger than another (by the 99th
percentile of its absolute values).
"""

from __future__ import annotations

import importlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import CandleType, RunMode
from freqtrade.strategy import IStrategy

from tests.conftest import REPO_ROOT, load_candles
from trading_agent import Plugin, RiskAdvice, hookimpl
from trading_agent.strategy.plot_columns import SESSION_LANES, LiveHistory, marker, session_lanes

STRATEGY_DIR = REPO_ROOT / "user_data" / "strategies"
if str(STRATEGY_DIR) not in sys.path:
    sys.path.insert(0, str(STRATEGY_DIR))

#: The analysed window ends here (inside the embedded sample; after the 5 August sell-off).
UNTIL = pd.Timestamp("2024-08-12", tz="UTC")
#: Candles checked after the start-up candles.
CHECKED = 600
PAIRS = ("BTC/USDT", "ETH/USDT")
#: Largest ratio between two columns' typical magnitudes (99th percentile of |value|) in a subplot.
MAX_SCALE_RATIO = 10.0


def strategy_classes() -> list[type[IStrategy]]:
    """Every IStrategy subclass defined in a file of ``user_data/strategies``."""
    found = []
    for path in sorted(STRATEGY_DIR.glob("*.py")):
        module = importlib.import_module(path.stem)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, IStrategy)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


class RecordedDataProvider:
    """Serves recorded candles of any pair and timeframe opened at or before ``until``."""

    runmode = RunMode.BACKTEST

    def __init__(self, until: pd.Timestamp) -> None:
        self.until = until

    def market(self, pair: str) -> dict:
        base, quote = pair.split("/")
        return {"base": base, "quote": quote}

    def current_whitelist(self) -> list[str]:
        return list(PAIRS)

    def get_pair_dataframe(self, pair, timeframe=None, candle_type=""):
        frame = load_candles(pair.replace("/", "_"), timeframe)
        return frame[frame["date"] <= self.until].reset_index(drop=True)


def backtest_config(tmp_path: Path) -> dict:
    """The repository's config (every built-in plugin) as a backtest sees it."""
    real = json.loads((REPO_ROOT / "user_data" / "config.json").read_text())
    agent = real["trading_agent"]
    agent.setdefault("plugins", {}).setdefault("llm_overseer", {})["journal_path"] = str(
        tmp_path / "journal.sqlite"
    )
    return {
        "runmode": RunMode.BACKTEST,
        "stake_currency": "USDT",
        "stake_amount": 100,
        "dry_run_wallet": 1000,
        "candle_type_def": CandleType.SPOT,
        "exchange": {"pair_whitelist": list(PAIRS)},
        "trading_agent": agent,
    }


def plotted_columns(plot_config: dict) -> dict[str, list[str]]:
    """Columns by panel ("main_plot" or the subplot's name), ``fill_to`` targets included."""
    panels = {"main_plot": plot_config.get("main_plot", {})}
    panels.update(plot_config.get("subplots", {}))
    out = {}
    for name, columns in panels.items():
        names = list(columns)
        names += [c["fill_to"] for c in columns.values() if c.get("fill_to")]
        out[name] = list(dict.fromkeys(names))
    return out


def analysed(cls: type[IStrategy], pair: str, tmp_path: Path) -> tuple[IStrategy, pd.DataFrame]:
    strategy = cls({**backtest_config(tmp_path), "timeframe": cls.timeframe})
    strategy.dp = RecordedDataProvider(UNTIL)
    strategy.bot_start()
    base = load_candles(pair.replace("/", "_"), strategy.timeframe)
    candles = base[base["date"] <= UNTIL].tail(strategy.startup_candle_count + CHECKED)
    frame = strategy.analyze_ticker(candles.reset_index(drop=True), {"pair": pair})
    return strategy, frame.iloc[strategy.startup_candle_count :]


CLASSES = strategy_classes()


def test_every_strategy_file_is_found() -> None:
    names = {cls.__name__ for cls in CLASSES}
    assert {"FlashStrategy", "EnhancedFlashStrategy"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=[cls.__name__ for cls in CLASSES])
@pytest.mark.parametrize("pair", PAIRS)
def test_plotted_columns_are_present_finite_and_on_one_scale(
    cls: type[IStrategy], pair: str, tmp_path: Path
) -> None:
    strategy, frame = analysed(cls, pair, tmp_path)
    config = strategy.plot_config
    assert len(config.get("subplots", {})) <= 4, "more than four subplots squeeze the price"
    sparse = set(getattr(strategy, "plot_sparse_columns", ()))
    close = frame["close"].to_numpy()
    for panel, columns in plotted_columns(config).items():
        scales = {}
        for column in columns:
            assert column in frame.columns, f"{cls.__name__}: plotted {column!r} is not a column"
            values = frame[column].to_numpy(dtype=np.float64)
            assert not np.isinf(values).any(), f"{column}: infinite values"
            if column not in sparse:
                bad = int((~np.isfinite(values)).sum())
                assert bad == 0, (
                    f"{cls.__name__} {pair}: {column} has {bad} NaN rows after the start-up "
                    "candles (list it in plot_sparse_columns if it is NaN by design)"
                )
            finite = values[np.isfinite(values)]
            if panel == "main_plot":
                if finite.size:  # drawn over the candles: in price units
                    ratio = np.median(finite) / np.median(close)
                    assert 0.8 < ratio < 1.2, f"{column} is not in price units ({ratio:.2f})"
            elif finite.size and np.abs(finite).max() > 0:
                scales[column] = float(np.percentile(np.abs(finite), 99))
        if len(scales) > 1:
            spread = max(scales.values()) / min(scales.values())
            assert spread <= MAX_SCALE_RATIO, f"{panel!r} mixes scales: {scales}"


@pytest.mark.parametrize("cls", CLASSES, ids=[cls.__name__ for cls in CLASSES])
def test_sparse_columns_show_something_in_a_real_window(
    cls: type[IStrategy], tmp_path: Path
) -> None:
    """Lanes and markers are not empty over three weeks of real candles (the risk multiplier
    has no history in a backtest: it is NaN here and tested in dry-run below)."""
    strategy, frame = analysed(cls, "ETH/USDT", tmp_path)
    for column in set(getattr(strategy, "plot_sparse_columns", ())) - {"risk_multiplier"}:
        assert frame[column].notna().any(), f"{cls.__name__}: {column} never shows"
    if "risk_multiplier" in frame.columns:
        assert frame["risk_multiplier"].isna().all()


def test_enhanced_marks_confirmed_chart_patterns_only(tmp_path: Path) -> None:
    from EnhancedFlashStrategy import EnhancedFlashStrategy, pattern_directions

    _, frame = analysed(EnhancedFlashStrategy, "ETH/USDT", tmp_path)
    chart_bull, chart_bear, candle_bull, _ = pattern_directions(frame)
    np.testing.assert_array_equal(frame["marker_bull_pattern"].notna(), chart_bull)
    np.testing.assert_array_equal(frame["marker_bear_pattern"].notna(), chart_bear)
    assert (frame["marker_bull_pattern"][chart_bull] == frame["low"][chart_bull]).all()
    assert (frame["marker_bear_pattern"][chart_bear] == frame["high"][chart_bear]).all()
    # far fewer marks than candlestick signals, which fire every few candles
    marks = int(chart_bull.sum() + chart_bear.sum())
    assert 0 < marks < int(candle_bull.sum())


def test_session_lanes_are_one_height_per_open_session() -> None:
    """SYNTHETIC membership columns: Asia and Europe overlap on the second candle."""
    frame = pd.DataFrame(
        {"session_asia": [1, 1, 0, 0], "session_europe": [0, 1, 1, 0], "session_us": [0, 0, 0, 0]}
    )
    lanes = session_lanes(frame)
    asia, europe = SESSION_LANES["asia"], SESSION_LANES["europe"]
    assert lanes["session_lane_asia"].tolist()[:2] == [asia, asia]
    assert lanes["session_lane_europe"].tolist()[1:3] == [europe, europe]
    assert lanes.iloc[3].isna().all() and lanes["session_lane_us"].isna().all()
    with pytest.raises(KeyError, match="session_us"):
        session_lanes(frame.drop(columns=["session_us"]))
    assert marker(pd.Series([1.0, 2.0]), pd.Series([False, True])).isna().tolist() == [True, False]


def test_live_history_keeps_values_by_candle_and_is_bounded() -> None:
    dates = pd.Series(pd.date_range("2024-08-05", periods=4, freq="5min", tz="UTC"))
    history = LiveHistory(limit=2)
    assert np.isnan(history.column("BTC/USDT", dates)).all()
    for i, value in enumerate((1.0, 0.5, 0.25)):
        history.record("BTC/USDT", dates[i], value)
    got = history.column("BTC/USDT", dates)
    assert np.isnan(got[[0, 3]]).all() and got[1:3].tolist() == [0.5, 0.25]  # oldest dropped
    assert np.isnan(history.column("ETH/USDT", dates)).all()
    with pytest.raises(ValueError, match="limit"):
        LiveHistory(limit=0)


class HalfStakes(Plugin):
    """A stand-in risk plugin (as the overseer would answer): half stakes from the 2nd call."""

    name = "half_stakes"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    @hookimpl
    def risk_advice(self, pair: str, current_time: datetime) -> RiskAdvice:
        self.calls += 1
        return RiskAdvice(stake_multiplier=1.0 if self.calls == 1 else 0.5, reason="test")


def test_dry_run_draws_the_advised_multiplier_of_every_candle_seen() -> None:
    """Freqtrade re-analyses the whole frame on every candle: earlier values must stay."""
    from FlashStrategy import FlashStrategy

    from tests.test_strategies import make

    strategy = make(FlashStrategy, RunMode.DRY_RUN, plugins=[HalfStakes()])
    dates = pd.date_range("2024-08-05 08:00", periods=3, freq="5min", tz="UTC")
    frame = pd.DataFrame(
        {
            "date": dates,
            "close": [100.0, 101.0, 102.0],
            "session_asia": 0,
            "session_europe": 1,
            "session_us": 0,
        }
    )
    first = strategy.chart_columns(frame.iloc[:2], "BTC/USDT")
    assert first["risk_multiplier"].isna().tolist() == [True, False]
    again = strategy.chart_columns(frame, "BTC/USDT")  # the next candle closed
    assert again["risk_multiplier"].tolist()[1:] == [1.0, 0.5]
    assert np.isnan(again["risk_multiplier"].iloc[0])  # before the bot's first candle
    backtest = make(FlashStrategy, RunMode.BACKTEST, plugins=[HalfStakes()])
    assert backtest.chart_columns(frame, "BTC/USDT")["risk_multiplier"].isna().all()
    assert datetime.now(UTC).year >= 2024
