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

This benchmark runs Freqtrade several times over nine months of candles: it takes minutes,
not seconds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from freqtrade.enums import CandleType, RunMode

from launch.evaluate_strategies import (
    BASE_CONFIG,
    OUR_STRATEGIES,
    SAMPLE_STRATEGY,
    STRATEGY_PATH,
    freqtrade_templates,
    offline_configs,
    offline_venue,
    run_backtest,
    shared_data_dir,
)

TIMERANGE = os.environ.get("BENCH_BACKTEST_TIMERANGE", "20240101-20240920")
TARGET_RATIO = 1.5


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
    config.update(runmode=RunMode.BACKTEST, stake_currency="USDT", candle_type_def=CandleType.SPOT)
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
    with (
        tempfile.TemporaryDirectory(prefix="bench-backtest-") as tmp,
        offline_venue(datadir) as url,
    ):
        work = Path(tmp)
        configs = offline_configs(work, url)
        sample, _, sample_wall = run_backtest(
            [SAMPLE_STRATEGY],
            configs,
            timerange=TIMERANGE,
            fee=0.0,
            datadir=datadir,
            workdir=work,
            timeout=1800,
        )
        rows.append(
            {
                "name": f"backtest {SAMPLE_STRATEGY} (baseline)",
                "value": sample_wall,
                "unit": "s",
                "target": "",
                "note": f"BTC+ETH 5m {TIMERANGE}, {sample[SAMPLE_STRATEGY].trades} trades, "
                "freqtrade templates",
            }
        )
        for name in OUR_STRATEGIES:
            ours, _, wall = run_backtest(
                [name],
                configs,
                timerange=TIMERANGE,
                fee=0.0,
                datadir=datadir,
                workdir=work,
                timeout=3600,
            )
            rows.append(
                {
                    "name": f"backtest {name} / {SAMPLE_STRATEGY}",
                    "value": wall / sample_wall,
                    "unit": "x",
                    "target": f"<= {TARGET_RATIO}",
                    "note": f"{wall:.1f} s vs {sample_wall:.1f} s, {ours[name].trades} trades, "
                    "all configured plugins, protections on",
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
