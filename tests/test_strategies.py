"""FlashStrategy and EnhancedFlashStrategy: signal maths and every callback decision.

The frames, books and trades here are small synthetic fixtures built by the tests (labelled
as such); real candles are used in tests/test_strategies_prefix.py and the Freqtrade runs.
"""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import CandleType, RunMode
from freqtrade.persistence import LocalTrade, Order, Trade
from freqtrade.persistence.custom_data import CustomDataWrapper

from plugins.orderbook import imbalance as book_imbalance
from trading_agent import Plugin, hookimpl

STRATEGIES = Path(__file__).resolve().parents[1] / "user_data" / "strategies"
if str(STRATEGIES) not in sys.path:
    sys.path.insert(0, str(STRATEGIES))

from EnhancedFlashStrategy import EnhancedFlashStrategy, pattern_directions  # noqa: E402
from FlashStrategy import (  # noqa: E402
    STOP_LOSS_KEY,
    TAKE_PROFIT_KEY,
    FlashStrategy,
)

import trading_agent.strategy.flash_signals as fs  # noqa: E402
from trading_agent.candles import AnalyzedCandles, CandleView  # noqa: E402
from trading_agent.strategy.risk import agent_protections, capped_roi  # noqa: E402

NOW = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)


# -- signal maths (synthetic series) ---------------------------------------------------------


def series(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=np.float64))


def test_momentum_is_a_return_in_percent_and_fires_at_session_thresholds() -> None:
    close = series([100.0, 100.0, 100.0, 100.06, 100.5])
    mom = fs.momentum_pct(close, 3)
    assert math.isnan(mom[2])
    assert mom[3] == pytest.approx(0.06)  # +0.06 % over 3 candles
    assert mom[4] == pytest.approx(0.5)
    # The seed divided by price twice: a 0.06 % move became ~6e-6 and never beat 0.05.
    assert mom[3] > 0.05 and mom[3] / 100.0 < 0.05


def test_volatility_is_the_std_of_one_candle_returns_in_percent() -> None:
    close = series([100.0, 101.0, 100.0, 101.0, 100.0])
    vol = fs.volatility_pct(close, 4)
    returns = close.pct_change().iloc[1:]
    assert vol.iloc[-1] == pytest.approx(100.0 * returns.std(ddof=1))
    assert vol.iloc[:4].isna().all()
    with pytest.raises(ValueError, match="volatility window"):
        fs.volatility_pct(close, 1)


def test_imbalance_proxy_reads_closes_at_highs_as_bid_pressure() -> None:
    high = series([11, 11, 11, 11])
    low = series([9, 9, 9, 9])
    at_high = fs.imbalance_proxy(high, low, series([11, 11, 11, 11]), series([1, 2, 3, 4]), 2)
    assert at_high.iloc[1:].tolist() == [1.0, 1.0, 1.0]
    at_low = fs.imbalance_proxy(high, low, series([9, 9, 9, 9]), series([1, 1, 1, 1]), 2)
    assert at_low.iloc[-1] == -1.0
    # volume-weighted: a heavy candle at the high outweighs a light one at the low
    mixed = fs.imbalance_proxy(high, low, series([9, 11, 9, 11]), series([1, 3, 1, 3]), 2)
    assert mixed.iloc[-1] == pytest.approx((3 - 1) / 4)
    flat = fs.imbalance_proxy(
        series([10, 10]), series([10, 10]), series([10, 10]), series([1, 1]), 1
    )
    assert flat.tolist() == [0.0, 0.0]
    idle = fs.imbalance_proxy(high, low, series([11] * 4), series([0, 0, 0, 0]), 2)
    assert idle.iloc[-1] == 0.0


def test_breakout_compares_with_the_prior_range_only() -> None:
    high = series([10, 11, 12, 12.5, 13])
    close = series([10, 11, 11.5, 11.9, 12.6])
    out = fs.range_breakout(close, high, 2)
    # candle 3 closes above its own high's predecessor but not above the prior two highs
    assert out.tolist() == [False, False, True, False, True]


def test_component_scores_and_entry_rules() -> None:
    imb = series([0.3, 0.1, 0.3, 0.3])
    mom = series([0.1, 0.1, -0.1, 0.2])
    vol = series([0.2, 0.2, 0.2, 0.05])
    brk = pd.Series([True, True, True, True])
    comps = fs.flash_components(
        imb, mom, vol, brk, {"imbalance": 0.2, "momentum": 0.05, "volatility": 0.1}
    )
    assert comps["fired_imbalance"].tolist() == [True, False, True, True]
    assert comps["fired_momentum"].tolist() == [True, True, False, True]
    assert comps["fired_volatility"].tolist() == [True, True, True, False]
    assert comps["score_imbalance"][0] == pytest.approx(0.75)
    assert comps["score_momentum"][0] == 1.0
    # two of three, and never with falling momentum
    assert fs.flash_entry(comps, mom, 2).tolist() == [True, True, False, True]
    assert fs.flash_entry(comps, mom, 3).tolist() == [True, False, False, False]
    strength = fs.flash_strength(comps)
    assert ((strength >= 0) & (strength <= 1)).all()
    assert strength[0] > strength[1]
    with pytest.raises(ValueError, match="min_signals"):
        fs.flash_entry(comps, mom, 4)
    with pytest.raises(ValueError, match="thresholds missing"):
        fs.flash_components(imb, mom, vol, brk, {"imbalance": 0.2})


def test_volatility_needs_a_breakout_to_count() -> None:
    one = series([0.5])
    comps = fs.flash_components(
        one, one, one, pd.Series([False]), {"imbalance": 0.2, "momentum": 0.05, "volatility": 0.1}
    )
    assert not comps["fired_volatility"][0] and comps["score_volatility"][0] == 0.0


def test_component_score_is_half_at_the_threshold() -> None:
    score = fs.component_score(series([0.0, 0.1, 0.2, 0.5, -1, np.nan]), series([0.1] * 6))
    assert score.tolist() == [0.0, 0.5, 1.0, 1.0, 0.0, 0.0]
    assert fs.component_score(series([0.1, 0.0]), series([0.0, 0.0])).tolist() == [1.0, 0.0]


def test_onset_marks_only_the_first_candle_of_a_run() -> None:
    flag = pd.Series([False, True, True, False, True])
    assert fs.onset(flag).tolist() == [False, True, False, False, True]


def test_reversal_exit_needs_both_momentum_and_imbalance() -> None:
    out = fs.flash_exit(series([-0.3, -0.3, 0.0]), series([-0.1, 0.0, -0.1]), 0.2, 0.05)
    assert out.tolist() == [True, False, False]


def test_rolling_vwap_and_participation() -> None:
    high, low, close = series([11, 12, 13]), series([9, 10, 11]), series([10, 11, 12])
    volume = series([1, 3, 0])
    vwap = fs.rolling_vwap(high, low, close, volume, 2)
    assert vwap[1] == pytest.approx((10 * 1 + 11 * 3) / 4)
    assert vwap[2] == pytest.approx(11.0)  # the idle candle adds no weight
    share = fs.participation(100.0, close, volume, 2)
    assert math.isnan(share[0])
    assert share[1] == pytest.approx(100.0 / ((10 * 1 + 11 * 3) / 2))
    assert math.isinf(fs.participation(1.0, close, series([0, 0, 0]), 2)[2])
    with pytest.raises(ValueError, match="stake"):
        fs.participation(-1.0, close, volume, 2)


def test_bad_windows_and_scales_are_named() -> None:
    with pytest.raises(ValueError, match="momentum window must be an integer >= 1, got 0"):
        fs.momentum_pct(series([1, 2]), 0)
    frame = pd.DataFrame({c: [0.1] for c in fs.SESSION_THRESHOLD_COLUMNS.values()})
    with pytest.raises(ValueError, match="momentum threshold scale"):
        fs.session_thresholds(frame, {"imbalance": 1, "momentum": 0, "volatility": 1})
    with pytest.raises(ValueError, match="'session_manager' plugin"):
        fs.require_columns(frame, ["session_position_size_factor"], "X", "session_manager")


def test_session_thresholds_scale_each_component() -> None:
    frame = pd.DataFrame(
        {
            "session_imbalance_threshold": [0.2, 0.25],
            "session_momentum_threshold": [0.05, 0.06],
            "session_volatility_threshold": [0.1, 0.08],
        }
    )
    out = fs.session_thresholds(frame, {"imbalance": 2.0, "momentum": 1.0, "volatility": 0.5})
    assert out["imbalance"].tolist() == pytest.approx([0.4, 0.5])
    assert out["momentum"].tolist() == pytest.approx([0.05, 0.06])
    assert out["volatility"].tolist() == pytest.approx([0.05, 0.04])


def test_component_tags_name_what_fired() -> None:
    comps = pd.DataFrame(
        {
            "fired_imbalance": [True, False, True],
            "fired_momentum": [True, True, False],
            "fired_volatility": [False, True, False],
        }
    )
    assert fs.component_tags(comps, "flash").tolist() == [
        "flash:imb+mom",
        "flash:mom+vol",
        "flash:imb",
    ]


def test_protections_and_roi_ceiling() -> None:
    prot = {p["method"]: p for p in agent_protections(0.05, "5m")}
    assert set(prot) == {"CooldownPeriod", "StoplossGuard", "MaxDrawdown", "LowProfitPairs"}
    assert prot["MaxDrawdown"]["max_allowed_drawdown"] == 0.05
    assert prot["MaxDrawdown"]["lookback_period_candles"] == 288  # one day of 5m candles
    assert prot["CooldownPeriod"]["stop_duration_candles"] == 3
    assert agent_protections(0.05, "1h")[0]["stop_duration_candles"] == 1
    with pytest.raises(ValueError, match="daily_drawdown_limit"):
        agent_protections(0.0, "5m")
    assert capped_roi({0: 0.08, 60: 0.01}, 0.05) == {0: 0.05, 60: 0.01}


# -- strategies with a fake data provider (synthetic frames) ----------------------------------


class FakeDataProvider:
    """Stands in for Freqtrade's DataProvider: one analysed frame per pair, optional book."""

    def __init__(self, runmode: RunMode, frame: pd.DataFrame | None = None, book=None) -> None:
        self.runmode = runmode
        self.frame = frame if frame is not None else pd.DataFrame([{"close": 100.0}])
        self.book = book
        self.book_requests = 0
        self.sent: list[str] = []

    def get_analyzed_dataframe(self, pair, timeframe):
        return self.frame, NOW

    def orderbook(self, pair, maximum):
        self.book_requests += 1
        if self.book is None:
            raise ConnectionError("exchange unreachable")
        return self.book

    def current_whitelist(self):
        return ["BTC/USDT", "ETH/USDT"]

    def send_msg(self, message, always_send=False):
        self.sent.append(message)


class FakeWallets:
    """A dry-run wallet of 1000: what open trades paid is not free."""

    def get_free(self, currency: str) -> float:
        return 1000.0 - sum(t.stake_amount for t in LocalTrade.bt_trades_open)

    def get_total_stake_amount(self) -> float:
        return 1000.0


class ExitAsker(Plugin):
    name = "exit_asker"

    @hookimpl
    def exit_advice(self):
        return "overseer says out"


def config(runmode: RunMode = RunMode.BACKTEST, risk: dict | None = None) -> dict:
    return {
        "runmode": runmode,
        "stake_currency": "USDT",
        "stake_amount": 100,
        "dry_run_wallet": 1000,
        "candle_type_def": CandleType.SPOT,
        "exchange": {"pair_whitelist": ["BTC/USDT", "ETH/USDT"]},
        "trading_agent": {"enabled_plugins": [], "risk": risk or {}},
    }


def make(cls, runmode=RunMode.BACKTEST, frame=None, book=None, plugins=(), risk=None):
    strategy = cls(config(runmode, risk))
    strategy.dp = FakeDataProvider(runmode, frame, book)
    strategy.wallets = FakeWallets()
    strategy.bot_start()
    for plugin in plugins:
        strategy.agent.register(plugin)
    return strategy


@pytest.fixture(autouse=True)
def clean_trades():
    Trade.use_db = False
    CustomDataWrapper.use_db = False
    LocalTrade.reset_trades()
    CustomDataWrapper.reset_custom_data()
    yield
    LocalTrade.reset_trades()
    CustomDataWrapper.reset_custom_data()


def open_trade(open_rate: float = 100.0, opened: datetime = NOW - timedelta(minutes=30)):
    trade = LocalTrade(
        id=1,
        pair="BTC/USDT",
        open_rate=open_rate,
        amount=1.0,
        stake_amount=open_rate,
        open_date=opened,
        fee_open=0.0,
        fee_close=0.0,
        exchange="mexc",
        is_open=True,
    )
    LocalTrade.add_bt_trade(trade)
    return trade


def order(side: str, price: float = 100.0) -> Order:
    return Order(
        ft_order_side=side,
        ft_pair="BTC/USDT",
        ft_is_open=False,
        order_id=f"{side}-1",
        order_type="limit",
        side=side,
        price=price,
        average=price,
        amount=1.0,
        filled=1.0,
        status="closed",
    )


def session_frame(n: int = 40, **overrides) -> pd.DataFrame:
    """Synthetic candles with constant session columns (Europe's seed values)."""
    close = 100.0 + np.arange(n, dtype=np.float64) * 0.01
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2024-05-01 08:00", periods=n, freq="5min", tz="UTC"),
            "open": close,
            "high": close + 0.02,
            "low": close - 0.02,
            "close": close,
            "volume": 10.0,
            "session_imbalance_threshold": 0.2,
            "session_momentum_threshold": 0.05,
            "session_volatility_threshold": 0.1,
            "session_position_size_factor": 1.0,
            "session_take_profit_bps": 20.0,
            "session_stop_loss_bps": 10.0,
        }
    )
    for key, value in overrides.items():
        frame[key] = value
    return frame


def test_flash_uses_the_live_book_only_in_trade_modes() -> None:
    book = {"bids": [[99.9, 3.0], [99.8, 1.0]], "asks": [[100.1, 1.0]], "timestamp": None}
    frame = session_frame(5)
    frame["imbalance"] = 0.0
    frame["imbalance_book"] = np.nan
    backtest = make(FlashStrategy, RunMode.BACKTEST, book=book)
    backtest.apply_live_book(frame, "BTC/USDT")
    assert backtest.dp.book_requests == 0 and frame["imbalance"].iloc[-1] == 0.0
    for mode in (RunMode.HYPEROPT, RunMode.UTIL_NO_EXCHANGE):
        make(FlashStrategy, mode, book=book).apply_live_book(frame, "BTC/USDT")
    dry = make(FlashStrategy, RunMode.DRY_RUN, book=book)
    dry.apply_live_book(frame, "BTC/USDT")
    assert dry.dp.book_requests == 1
    assert frame["imbalance"].iloc[-1] == pytest.approx(book_imbalance(book, 5))
    assert frame["imbalance"].iloc[-1] == pytest.approx((4 - 1) / 5)
    assert frame["imbalance"].iloc[:-1].eq(0.0).all()  # earlier candles keep the stand-in
    failing = make(FlashStrategy, RunMode.LIVE, book=None)
    failing.apply_live_book(frame, "BTC/USDT")
    assert math.isnan(frame["imbalance"].iloc[-1])  # no book: the imbalance cannot fire


def test_flash_needs_the_session_manager_columns() -> None:
    strategy = make(FlashStrategy)
    bare = session_frame(30)[["date", "open", "high", "low", "close", "volume"]]
    with pytest.raises(ValueError, match="session_manager"):
        strategy.populate_indicators(bare, {"pair": "BTC/USDT"})


def flash_signal_frame() -> pd.DataFrame:
    """Synthetic indicator frame: components fire on candles 2-3 and 6 only."""
    frame = session_frame(8)
    frame["imbalance"] = [0, 0, 0.6, 0.6, 0, 0, 0.6, -0.6]
    frame["momentum_pct"] = [0, 0, 0.2, 0.2, 0, 0, 0.2, -0.2]
    frame["volatility_pct"] = [0, 0, 0.3, 0.3, 0, 0, 0.3, 0.3]
    frame["breakout"] = [0, 0, 1, 1, 0, 0, 1, 0]
    return frame


def test_flash_enters_on_signal_onset_with_strength_and_tag() -> None:
    strategy = make(FlashStrategy)
    out = strategy.populate_entry_trend(flash_signal_frame(), {"pair": "BTC/USDT"})
    assert out["enter_long"].tolist() == [0, 0, 1, 0, 0, 0, 1, 0]
    assert out["enter_tag"][2] == "flash:imb+mom+vol"
    assert pd.isna(out["enter_tag"][3])
    assert ((out["signal_strength"] >= 0) & (out["signal_strength"] <= 1)).all()
    assert out["signal_strength"][2] > out["signal_strength"][0]
    assert out["risk_level"].equals(out["signal_strength"] * out["session_position_size_factor"])


def test_flash_thresholds_follow_the_session_and_scale() -> None:
    strategy = make(FlashStrategy)
    frame = flash_signal_frame()
    frame["session_momentum_threshold"] = 0.1  # x3 scale = 0.3 > 0.2: momentum never fires
    out = strategy.populate_entry_trend(frame, {"pair": "BTC/USDT"})
    assert out["enter_long"].sum() == 0
    strategy.momentum_scale.value = 1.0
    assert strategy.populate_entry_trend(frame, {"pair": "BTC/USDT"})["enter_long"].sum() == 2


def test_flash_exit_on_reversal() -> None:
    out = make(FlashStrategy).populate_exit_trend(flash_signal_frame(), {"pair": "BTC/USDT"})
    assert out["exit_long"].tolist() == [0, 0, 0, 0, 0, 0, 0, 1]
    assert out["exit_tag"][7] == "flash_reversal"


def test_flash_records_the_entry_sessions_targets_and_uses_them() -> None:
    frame = session_frame(3, session_take_profit_bps=25.0, session_stop_loss_bps=15.0)
    strategy = make(FlashStrategy, frame=frame)
    trade = open_trade()
    assert strategy.custom_roi("BTC/USDT", trade, NOW, 30, None, "long") is None
    strategy.order_filled("BTC/USDT", trade, order("buy"), NOW)
    assert strategy.session_targets(trade) == (25.0, 15.0)
    # backtests keep them in memory only: Freqtrade's backtest custom-data store is a list
    # scanned on every access
    assert trade.get_custom_data(TAKE_PROFIT_KEY) is None
    roi = strategy.custom_roi("BTC/USDT", trade, NOW, 30, None, "long")
    assert roi == pytest.approx(25.0 * strategy.take_profit_scale.value / 1e4)
    # a second entry fill (position added) does not overwrite the first entry's targets
    strategy.dp.frame = session_frame(3, session_take_profit_bps=5.0)
    strategy.order_filled("BTC/USDT", trade, order("buy"), NOW)
    assert strategy.session_targets(trade) == (25.0, 15.0)
    # the exit that closes the trade forgets them (memory stays bounded over a backtest)
    strategy.order_filled("BTC/USDT", trade, order("sell", price=100.1), NOW)
    assert strategy.session_targets(trade) == (None, None)


def test_flash_session_targets_survive_a_restart_in_dry_run() -> None:
    frame = session_frame(3, session_take_profit_bps=25.0, session_stop_loss_bps=15.0)
    trade = open_trade()
    make(FlashStrategy, runmode=RunMode.DRY_RUN, frame=frame).order_filled(
        "BTC/USDT", trade, order("buy"), NOW
    )
    assert trade.get_custom_data(TAKE_PROFIT_KEY) == 25.0
    assert trade.get_custom_data(STOP_LOSS_KEY) == 15.0
    restarted = make(FlashStrategy, runmode=RunMode.DRY_RUN, frame=session_frame(3))
    assert restarted.session_targets(trade) == (25.0, 15.0)


def test_flash_session_stop_tightens_but_never_loosens() -> None:
    frame = session_frame(3, atr=0.5, session_stop_loss_bps=10.0)
    strategy = make(FlashStrategy, frame=frame)
    trade = open_trade(open_rate=100.0)
    strategy.order_filled("BTC/USDT", trade, order("buy"), NOW)
    strategy.stop_loss_scale.value = 2.0
    # session stop 100 x (1 - 20 bps) = 99.8 beats the ATR stop (99) and the hard stop (98)
    assert strategy.custom_stoploss("BTC/USDT", trade, NOW, 100.0, 0.0, False) == pytest.approx(
        1 - 99.8 / 100.0
    )
    strategy.ft_stoploss_adjust(100.0, trade, NOW, 0.0, 0)
    assert trade.stop_loss == pytest.approx(99.8)
    # price rises: the ATR stop (rate - 2 x 0.5) takes over above the session stop
    strategy.ft_stoploss_adjust(101.5, trade, NOW, 0.015, 0)
    assert trade.stop_loss == pytest.approx(100.5)
    # price falls back: the stop stays where it was, never back to the session stop
    sl = strategy.custom_stoploss("BTC/USDT", trade, NOW, 100.8, 0.008, False)
    assert sl == pytest.approx(1 - 100.5 / 100.8)
    strategy.ft_stoploss_adjust(100.8, trade, NOW, 0.008, 0)
    assert trade.stop_loss == pytest.approx(100.5)


def test_flash_stop_without_session_data_is_the_base_stop() -> None:
    strategy = make(FlashStrategy, frame=session_frame(3))
    trade = open_trade(open_rate=100.0)
    sl = strategy.custom_stoploss("BTC/USDT", trade, NOW, 100.0, 0.0, False)
    assert sl == pytest.approx(0.02)  # the hard 2 % stop only


def test_flash_time_stop_and_plugin_exits() -> None:
    strategy = make(FlashStrategy)
    fresh = open_trade(opened=NOW - timedelta(minutes=30))
    assert strategy.custom_exit("BTC/USDT", fresh, NOW, 100.0, 0.0) is None
    old = NOW - timedelta(minutes=strategy.max_hold_minutes.value)
    stale = open_trade(opened=old)
    assert strategy.custom_exit("BTC/USDT", stale, NOW, 100.0, 0.0) == "flash_time_stop"
    asked = make(FlashStrategy, plugins=[ExitAsker()])
    reason = asked.custom_exit("BTC/USDT", fresh, NOW, 100.0, 0.0)
    assert reason == "exit_asker: overseer says out"


def test_strategies_cap_roi_and_declare_protections() -> None:
    for cls in (FlashStrategy, EnhancedFlashStrategy):
        strategy = make(cls, risk={"take_profit": 0.02})
        assert max(strategy.minimal_roi.values()) == pytest.approx(0.02)
        methods = [p["method"] for p in strategy.protections]
        assert methods == ["CooldownPeriod", "StoplossGuard", "MaxDrawdown", "LowProfitPairs"]
        assert cls.startup_candle_count >= 400


# -- EnhancedFlashStrategy decisions (synthetic indicator frames) ------------------------------


def enhanced_frame(n: int = 3, **overrides) -> pd.DataFrame:
    """Synthetic frame where every entry condition holds on every candle."""
    frame = session_frame(n)
    values = {
        "imbalance": 0.6,
        "momentum_pct": 0.2,
        "volatility_pct": 0.3,
        "breakout": 1,
        "trend_up": 1,
        "adx_1h": 30.0,
        "macdhist": 0.1,
        "vwap": 99.0,
        "rsi": 55.0,
        "bb_upper": 200.0,
        "bull_pattern_recent": 0,
        "bear_pattern_recent": 0,
        "bear_pattern": 0,
        "btc_trend": 1,
        "liquidity_ok": 1,
        "ema_slow_1h": 90.0,
    }
    values.update(overrides)
    for key, value in values.items():
        frame[key] = value
    return frame


@pytest.mark.parametrize(
    "blocker",
    [
        {"trend_up": 0},
        {"adx_1h": 10.0},
        {"macdhist": -0.1},
        {"vwap": 200.0},
        {"rsi": 75.0},
        {"bb_upper": 50.0},
        {"bear_pattern_recent": 1},
        {"btc_trend": 0},
        {"liquidity_ok": 0},
        {"momentum_pct": -0.2},
    ],
    ids=lambda b: next(iter(b)),
)
def test_enhanced_entry_needs_every_filter(blocker) -> None:
    strategy = make(EnhancedFlashStrategy)
    assert strategy.populate_entry_trend(enhanced_frame(), {"pair": "ETH/USDT"})[
        "enter_long"
    ].tolist() == [1, 1, 1]
    out = strategy.populate_entry_trend(enhanced_frame(**blocker), {"pair": "ETH/USDT"})
    assert out["enter_long"].sum() == 0


def test_enhanced_pattern_requirement_and_strength() -> None:
    strategy = make(EnhancedFlashStrategy)
    strategy.require_pattern.value = True
    assert (
        strategy.populate_entry_trend(enhanced_frame(), {"pair": "ETH/USDT"})["enter_long"].sum()
        == 0
    )
    out = strategy.populate_entry_trend(enhanced_frame(bull_pattern_recent=1), {"pair": "ETH/USDT"})
    assert out["enter_long"].tolist() == [1, 1, 1]
    assert out["enter_tag"][0].endswith("+pattern")
    plain = strategy.populate_entry_trend(enhanced_frame(), {"pair": "ETH/USDT"})
    assert (out["signal_strength"] > plain["signal_strength"]).all()
    assert out["signal_strength"].between(0, 1).all()


def test_enhanced_exit_reasons() -> None:
    frame = enhanced_frame(4)
    frame["rsi"] = [50.0, 85.0, 50.0, 50.0]
    frame["bear_pattern"] = [0, 0, 1, 0]  # blocks entries, but is no exit
    frame["close"] = [100.0, 100.0, 100.0, 80.0]
    frame["macdhist"] = [0.1, 0.1, 0.1, -0.1]
    out = make(EnhancedFlashStrategy).populate_exit_trend(frame, {"pair": "ETH/USDT"})
    assert out["exit_long"].tolist() == [0, 1, 0, 1]
    assert out["exit_tag"][1] == "rsi_overbought"
    assert out["exit_tag"][3] == "trend_broken"
    assert pd.isna(out["exit_tag"][0]) and pd.isna(out["exit_tag"][2])


def test_pattern_directions_ignore_levels_and_dojis() -> None:
    frame = pd.DataFrame(
        {
            "pattern_double_bottom": [1, 0, 0, 0],
            "pattern_double_bottom_target": [5.0, -3.0, 0.0, 0.0],
            "pattern_head_shoulders": [0, -1, 0, 0],
            "cdl_hammer": [0, 0, 1, 0],
            "cdl_doji": [0, 0, 0, 1],
        }
    )
    chart_bull, chart_bear, candle_bull, candle_bear = pattern_directions(frame)
    assert chart_bull.tolist() == [True, False, False, False]
    assert chart_bear.tolist() == [False, True, False, False]
    assert candle_bull.tolist() == [False, False, True, False]
    assert not candle_bear.any()


def test_enhanced_btc_filter_applies_to_other_pairs_only() -> None:
    strategy = make(EnhancedFlashStrategy)
    frame = enhanced_frame(2)
    frame = frame.drop(columns=["btc_trend", "bull_pattern_recent", "bear_pattern_recent"])
    frame["ema_fast_1h"], frame["ema_slow_1h"] = 101.0, 100.0
    frame["ema_fast_4h"], frame["ema_slow_4h"] = 101.0, 100.0
    frame["btc_close_1h"], frame["btc_ema_fast_1h"], frame["btc_ema_slow_1h"] = 90.0, 95.0, 100.0
    frame["participation"] = 0.001
    eth = strategy.context_columns(frame, {"pair": "ETH/USDT"})
    btc = strategy.context_columns(frame, {"pair": "BTC/USDT"})
    assert eth["btc_trend"].tolist() == [0, 0]  # BTC below its 1h EMA50: no ETH longs
    assert btc["btc_trend"].tolist() == [1, 1]
    assert eth["liquidity_ok"].tolist() == [1, 1]
    frame["participation"] = 0.05  # the stake would be 5 % of a candle's volume
    assert strategy.context_columns(frame, {"pair": "ETH/USDT"})["liquidity_ok"].sum() == 0


def test_enhanced_uses_the_live_book_only_in_trade_modes() -> None:
    book = {"bids": [[99.9, 1.0]], "asks": [[100.1, 3.0]]}
    frame = session_frame(3)
    frame["imbalance"], frame["imbalance_book"] = 0.1, np.nan
    make(EnhancedFlashStrategy, RunMode.BACKTEST, book=book).apply_live_book(frame, "ETH/USDT")
    assert frame["imbalance"].iloc[-1] == 0.1
    make(EnhancedFlashStrategy, RunMode.DRY_RUN, book=book).apply_live_book(frame, "ETH/USDT")
    assert frame["imbalance"].iloc[-1] == pytest.approx(-0.5)
    assert frame["imbalance_book"].iloc[-1] == pytest.approx(-0.5)


def test_enhanced_max_stake_for_the_liquidity_check() -> None:
    strategy = make(EnhancedFlashStrategy)
    assert strategy.max_stake() == pytest.approx(100 * 1.5)
    strategy.config["stake_amount"] = "unlimited"
    assert strategy.max_stake() == pytest.approx(1000 * 0.10)


def test_candle_view_reads_the_last_row_lazily() -> None:
    frame = pd.DataFrame({"close": [1.0, 2.0], "session": ["asia", "us"], "atr": [0.1, 0.2]})
    view = AnalyzedCandles(frame).last()
    assert view["close"] == 2.0 and view["session"] == "us"
    assert view.get("missing", 7) == 7 and "atr" in view and len(view) == 3
    assert dict(view) == frame.iloc[-1].to_dict() == view.to_dict()
    assert AnalyzedCandles(frame.iloc[:0]).last() == {}
    with pytest.raises(IndexError):
        CandleView(frame, 2)


def test_flash_session_targets_are_cached_and_dropped_on_close() -> None:
    frame = session_frame(3, session_take_profit_bps=25.0)
    strategy = make(FlashStrategy, runmode=RunMode.DRY_RUN, frame=frame)
    trade = open_trade()
    strategy.order_filled("BTC/USDT", trade, order("buy"), NOW)
    assert strategy.session_targets(trade) == (25.0, 10.0)
    assert len(strategy._session_targets) == 1
    trade.is_open = False
    strategy.order_filled("BTC/USDT", trade, order("sell"), NOW)
    assert strategy._session_targets == {}
    # dry-run: still on the trade itself (custom data, read back after a restart)
    assert strategy.session_targets(trade) == (25.0, 10.0)


@pytest.mark.parametrize("cls", [FlashStrategy, EnhancedFlashStrategy])
def test_strategies_unpickle_where_the_strategy_folder_is_not_importable(cls, tmp_path) -> None:
    """Hyperopt's workers unpickle the strategy without ``user_data/strategies`` on sys.path."""
    import subprocess

    cloudpickle = pytest.importorskip("cloudpickle")
    strategy = make(cls)
    strategy.dp = strategy.wallets = None  # as Freqtrade does before pickling
    module = sys.modules[cls.__module__]
    cloudpickle.register_pickle_by_value(module)  # as Freqtrade's resolver-loaded module is
    try:
        (tmp_path / "strategy.pkl").write_bytes(cloudpickle.dumps(strategy))
    finally:
        cloudpickle.unregister_pickle_by_value(module)
    code = (
        "import pickle, sys\n"
        "assert not any(p.endswith('strategies') for p in sys.path)\n"
        "s = pickle.loads(open('strategy.pkl', 'rb').read())\n"
        "print(type(s).__name__, s.protections[2]['method'], s.thresholds.__name__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == [cls.__name__, "MaxDrawdown", "thresholds"]
