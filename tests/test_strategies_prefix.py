"""Prefix invariance of every strategy on real recorded candles (no lookahead).

Computing indicators and signals on the first ``t`` candles must give exactly the first ``t``
rows of the computation on all candles. The informative timeframes (15m, 1h, 4h, 1d, BTC's)
are served by a stand-in data provider that only holds candles opened up to the last base
candle, as Freqtrade's would at that time.
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
from RegimeStrategy import RegimeStrategy  # noqa: E402

#: About 12 days of 5m candles from mid-February 2024 (real Binance data).
START = pd.Timestamp("2024-02-10", tz="UTC")
N_CANDLES = 3500
CUTS = (900, 2017, 3499)


class PrefixDataProvider:
    """Serves recorded candles of any pair/timeframe opened at or before ``until``."""

    runmode = RunMode.BACKTEST

    def __init__(self, begin: pd.Timestamp, until: pd.Timestamp) -> None:
        self.begin = begin
        self.until = until

    def market(self, pair: str) -> dict:
        base, quote = pair.split("/")
        return {"base": base, "quote": quote}

    def get_pair_dataframe(self, pair, timeframe=None, candle_type=""):
        frame = load_candles(pair.replace("/", "_"), timeframe)
        return frame[(frame["date"] >= self.begin) & (frame["date"] <= self.until)].reset_index(
            drop=True
        )


def make(cls, risk: dict | None = None):
    strategy = cls(
        {
            "runmode": RunMode.BACKTEST,
            "stake_currency": "USDT",
            "stake_amount": 100,
            "dry_run_wallet": 1000,
            "candle_type_def": CandleType.SPOT,
            "exchange": {"pair_whitelist": ["BTC/USDT", "ETH/USDT"]},
            "trading_agent": {
                "enabled_plugins": ["session_manager", "patterns"],
                "risk": risk or {},
            },
        }
    )
    strategy.bot_start()
    return strategy


def analyse(strategy, candles: pd.DataFrame, pair: str, begin: pd.Timestamp) -> pd.DataFrame:
    """Indicators and signals of ``candles``, informative data from ``begin`` (as a backtest's
    start-up candles give them) up to the last candle."""
    strategy.dp = PrefixDataProvider(begin, candles["date"].iloc[-1])
    metadata = {"pair": pair}
    frame = strategy.advise_indicators(candles.copy(), metadata)
    frame = strategy.populate_entry_trend(frame, metadata)
    return strategy.populate_exit_trend(frame, metadata)


def assert_prefix_invariant(strategy, candles, pair, begin, cuts) -> pd.DataFrame:
    full = analyse(strategy, candles, pair, begin)
    for cut in cuts:
        part = analyse(strategy, candles.head(cut), pair, begin)
        pd.testing.assert_frame_equal(part, full.head(cut), check_exact=True)
    return full


@pytest.mark.parametrize(
    ("cls", "pair"),
    [(FlashStrategy, "BTC/USDT"), (EnhancedFlashStrategy, "ETH/USDT")],
    ids=["FlashStrategy", "EnhancedFlashStrategy"],
)
def test_indicators_and_signals_are_prefix_invariant(cls, pair) -> None:
    base = load_candles(pair.replace("/", "_"), "5m")
    candles = base[base["date"] >= START].head(N_CANDLES).reset_index(drop=True)
    begin = START - pd.Timedelta(days=120)  # warm-up for the 4h EMAs
    full = assert_prefix_invariant(make(cls), candles, pair, begin, CUTS)
    assert {"atr", "signal_strength", "imbalance", "session_code"} <= set(full.columns)
    assert full["enter_long"].sum() > 0, "the window should hold some entries"
    assert full["signal_strength"].between(0, 1).all()


@pytest.mark.parametrize("pair", ["BTC/USDT", "ETH/USDT"])
def test_regime_columns_are_prefix_invariant(pair) -> None:
    """Five months of 1h candles from 2024-04 (daily regime from 2024-01, where the recorded
    data begins): the target weight and every regime column, cut at three points."""
    base = load_candles(pair.replace("/", "_"), "1h")
    start = pd.Timestamp("2024-04-01", tz="UTC")
    candles = base[base["date"] >= start].head(3500).reset_index(drop=True)
    begin = pd.Timestamp("2024-01-01", tz="UTC")
    risk = {"max_position_ratio": 0.5, "max_total_exposure_ratio": 1.0, "stoploss": -0.2}
    full = assert_prefix_invariant(make(RegimeStrategy, risk), candles, pair, begin, CUTS)
    weight = full["target_weight"]
    assert weight.between(0.0, 0.5).all() and (weight > 0.02).any() and (weight == 0).any()
    for column in ("trend_score_slow_1d", "vol_30d_1d", "drawdown_1d", "volatility"):
        assert full[column].notna().any(), column
