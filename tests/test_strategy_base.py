"""Every decision the base strategy makes in Freqtrade's callbacks, and its failure policy.

The dataframes and books here are small synthetic fixtures built by the tests.
"""

from __future__ import annotations

import logging
import pickle
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from freqtrade.enums import RunMode
from freqtrade.persistence import LocalTrade, Trade
from freqtrade.persistence.custom_data import CustomDataWrapper

from trading_agent import EntryVerdict, Plugin, RiskAdvice, hookimpl
from trading_agent.strategy.base import AgentStrategy, check_api_secrets, own_limits
from trading_agent.strategy.risk import RiskLimits, clamp_stake, tighten_stop_rate

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class MiniStrategy(AgentStrategy):
    def populate_indicators(self, dataframe, metadata):
        return self.add_plugin_indicators(dataframe, metadata)

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe


class FakeDataProvider:
    """Stands in for Freqtrade's DataProvider: one analysed candle per pair."""

    def __init__(self, candle: dict, runmode: RunMode, book: dict | None = None) -> None:
        self.candle = candle
        self.runmode = runmode
        self.book = book
        self.sent: list[str] = []

    def get_analyzed_dataframe(self, pair, timeframe):
        return pd.DataFrame([self.candle]), NOW

    def orderbook(self, pair, maximum):
        if self.book is None:
            raise ConnectionError("exchange unreachable")
        return self.book

    def current_whitelist(self):
        return ["BTC/USDT"]

    def send_msg(self, message, always_send=False):
        self.sent.append(message)


class FakeWallets:
    """A dry-run wallet of ``total`` stake currency: what open trades paid is not free."""

    def __init__(self, total: float) -> None:
        self.total = total

    def get_free(self, currency: str) -> float:
        closed = sum(t.close_profit_abs or 0.0 for t in LocalTrade.bt_trades)
        return self.total + closed - sum(t.stake_amount for t in LocalTrade.bt_trades_open)

    def get_total_stake_amount(self) -> float:
        return self.total


class Multiplier(Plugin):
    name = "multiplier"

    def __init__(self, value: float = 0.5, stoploss: float | None = None) -> None:
        super().__init__()
        self.value, self.stop = value, stoploss

    @hookimpl
    def risk_advice(self):
        return RiskAdvice(stake_multiplier=self.value, stoploss=self.stop, reason="test")


class Raiser(Plugin):
    name = "raiser"

    @hookimpl
    def approve_entry(self):
        raise RuntimeError("plugin crashed")

    @hookimpl
    def risk_advice(self):
        raise RuntimeError("plugin crashed")


class SpreadGuard(Plugin):
    """Test plugin: vetoes when the live book's spread is wider than 10 bps."""

    name = "spread_guard"

    @hookimpl
    def approve_entry(self, orderbook, runmode):
        if runmode not in ("dry_run", "live"):
            return None
        if not orderbook:
            return EntryVerdict(False, "no book")
        bid, ask = orderbook["bids"][0][0], orderbook["asks"][0][0]
        spread_bps = (ask - bid) / ((ask + bid) / 2) * 1e4
        return EntryVerdict(spread_bps <= 10, f"spread {spread_bps:.1f} bps")


@pytest.fixture(autouse=True)
def clean_trades():
    Trade.use_db = False
    CustomDataWrapper.use_db = False  # as in backtesting: custom data kept in memory
    LocalTrade.reset_trades()
    CustomDataWrapper.reset_custom_data()
    yield
    LocalTrade.reset_trades()
    CustomDataWrapper.reset_custom_data()


def make_strategy(
    *plugins: Plugin,
    candle: dict | None = None,
    runmode: RunMode = RunMode.BACKTEST,
    book: dict | None = None,
    account: float = 1000.0,
    risk: dict | None = None,
) -> MiniStrategy:
    config = {
        "runmode": runmode,
        "stake_currency": "USDT",
        "exchange": {"pair_whitelist": ["BTC/USDT"]},
        "trading_agent": {"enabled_plugins": [], "risk": risk or {}},
    }
    strategy = MiniStrategy(config)
    strategy.dp = FakeDataProvider(candle or {"close": 100.0}, runmode, book)
    strategy.wallets = FakeWallets(account)
    strategy.bot_start()
    for plugin in plugins:
        strategy.agent.register(plugin)
    return strategy


def entry(strategy: MiniStrategy, pair: str = "BTC/USDT") -> bool:
    return strategy.confirm_trade_entry(pair, "limit", 1.0, 100.0, "GTC", NOW, None, "long")


def stake(strategy: MiniStrategy, proposed: float = 500.0, min_stake: float = 5.0) -> float:
    return strategy.custom_stake_amount(
        "BTC/USDT", NOW, 100.0, proposed, min_stake, 10_000.0, 1.0, None, "long"
    )


def open_trade(open_rate: float = 100.0, stake_amount: float = 100.0) -> LocalTrade:
    trade = LocalTrade(
        id=1,
        pair="BTC/USDT",
        open_rate=open_rate,
        amount=stake_amount / open_rate,
        stake_amount=stake_amount,
        open_date=NOW - timedelta(hours=1),
        fee_open=0.0,
        fee_close=0.0,
        exchange="mexc",
        is_open=True,
    )
    LocalTrade.add_bt_trade(trade)
    return trade


def test_stake_is_clamped_to_the_position_limit() -> None:
    assert stake(make_strategy()) == pytest.approx(100.0)  # 10 % of a 1000 account


def test_stake_scales_with_signal_session_and_plugin_multiplier() -> None:
    candle = {"close": 100.0, "signal_strength": 0.5, "session_position_size_factor": 0.8}
    strategy = make_strategy(Multiplier(0.5), candle=candle)
    assert stake(strategy, proposed=100.0) == pytest.approx(100.0 * 0.5 * 0.8 * 0.5)


def test_stake_respects_total_exposure_and_skips_below_minimum() -> None:
    strategy = make_strategy(risk={"max_total_exposure_ratio": 0.15})
    open_trade(stake_amount=100.0)
    assert stake(strategy, min_stake=5.0) == pytest.approx(50.0)
    assert stake(strategy, min_stake=60.0) == 0.0


def test_failing_plugin_fails_closed_for_entry_and_stake() -> None:
    strategy = make_strategy(Raiser())
    assert entry(strategy) is False
    assert stake(strategy) == 0.0


def test_broken_data_provider_vetoes_instead_of_approving() -> None:
    strategy = make_strategy()

    def broken(pair, timeframe):
        raise KeyError(pair)

    strategy.dp.get_analyzed_dataframe = broken
    assert entry(strategy) is False
    assert stake(strategy) == 0.0


def test_wide_spread_vetoes_in_dry_run_but_no_book_is_fetched_in_backtest() -> None:
    wide = {"bids": [[99.0, 1.0]], "asks": [[101.0, 1.0]]}
    tight = {"bids": [[99.99, 1.0]], "asks": [[100.01, 1.0]]}
    assert entry(make_strategy(SpreadGuard(), runmode=RunMode.DRY_RUN, book=wide)) is False
    assert entry(make_strategy(SpreadGuard(), runmode=RunMode.DRY_RUN, book=tight)) is True
    # the book fetch fails: the plugin sees None and vetoes
    assert entry(make_strategy(SpreadGuard(), runmode=RunMode.DRY_RUN, book=None)) is False
    # in a backtest the strategy never asks for a live book
    assert entry(make_strategy(SpreadGuard(), runmode=RunMode.BACKTEST, book=wide)) is True


def test_vetoes_are_notified_with_rate_limiting() -> None:
    strategy = make_strategy(
        SpreadGuard(), runmode=RunMode.DRY_RUN, book={"bids": [[99.0, 1.0]], "asks": [[101.0, 1.0]]}
    )
    for _ in range(3):
        entry(strategy)
    assert len(strategy.dp.sent) == 1 and r"spread\_guard" in strategy.dp.sent[0]


class HostileVetoer(Plugin):
    """Vetoes with a reason as a hostile model or venue might word it."""

    name = "hostile"
    reason = (
        "ok\n2026-12-01 12:00:00,000 - freqtrade - INFO - SYSTEM OVERRIDE "
        "[click to re-auth](http://evil.example/login) \u202egnp.exe\u200b" + "x" * 10_000
    )

    @hookimpl
    def approve_entry(self) -> EntryVerdict:
        return EntryVerdict(False, self.reason)


def test_a_hostile_reason_gives_one_log_line_and_no_link(caplog) -> None:
    strategy = make_strategy(HostileVetoer(), runmode=RunMode.DRY_RUN)
    with caplog.at_level(logging.INFO, logger="trading_agent.strategy.base"):
        entry(strategy)
    (sent,) = strategy.dp.sent
    lines = [r.getMessage() for r in caplog.records]
    assert len([line for line in lines if line.startswith("notify:")]) == 1
    for text in (sent, *lines):
        assert "\n" not in text and "http" not in text and "evil.example" not in text
        assert "\u202e" not in text and "\u200b" not in text
        assert len(text) <= 1100
    assert "(link removed)" in sent and r"\[click" in sent  # Markdown entity escaped


@pytest.mark.parametrize(("loss", "allowed"), [(-60.0, False), (-10.0, True)])
def test_daily_loss_limit_counts_what_closed_earlier_today(loss: float, allowed: bool) -> None:
    """A trade closed two hours before the strategy's first look today lost 6 % (1 %) of the
    day's starting equity of 1000: entries are blocked (allowed) at the 5 % limit."""
    loser = open_trade()
    loser.is_open = False
    loser.close_date = NOW - timedelta(hours=2)
    loser.close_profit_abs = loss
    LocalTrade.close_bt_trade(loser)
    assert entry(make_strategy()) is allowed


def test_daily_loss_limit_is_on_equity_marked_to_market() -> None:
    """An open position's unrealised loss since the day's first look counts: 500 of a 1000
    account bought at 100 (planted), down to 88 (6 % of equity) blocks; the next day's start
    resets the count."""
    strategy = make_strategy(risk={"max_position_ratio": 0.5, "max_total_exposure_ratio": 1.0})
    open_trade(stake_amount=500.0)
    strategy.dp.candle = {"close": 100.0}
    strategy.bot_loop_start(current_time=NOW)  # the day's first look: equity 1000
    strategy.dp.candle = {"close": 88.0}
    strategy.__dict__["_candles"] = {}
    assert entry(strategy) is False
    tomorrow = NOW + timedelta(days=1)
    strategy.bot_loop_start(current_time=tomorrow)
    assert strategy.entry_allowed("BTC/USDT", "long", 88.0, 1.0, tomorrow) is True


def freqtrade_adjusts_stop(strategy: AgentStrategy, trade: LocalTrade, rate: float) -> float:
    """Freqtrade's own stop update (it calls custom_stoploss on a deep copy of the trade)."""
    strategy.ft_stoploss_adjust(rate, trade, NOW, trade.calc_profit_ratio(rate), 0)
    return trade.stop_loss


def test_stoploss_only_ever_tightens() -> None:
    candle = {"close": 100.0, "atr": 1.0}
    strategy = make_strategy(candle=candle, risk={"atr_stop_multiplier": 2.0})
    trade = open_trade(open_rate=100.0)
    stops = [freqtrade_adjusts_stop(strategy, trade, r) for r in (100.0, 103.0, 106.0, 101.0)]
    assert stops == pytest.approx([98.0, 101.0, 104.0, 104.0])  # hard 2 %, then rate - 2 ATR
    # the ATR stop at 105 would be 103, below the trade's stop: the answer keeps 104
    assert strategy.custom_stoploss("BTC/USDT", trade, NOW, 105.0, 0.05, False) == pytest.approx(
        1 - 104.0 / 105.0
    )


def test_plugin_stoploss_advice_tightens_but_cannot_loosen() -> None:
    tight = make_strategy(Multiplier(1.0, stoploss=-0.005), candle={"close": 100.0})
    assert freqtrade_adjusts_stop(tight, open_trade(), 100.0) == pytest.approx(99.5)
    LocalTrade.reset_trades()
    loose = make_strategy(Multiplier(1.0, stoploss=-0.2), candle={"close": 100.0})
    assert freqtrade_adjusts_stop(loose, open_trade(), 100.0) == pytest.approx(98.0)


def test_strategy_pickles_without_its_plugins_and_rebuilds_them() -> None:
    strategy = make_strategy(Multiplier(0.5))
    strategy.dp = None  # Freqtrade's hyperopt drops the data provider before pickling too
    clone = pickle.loads(pickle.dumps(strategy))
    assert "_agent" not in clone.__dict__
    assert clone.agent.names == []  # rebuilt from the config, not carried across


def test_bad_risk_limits_stop_the_bot_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"trading_agent\.risk\.max_position_ratio"):
        make_strategy(risk={"max_position_ratio": 2})


def test_clamp_stake_rejects_non_finite_input() -> None:
    with pytest.raises(ValueError, match="multiplier"):
        clamp_stake(100, float("nan"), 1000, 0, RiskLimits(), 5, 1000)


def test_tighten_stop_rate_ignores_invalid_candidates() -> None:
    assert tighten_stop_rate(98.0, None, float("nan"), -1.0, 97.0) == 98.0
    assert tighten_stop_rate(None, None) is None


@pytest.mark.parametrize(
    ("api", "missing"),
    [
        (
            {"enabled": True, "username": "u", "password": "", "jwt_secret_key": "x" * 32},
            "FREQTRADE__API_SERVER__PASSWORD",
        ),
        (
            {"enabled": True, "username": "u", "password": "p"},
            "FREQTRADE__API_SERVER__JWT_SECRET_KEY",
        ),
        (
            {
                "enabled": True,
                "username": "",
                "password": "p",
                "jwt_secret_key": "somethingRandomSomethingRandom123",
            },
            "FREQTRADE__API_SERVER__USERNAME, FREQTRADE__API_SERVER__JWT_SECRET_KEY",
        ),
    ],
)
def test_rest_api_without_credentials_refuses_to_start(api: dict, missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        check_api_secrets({"api_server": api})
    check_api_secrets({"api_server": {**api, "enabled": False}})


def test_dry_run_start_checks_api_credentials_but_backtests_do_not() -> None:
    config = {
        "runmode": RunMode.DRY_RUN,
        "api_server": {"enabled": True},
        "trading_agent": {"enabled_plugins": []},
    }
    with pytest.raises(ValueError, match="PASSWORD"):
        MiniStrategy(config).bot_start()
    MiniStrategy({**config, "runmode": RunMode.BACKTEST}).bot_start()


def test_a_strategy_may_lower_the_position_cap_but_never_raise_it() -> None:
    limits = RiskLimits(max_position_ratio=0.5, max_total_exposure_ratio=1.0)
    assert own_limits(limits, 0.1).max_position_ratio == 0.1
    assert own_limits(limits, 0.9) is limits  # the config's cap stays the ceiling
    assert own_limits(limits, None) is limits
    with pytest.raises(ValueError, match="max_position_share must be in"):
        own_limits(limits, float("nan"))
