"""The rebuilt account ends where Freqtrade's own final balance does, on real backtests.

Two offline backtests at a 0.1 % fee on the recorded Binance candles: Freqtrade's
SampleStrategy (one entry and one exit per trade, 5m) and ``tests/strategies``'
ScheduledAdjustStrategy (position adjustment: two adds and two partial sells per trade, 1h).
The equity rebuilt from their orders, marked at every close, must end at Freqtrade's
``final_balance`` (start plus total profit) to 1e-6 relative.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trading_agent.evaluation.equity import close_grid, reconstruct_equity
from trading_agent.evaluation.fills import fills_from_trades
from trading_agent.launch.backtest_runs import BacktestRunner, BacktestSpec
from trading_agent.launch.candle_files import read_candles
from trading_agent.launch.evaluate_strategies import (
    freqtrade_templates,
    offline_configs,
    offline_venue,
)
from trading_agent.launch.strategy_grid import load_strategy

pytestmark = pytest.mark.slow

TEST_STRATEGIES = Path(__file__).parent / "strategies"
# Inside the embedded sample's 5m span (2024-06-15..08-20), so that a fresh clone runs it.
START = pd.Timestamp("2024-07-01", tz="UTC")
END = pd.Timestamp("2024-08-01", tz="UTC")
PAIRS = ("BTC/USDT", "ETH/USDT")


def test_rebuilt_final_equity_is_freqtrades_final_balance(
    tmp_path: Path, binance_dir: Path
) -> None:
    strategies = [
        load_strategy("SampleStrategy", freqtrade_templates()),
        load_strategy("ScheduledAdjustStrategy", TEST_STRATEGIES),
    ]
    with offline_venue(binance_dir) as url:
        runner = BacktestRunner(
            datadir=binance_dir,
            cache_dir=tmp_path / "cache",
            configs=offline_configs(tmp_path, url),
            use_cache=False,
            timeout=600,
        )
        outcomes = [runner.run(BacktestSpec(s, START, END, fee=0.001)) for s in strategies]
    for outcome in outcomes:
        name, timeframe = outcome.spec.strategy.name, outcome.spec.timeframe
        fills = fills_from_trades(outcome.trades)
        candles = {pair: read_candles(binance_dir, pair, timeframe) for pair in PAIRS}
        closes = close_grid(candles, START, END, timeframe)
        segment = reconstruct_equity(fills, closes, outcome.starting_balance, START)
        final = float(segment.points["equity"].iloc[-1])
        assert len(outcome.trades) > 5, name
        assert fills["fee"].sum() > 0, name
        assert final == pytest.approx(outcome.final_balance, rel=1e-6), name
        assert final != pytest.approx(outcome.starting_balance, rel=1e-6), name
        assert segment.points["exposure"].iloc[1:].max() > 0.05, name
    adjusted = outcomes[1]
    orders = [len(t["orders"]) for t in adjusted.trades]
    exits = [sum(not o["ft_is_entry"] for o in t["orders"]) for t in adjusted.trades]
    # buy, two adds, two partial sells, the exit: six orders, three of them exits
    assert max(orders) == 6 and max(exits) == 3, (orders, exits)
    assert sum(n == 6 for n in orders) >= len(orders) - 2  # all but a trade cut by the window
