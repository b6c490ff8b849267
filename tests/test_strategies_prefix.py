"""Prefix invariance of both strategies on real recorded candles (no lookahead).

Computing indicators and signals on the first ``t`` candles must give exactly the first ``t``
rows of the computation on all candles. The informative timeframes (15m, 1h, 4h, BTC 1h) are
served by a stand-in data provider that only holds candles opened up to the last base candle,
as Freqtrade's would at that time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.enums import CandleType, RunMode

from tests.conftest import load_candles

STRATEGIES = Path(__file__).resolve().parents[1] / "user_data" / "strategies"
if str(STRATEGIES) not in sys.path:
    sys.path.insert(0, str(STRATEGIES))

from EnhancedFlashStrategy import EnhancedFlashStrategy  # noqa: E402
from FlashStrategy import FlashStrategy  # noqa: E402

#: About 12 days of 5m candles from early July 2024 (real Binance data, in the embedded sample).
START = pd.Timestamp("2024-07-05", tz="UTC")
N_CANDLES = 3500
CUTS = (900, 2017, 3499)


class PrefixDataProvider:
    """Serves recorded candles of any pair/timeframe opened at or before ``until``."""

    runmode = RunMode.BACKTEST

    def __init__(self, until: pd.Timestamp) -> None:
        self.until = until

    def market(self, pair: str) -> dict:
        base, quote = pair.split("/")
        return {"base": base, "quote": quote}

    def get_pair_dataframe(self, pair, timeframe=None, candle_type=""):
        frame = load_candles(pair.replace("/", "_"), timeframe)
        begin = START - pd.Timedelta(days=120)  # warm-up for the 4h EMAs
        return frame[(frame["date"] >= begin) & (frame["date"] <= self.until)].reset_index(
            drop=True
        )


def make(cls):
    strategy = cls(
        {
            "runmode": RunMode.BACKTEST,
            "stake_currency": "USDT",
            "stake_amount": 100,
            "dry_run_wallet": 1000,
            "candle_type_def": CandleType.SPOT,
            "exchange": {"pair_whitelist": ["BTC/USDT", "ETH/USDT"]},
            "trading_agent": {"enabled_plugins": ["session_manager", "patterns"]},
        }
    )
    strategy.bot_start()
    return strategy


def analyse(strategy, candles: pd.DataFrame, pair: str) -> pd.DataFrame:
    strategy.dp = PrefixDataProvider(candles["date"].iloc[-1])
    metadata = {"pair": pair}
    frame = strategy.advise_indicators(candles.copy(), metadata)
    frame = strategy.populate_entry_trend(frame, metadata)
    return strategy.populate_exit_trend(frame, metadata)


@pytest.mark.parametrize(
    ("cls", "pair"),
    [(FlashStrategy, "BTC/USDT"), (EnhancedFlashStrategy, "ETH/USDT")],
    ids=["FlashStrategy", "EnhancedFlashStrategy"],
)
def test_indicators_and_signals_are_prefix_invariant(cls, pair) -> None:
    base = load_candles(pair.replace("/", "_"), "5m")
    candles = base[base["date"] >= START].head(N_CANDLES).reset_index(drop=True)
    strategy = make(cls)
    full = analyse(strategy, candles, pair)
    assert {"atr", "signal_strength", "imbalance", "session_code"} <= set(full.columns)
    assert full["enter_long"].sum() > 0, "the window should hold some entries"
    assert full["signal_strength"].between(0, 1).all()
    for cut in CUTS:
        part = analyse(strategy, candles.head(cut), pair)
        pd.testing.assert_frame_equal(part, full.head(cut), check_exact=True)
