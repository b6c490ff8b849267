"""Speed of the session columns on 100,000 five-minute candles.

The dates are a regular 5-minute range starting 2024-01-01 UTC (about 347 days, so both
daylight-saving changes of New York and London fall inside). Session classification reads
nothing but the dates, so a date range measures exactly what real candles would.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from plugins.session_manager.plugin import SessionPlugin
from plugins.session_manager.settings import SessionSettings

CANDLES = 100_000
REPEATS = 15
TARGET_MS = 50.0
REAL_DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "binance" / "BTC_USDT-5m.feather"
)


def _median_ms(plugin: SessionPlugin, candles: pd.DataFrame) -> float:
    plugin.add_indicators(dataframe=candles, pair="BTC/USDC", timeframe="5m", runmode="backtest")
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        plugin.add_indicators(
            dataframe=candles, pair="BTC/USDC", timeframe="5m", runmode="backtest"
        )
        timings.append((time.perf_counter() - started) * 1000.0)
    timings.sort()
    return timings[len(timings) // 2]


def run() -> list[dict]:
    """Median time of ``SessionPlugin.add_indicators`` (all session columns) per definition."""
    dates = pd.date_range("2024-01-01", periods=CANDLES, freq="5min", tz="UTC")
    candles = pd.DataFrame({"date": dates, "close": 1.0})
    definitions = {
        "UTC hours (seed preset)": SessionSettings(),
        "exchange time-zone hours (Tokyo/London/New York)": SessionSettings(
            hours_preset="exchange"
        ),
    }
    rows = []
    for label, settings in definitions.items():
        rows.append(
            {
                "name": f"sessions: all columns, {CANDLES:,} 5m candles, {label}",
                "value": _median_ms(SessionPlugin(settings), candles),
                "unit": "ms",
                "target": f"< {TARGET_MS:g} ms",
                "note": f"median of {REPEATS}; 5m date range from 2024-01-01 UTC",
            }
        )
    if REAL_DATA.exists():
        real = pd.read_feather(REAL_DATA)
        rows.append(
            {
                "name": f"sessions: all columns, real BTC/USDT 5m ({len(real):,} candles), "
                "exchange time-zone hours",
                "value": _median_ms(SessionPlugin(SessionSettings(hours_preset="exchange")), real),
                "unit": "ms",
                "target": "",
                "note": f"median of {REPEATS}; Binance 2024-01-01..2024-09-24 from shared data",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['value']:8.2f} {row['unit']}  {row['target']:>8}  {row['name']}")
