"""Backtest wall time of our strategies as a ratio to Freqtrade's SampleStrategy.

One ``freqtrade backtesting`` run per strategy, offline through the local venue, on the
recorded Binance BTC/USDT and ETH/USDT 5m candles from 2024-01-01 to 2024-09-20 (the issue's
range; ``BENCH_BACKTEST_TIMERANGE`` overrides it for a quicker look). SampleStrategy comes
from the installed package's templates directory (never a committed copy) and is the
baseline row; each of our strategies runs with the config's plugins (all four by default)
and its protections on, and is reported as a ratio to the baseline measured in the same run
(target: at most 1.5x). A second set of rows times ``advise_indicators`` (our columns plus
every plugin's) for one pair in-process, next to SampleStrategy's, to separate indicator
cost from the per-candle callbacks of the backtest loop.

Two more rows per strategy locate the time. "callback floor": the same strategy with every
Freqtrade callback it implements (``bot_loop_start``, ``confirm_trade_entry``,
``custom_stake_amount``, ``custom_stoploss``, ``custom_exit``, ``custom_roi``,
``order_filled``) returning at once, generated here as a subclass: what Freqtrade's own
callback machinery (it deep-copies the trade for every call that takes one) and the
protections cost for this strategy's signals before any of our work (its trades differ: no
ATR stop, no session targets, no plugin advice). "protections off": the strategy as is
without ``--enable-protections``.

This benchmark runs Freqtrade several times over nine months of candles: it takes minutes,
not seconds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd
from freqtrade.enums import CandleType, RunMode

from bench.offline_backtests import offline_backtests
from trading_agent.launch.evaluate_strategies import (
    BASE_CONFIG,
    SAMPLE_STRATEGY,
    STRATEGY_PATH,
    freqtrade_templates,
    shared_data_dir,
)

TIMERANGE = os.environ.get("BENCH_BACKTEST_TIMERANGE", "20240101-20240920")
TARGET_RATIO = 1.5
#: The strategies benchmarked against SampleStrategy.
OUR_STRATEGIES = ("FlashStrategy", "EnhancedFlashStrategy")


class _RecordedCandles:
    """A stand-in data provider serving recorded candles to ``@informative`` methods."""

    runmode = RunMode.BACKTEST

    def __init__(self, datadir: Path, start: pd.Timestamp, end: pd.Timestamp) -> None:
        self.datadir, self.start, self.end = datadir, start, end

    def market(self, pair: str) -> dict:
        base, quote = pair.split("/")
        return {"base": base, "quote": quote}

    def get_pair_dataframe(self, pair, timeframe=None, candle_type=""):
        frame = pd.read_feather(self.datadir / f"{pair.replace('/', '_')}-{timeframe}.feather")
        return frame[(frame["date"] >= self.start) & (frame["date"] < self.end)].reset_index(
            drop=True
        )


FLOOR_MODULE = """
import sys

sys.path.insert(0, {strategies!r})
from {name} import {name}


class {name}CallbackFloor({name}):
    \"\"\"{name} with every callback returning at once (benchmark floor).\"\"\"

    def bot_loop_start(self, current_time, **kwargs):
        return None

    def confirm_trade_entry(self, pair, order_type, amount, rate, time_in_force,
                            current_time, entry_tag, side, **kwargs):
        return True

    def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake,
                            min_stake, max_stake, leverage, entry_tag, side, **kwargs):
        return proposed_stake

    def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit,
                        after_fill, **kwargs):
        return None

    def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kwargs):
        return None

    def custom_roi(self, pair, trade, current_time, trade_duration, entry_tag, side,
                   **kwargs):
        return None

    def order_filled(self, pair, trade, order, current_time, **kwargs):
        return None
"""


def write_floor_strategy(directory: Path, name: str) -> str:
    """Write ``<name>CallbackFloor`` (see the module docstring) into ``directory``."""
    floor = f"{name}CallbackFloor"
    (directory / f"{floor}.py").write_text(
        FLOOR_MODULE.format(strategies=str(STRATEGY_PATH), name=name)
    )
    return floor


def _load_class(path: Path, filename: str, name: str) -> type:
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    spec = importlib.util.spec_from_file_location(f"_bench_{filename}", path / f"{filename}.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {name} from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def _indicator_seconds(strategy_name: str, datadir: Path) -> float:
    """Seconds of ``advise_indicators`` on one pair's 5m candles over the bench range."""
    start, end = (pd.Timestamp(x, tz="UTC") for x in TIMERANGE.split("-"))
    if strategy_name == SAMPLE_STRATEGY:
        cls = _load_class(freqtrade_templates(), "sample_strategy", SAMPLE_STRATEGY)
    else:
        cls = _load_class(STRATEGY_PATH, strategy_name, strategy_name)
    config = json.loads(BASE_CONFIG.read_text())
    # Freqtrade puts the strategy's timeframe into the config it hands the strategy; the
    # overseer reads it there to know which candles have closed.
    config.update(
        runmode=RunMode.BACKTEST,
        stake_currency="USDT",
        candle_type_def=CandleType.SPOT,
        timeframe=cls.timeframe,
    )
    strategy = cls(config)
    strategy.dp = _RecordedCandles(datadir, start - pd.Timedelta(days=90), end)
    if hasattr(strategy, "bot_start"):
        strategy.bot_start()
    candles = strategy.dp.get_pair_dataframe("ETH/USDT", "5m")
    candles = candles[candles["date"] >= start].reset_index(drop=True)
    began = time.perf_counter()
    strategy.advise_indicators(candles, {"pair": "ETH/USDT"})
    return time.perf_counter() - began


def run() -> list[dict]:
    """Backtest wall times (baseline, ratios) and indicator times."""
    datadir = shared_data_dir() / "binance"
    rows: list[dict] = []
    with offline_backtests(datadir, TIMERANGE, "bench-backtest-") as (backtest, work):
        sample_trades, sample_wall = backtest(SAMPLE_STRATEGY, timeout=1800)
        rows.append(
            {
                "name": f"backtest {SAMPLE_STRATEGY} (baseline)",
                "value": sample_wall,
                "unit": "s",
                "target": "",
                "note": f"BTC+ETH 5m {TIMERANGE}, {sample_trades} trades, freqtrade templates",
            }
        )
        floors = work / "floors"
        floors.mkdir()
        for name in OUR_STRATEGIES:
            trades, wall = backtest(name)
            rows.append(
                {
                    "name": f"backtest {name} / {SAMPLE_STRATEGY}",
                    "value": wall / sample_wall,
                    "unit": "x",
                    "target": f"<= {TARGET_RATIO}",
                    "note": f"{wall:.1f} s vs {sample_wall:.1f} s, {trades} trades, "
                    "all configured plugins, protections on",
                }
            )
            floor_trades, floor_wall = backtest(
                write_floor_strategy(floors, name), strategy_path=floors
            )
            rows.append(
                {
                    "name": f"backtest {name} callback floor / {SAMPLE_STRATEGY}",
                    "value": floor_wall / sample_wall,
                    "unit": "x",
                    "target": "",
                    "note": f"{floor_wall:.1f} s, {floor_trades} trades: same signals "
                    "and protections, every callback returns at once (Freqtrade's own cost); "
                    f"the strategy takes {wall / floor_wall:.2f}x its floor",
                }
            )
            plain_trades, plain_wall = backtest(name, protections=False)
            rows.append(
                {
                    "name": f"backtest {name}, protections off / {SAMPLE_STRATEGY}",
                    "value": plain_wall / sample_wall,
                    "unit": "x",
                    "target": "",
                    "note": f"{plain_wall:.1f} s, {plain_trades} trades, all configured "
                    "plugins, without --enable-protections",
                }
            )
    sample_ind = _indicator_seconds(SAMPLE_STRATEGY, datadir)
    rows.append(
        {
            "name": f"indicators {SAMPLE_STRATEGY}, one pair",
            "value": sample_ind,
            "unit": "s",
            "target": "",
            "note": f"advise_indicators, ETH/USDT 5m {TIMERANGE}",
        }
    )
    for name in OUR_STRATEGIES:
        seconds = _indicator_seconds(name, datadir)
        rows.append(
            {
                "name": f"indicators {name}, one pair",
                "value": seconds,
                "unit": "s",
                "target": "",
                "note": f"incl. informative timeframes and every plugin's columns; "
                f"{seconds / sample_ind:.1f}x SampleStrategy",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
