"""Backtest wall time of RegimeStrategy as a ratio to Freqtrade's SampleStrategy, BTC+ETH 2022.

Both run offline through the local venue, one after the other in this process, on the
recorded Binance BTC/USDT and ETH/USDT candles of ``binance-long`` for 2022 (the bear year;
``BENCH_REGIME_TIMERANGE`` overrides it), each on its own timeframe (RegimeStrategy 1h with
its 1d informative candles and every configured plugin, protections on; SampleStrategy 5m
from the installed package's templates, never a committed copy), at a fee of 0.
Target: RegimeStrategy takes at most 2x SampleStrategy's wall time (issue 13).

Without ``binance-long`` (a fresh clone) the benchmark raises, naming the missing folder:
the row is reported as failed rather than measured on other data.
"""

from __future__ import annotations

import os

from bench.offline_backtests import offline_backtests
from trading_agent.launch.evaluate_strategies import SAMPLE_STRATEGY, shared_data_dir

TIMERANGE = os.environ.get("BENCH_REGIME_TIMERANGE", "20220101-20230101")
TARGET_RATIO = 2.0
STRATEGY = "RegimeStrategy"


def run() -> list[dict]:
    """Wall time of SampleStrategy (baseline) and RegimeStrategy's ratio to it."""
    datadir = shared_data_dir() / "binance-long"
    if not any(datadir.glob("BTC_USDT-1h.feather")):
        raise FileNotFoundError(f"{datadir} holds no BTC_USDT-1h.feather (binance-long needed)")
    with offline_backtests(datadir, TIMERANGE, "bench-regime-") as (backtest, _):
        walls = {name: backtest(name, timeout=1800) for name in (SAMPLE_STRATEGY, STRATEGY)}
    sample_trades, sample_wall = walls[SAMPLE_STRATEGY]
    trades, wall = walls[STRATEGY]
    return [
        {
            "name": f"backtest {SAMPLE_STRATEGY} 2022 (baseline)",
            "value": sample_wall,
            "unit": "s",
            "target": "",
            "note": f"BTC+ETH 5m {TIMERANGE} (binance-long), {sample_trades} trades",
        },
        {
            "name": f"backtest {STRATEGY} 2022 / {SAMPLE_STRATEGY}",
            "value": wall / sample_wall,
            "unit": "x",
            "target": f"<= {TARGET_RATIO}",
            "note": f"{wall:.1f} s vs {sample_wall:.1f} s, {trades} trades, 1h + 1d, "
            "all configured plugins, protections on",
        },
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
