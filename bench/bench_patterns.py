"""Speed of the patterns plugin on 100,000 real 5-minute candles.

The candles are the recorded Binance BTC/USDT 5m file (76,948 candles) followed by the first
23,052 ETH/USDT 5m candles, so 100,000 in all (the join is one large price jump, which the
detectors treat like any other candle). Timed: ``PatternsPlugin.add_indicators`` with default
settings (swings, all 13 chart patterns, anomalies, 6 TA-Lib candlesticks), plus each part on
its own and the directional-change swing method.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import talib

from plugins.patterns.candlesticks import candlestick_columns
from plugins.patterns.compute import (
    chart_pattern_columns,
    configured_anomaly_columns,
    find_swings,
    ohlcv_arrays,
)
from plugins.patterns.plugin import PatternsPlugin
from plugins.patterns.settings import PatternSettings

CANDLES = 100_000
REPEATS = 7
TARGET_S = 0.5


def _data_dir() -> Path:
    env = os.environ.get("TA_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root / "binance"


def load_candles() -> pd.DataFrame | None:
    """100,000 real 5m candles (BTC then ETH), or ``None`` if the recorded data is absent."""
    btc_path = _data_dir() / "BTC_USDT-5m.feather"
    eth_path = _data_dir() / "ETH_USDT-5m.feather"
    if not (btc_path.exists() and eth_path.exists()):
        return None
    btc = pd.read_feather(btc_path)
    eth = pd.read_feather(eth_path)
    return pd.concat([btc, eth.iloc[: CANDLES - len(btc)]], ignore_index=True)


def _median_s(fn: Callable[[], object]) -> float:
    fn()  # warm-up
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - started)
    timings.sort()
    return timings[len(timings) // 2]


def run() -> list[dict]:
    """Median wall time of the whole plugin and of its parts on 100k real candles."""
    candles = load_candles()
    if candles is None:
        return [
            {
                "name": "patterns: recorded data not found",
                "value": float("nan"),
                "unit": "s",
                "target": f"< {TARGET_S:g} s",
                "note": f"expected {_data_dir()}",
            }
        ]
    n = len(candles)
    default = PatternSettings()
    plugin = PatternsPlugin(default)

    def whole(p: PatternsPlugin = plugin) -> object:
        return p.add_indicators(
            dataframe=candles, pair="BTC/USDT", timeframe="5m", runmode="backtest"
        )

    total = _median_s(whole)
    dc = PatternsPlugin(
        PatternSettings.model_validate({"swings": {"method": "directional_change"}})
    )
    total_dc = _median_s(lambda: whole(dc))

    data = ohlcv_arrays(candles)
    atr = talib.ATR(data["high"], data["low"], data["close"], timeperiod=default.atr_period)
    true_range = talib.TRANGE(data["high"], data["low"], data["close"])

    def swings_and_patterns() -> object:
        return chart_pattern_columns(data, find_swings(data, default), atr, default)

    def anomalies() -> object:
        return configured_anomaly_columns(data, true_range, atr, default)

    def candlesticks() -> object:
        o, h, lo, c = (data[k] for k in ("open", "high", "low", "close"))
        return candlestick_columns(default.candlesticks, o, h, lo, c)

    note = f"median of {REPEATS}; {n:,} real 5m candles (76,948 BTC + ETH)"
    rows = [
        {
            "name": "patterns: add_indicators, default settings, 100k 5m candles",
            "value": total,
            "unit": "s",
            "target": f"< {TARGET_S:g} s",
            "note": note,
        },
        {
            "name": "patterns: add_indicators per candle",
            "value": total / n * 1e6,
            "unit": "us",
            "target": "< 5 us",
            "note": note,
        },
        {
            "name": "patterns: add_indicators, directional-change swings (1 %)",
            "value": total_dc,
            "unit": "s",
            "target": f"< {TARGET_S:g} s",
            "note": note,
        },
    ]
    for label, fn in (
        ("fractal swings + 13 chart patterns", swings_and_patterns),
        ("anomalies (volume MAD, gap, range)", anomalies),
        ("6 TA-Lib candlesticks", candlesticks),
    ):
        rows.append(
            {
                "name": f"patterns: part, {label}",
                "value": _median_s(fn) * 1000.0,
                "unit": "ms",
                "target": "",
                "note": note,
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
