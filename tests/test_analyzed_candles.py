"""Known candles handed to plugins and callbacks: a frame bounded at the rows known.

In backtests the strategies keep the analysed frame Freqtrade slices from and read the rows
closed by each callback's time (see trading_agent/candles.py, ``AgentStrategy.keep_analysed``).
These tests check the bound never exposes a later row, that the kept frame is used only
once it is confirmed to be Freqtrade's, and, in a real Freqtrade backtest, that every
callback sees exactly the candle Freqtrade's own slice ends with. The small frames here are
synthetic fixtures; the backtest runs on the recorded candles in ../shared/data.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode

from trading_agent import Plugin, hookimpl
from trading_agent.candles import AnalyzedCandles, as_candles, closed_rows, ticks_of
from trading_agent.launch.evaluate_strategies import (
    STRATEGY_PATH,
    backtest_args,
    offline_configs,
    offline_venue,
    run_freqtrade,
)
from trading_agent.strategy.base import AgentStrategy

T0 = datetime(2024, 5, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)


def synthetic_frame(rows: int = 50) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.date_range(T0, periods=rows, freq="5min", tz="UTC"),
            "close": np.arange(rows, dtype=float) + 100.0,
        }
    )


def test_known_rows_stop_at_the_bound() -> None:
    frame = synthetic_frame()
    known = AnalyzedCandles(frame, 10)
    assert len(known) == 10 and known.end == 10
    assert known.column("close").tolist() == [100.0 + i for i in range(10)]
    assert len(known.frame()) == 10 and known.frame()["close"].iloc[-1] == 109.0
    assert known.last()["close"] == 109.0
    with pytest.raises(ValueError, match="read-only"):
        known.column("close")[0] = 1.0
    with pytest.raises(KeyError, match="missing"):
        known.column("missing")
    with pytest.raises(ValueError, match="end 51 outside a frame of 50 rows"):
        AnalyzedCandles(frame, 51)
    assert AnalyzedCandles(frame, 0).last() == {}
    assert as_candles(frame).end == 50 and as_candles(None).end == 0
    with pytest.raises(TypeError, match="list"):
        as_candles([1, 2])


def test_closed_rows_counts_candles_closed_at_the_time() -> None:
    ticks = ticks_of(synthetic_frame()["date"])
    assert closed_rows(ticks, T0, STEP) == 0  # the first candle closes at T0 + 5m
    assert closed_rows(ticks, T0 + STEP, STEP) == 1
    assert closed_rows(ticks, T0 + STEP + timedelta(minutes=4), STEP) == 1
    assert closed_rows(ticks, T0 + 10 * STEP, STEP) == 10
    assert closed_rows(ticks, T0 + 999 * STEP, STEP) == 50


class SlicingDataProvider:
    """Freqtrade's backtest DataProvider in miniature: slices of one cached frame."""

    runmode = RunMode.BACKTEST

    def __init__(self, frame: pd.DataFrame, copies: bool = False) -> None:
        self.frame, self.copies, self.index = frame, copies, 0

    def get_analyzed_dataframe(self, pair, timeframe):
        part = self.frame.iloc[max(0, self.index - 1000) : self.index]
        return (part.copy() if self.copies else part), T0

    def current_whitelist(self):
        return ["BTC/USDT"]


class Recorder(Plugin):
    name = "recorder"

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self.seen: list[tuple[datetime, int, float | None]] = []

    @hookimpl
    def bot_loop(self, current_time, analyzed):
        known = analyzed["BTC/USDT"]
        last = known.last()
        self.seen.append((current_time, len(known), last.get("close")))


class Mini(AgentStrategy):
    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return self.keep_analysed(dataframe, metadata)


def mini(frame: pd.DataFrame, copies: bool = False) -> tuple[Mini, Recorder]:
    strategy = Mini(
        {
            "runmode": RunMode.BACKTEST,
            "stake_currency": "USDT",
            "exchange": {"pair_whitelist": ["BTC/USDT"]},
            "trading_agent": {"enabled_plugins": []},
        }
    )
    strategy.dp = SlicingDataProvider(frame, copies)
    strategy.bot_start()
    recorder = Recorder()
    strategy.agent.register(recorder)
    strategy.populate_exit_trend(frame, {"pair": "BTC/USDT"})
    return strategy, recorder


def test_a_confirmed_kept_frame_gives_the_candles_closed_at_each_time() -> None:
    frame = synthetic_frame()
    strategy, recorder = mini(frame)
    strategy.bot_loop_start(T0 + 3 * STEP)  # nothing sliced yet: Freqtrade's (empty) answer
    assert recorder.seen[-1] == (T0 + 3 * STEP, 0, None)
    for k in range(4, 20):
        strategy.dp.index = k - 1  # Freqtrade's slice still ends a candle earlier here
        strategy.bot_loop_start(T0 + k * STEP)
        # the candle opened at T0 + (k-1) x 5m closed at T0 + k x 5m: known, and the last
        assert recorder.seen[-1] == (T0 + k * STEP, k, 100.0 + k - 1)
        strategy.dp.index = k  # as Freqtrade sets it before the candle's callbacks
        dp_last = strategy.dp.get_analyzed_dataframe("BTC/USDT", "5m")[0].iloc[-1]
        assert strategy.last_candle("BTC/USDT", T0 + k * STEP)["date"] == dp_last["date"]
    assert strategy._kept_frames["BTC/USDT"].confirmed is True


def test_a_kept_frame_that_is_not_freqtrades_is_not_used(caplog) -> None:
    frame = synthetic_frame()
    strategy, recorder = mini(frame, copies=True)
    strategy.dp.index = 5
    with caplog.at_level(logging.WARNING):
        strategy.bot_loop_start(T0 + 30 * STEP)
    # Freqtrade's own slice (5 rows), not the kept frame's 30 closed rows
    assert recorder.seen[-1] == (T0 + 30 * STEP, 5, 104.0)
    assert strategy._kept_frames["BTC/USDT"].confirmed is False
    assert "not the one Freqtrade analyses from" in caplog.text


def test_frames_are_kept_in_backtests_only() -> None:
    frame = synthetic_frame()
    strategy, _ = mini(frame)
    strategy.config["runmode"] = RunMode.DRY_RUN
    strategy._kept_frames.clear()
    strategy.populate_exit_trend(frame, {"pair": "BTC/USDT"})
    assert strategy._kept_frames == {}


CHECKING_STRATEGY = '''
import logging
import sys

sys.path.insert(0, {strategies!r})
from EnhancedFlashStrategy import EnhancedFlashStrategy

logger = logging.getLogger(__name__)


class CheckedEnhanced(EnhancedFlashStrategy):
    """Compares the candle every callback reads with the end of Freqtrade's own slice."""

    def _check(self, pair, current_time):
        ours = self.analyzed_candles(pair, current_time).last()
        theirs = self.dp.get_analyzed_dataframe(pair, self.timeframe)[0].iloc[-1]
        kept = self._kept_frames[pair].confirmed
        same = ours["date"] == theirs["date"] and ours["close"] == theirs["close"]
        logger.info("KEPT-CHECK %s %s", "same" if same else "DIFFERENT", kept)

    def custom_stoploss(self, pair, trade, current_time, **kwargs):
        self._check(pair, current_time)
        return super().custom_stoploss(pair, trade, current_time, **kwargs)

    def confirm_trade_entry(self, pair, order_type, amount, rate, time_in_force,
                            current_time, entry_tag, side, **kwargs):
        self._check(pair, current_time)
        return super().confirm_trade_entry(pair, order_type, amount, rate, time_in_force,
                                           current_time, entry_tag, side, **kwargs)
'''


@pytest.mark.slow
def test_in_a_freqtrade_backtest_callbacks_read_freqtrades_last_candle(
    tmp_path: Path, binance_dir: Path
) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "CheckedEnhanced.py").write_text(
        CHECKING_STRATEGY.format(strategies=str(STRATEGY_PATH))
    )
    with offline_venue(binance_dir) as url:
        args = backtest_args(
            ["CheckedEnhanced"],
            strategies,
            offline_configs(tmp_path, url),
            timerange="20240701-20240715",
            fee=0.0,
            datadir=binance_dir,
            results_dir=Path(tempfile.mkdtemp(dir=tmp_path)),
        )
        proc = run_freqtrade(args, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    checks = re.findall(r"KEPT-CHECK (\w+) (\w+)", out)
    assert len(checks) > 50, json.dumps(checks[:5])
    assert {c[0] for c in checks} == {"same"}
    assert {c[1] for c in checks} == {"True"}  # the kept frame was confirmed and used


def test_shared_column_readers_give_what_series_iat_gives() -> None:
    frame = synthetic_frame(5)
    frame["count"] = np.arange(5, dtype=np.int64)
    frame["flag"] = frame["count"] % 2 == 0
    frame["tag"] = pd.Series(["a", None, "c", "d", None], dtype=object)
    frame["text"] = pd.Series(["x", "y", None, "z", "w"], dtype="string")
    readers: dict = {}
    for end in (2, 3, 5):  # later bounds of the same frame reuse the readers
        last = AnalyzedCandles(frame, end, readers).last()
        for column in frame.columns:
            expected = frame[column].iat[end - 1]
            got = last[column]
            assert type(got) is type(expected), column
            assert (pd.isna(got) and pd.isna(expected)) or got == expected, column
    assert set(readers) == set(frame.columns)
