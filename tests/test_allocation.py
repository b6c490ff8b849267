"""The rebalancing rule and the allocation kit: never past a cap, never above target + band.

Property tests over many account, price and target values (synthetic numbers: the rule is
pure arithmetic), then the kit's Freqtrade callbacks on planted trades.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from freqtrade.enums import RunMode
from freqtrade.persistence import LocalTrade, Trade
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent import EntryVerdict, Plugin, RiskAdvice, hookimpl
from trading_agent.strategy.allocation import Caps, entry_stake, headroom, rebalance_order
from trading_agent.strategy.allocator import AllocationStrategy

NOW = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
EPS = 1e-9

money = st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False)
share = st.floats(min_value=0.01, max_value=1.0)
caps_st = st.builds(
    lambda a, b: Caps(min(a, b), max(a, b)), share, share
)  # per pair never above total


@settings(max_examples=500, deadline=None)
@given(
    equity=st.floats(min_value=1.0, max_value=1e7),
    position_share=st.floats(min_value=0.0, max_value=1.5),
    others_share=st.floats(min_value=0.0, max_value=1.5),
    target_share=st.floats(min_value=0.0, max_value=1.5),
    session=st.floats(min_value=0.0, max_value=1.0),
    band=st.floats(min_value=0.0, max_value=0.9),
    caps=caps_st,
    min_stake=st.one_of(st.none(), st.floats(min_value=0.0, max_value=50.0)),
    max_stake=money,
)
def test_a_rebalancing_order_never_passes_a_cap_or_the_band(
    equity, position_share, others_share, target_share, session, band, caps, min_stake, max_stake
) -> None:
    position = position_share * equity
    exposure = position + others_share * equity
    target = target_share * equity
    add_target = target * session
    order = rebalance_order(
        position, target, add_target, band, equity, exposure, caps, min_stake, max_stake
    )
    after = position + order
    assert math.isfinite(order) and after >= -EPS
    if order > 0:  # a purchase: within every cap, the target, Freqtrade's max stake
        assert after <= caps.per_pair * equity * (1 + EPS) + EPS
        assert exposure + order <= caps.total * equity * (1 + EPS) + EPS
        assert after <= target * (1 + band) + EPS and after <= add_target + EPS
        assert order <= max_stake + EPS
        assert min_stake is None or order >= min_stake
        assert position < add_target * (1 - band)  # only below the band
    if order < 0:  # a sale: never more than the position, never below the target
        assert after >= min(target, caps.per_pair * equity) - EPS or after >= -EPS
    slack = 1e-6 * equity
    over = position > caps.per_pair * equity + slack or exposure > caps.total * equity + slack
    if over and position > 0:  # a cap breached: the position is cut back, whatever the band
        assert order < 0 or position <= target * (1 + band)
        assert after <= caps.per_pair * equity * (1 + 1e-6) + EPS
    within = position <= caps.per_pair * equity and exposure <= caps.total * equity
    if within and add_target * (1 - band) <= position <= target * (1 + band):
        assert order == 0  # inside the band: left alone


@settings(max_examples=300, deadline=None)
@given(
    equity=st.floats(min_value=1.0, max_value=1e7),
    others_share=st.floats(min_value=0.0, max_value=1.5),
    target_share=st.floats(min_value=0.0, max_value=1.5),
    caps=caps_st,
    min_stake=st.one_of(st.none(), st.floats(min_value=0.0, max_value=50.0)),
    max_stake=money,
)
def test_an_entry_stake_stays_within_the_caps(
    equity, others_share, target_share, caps, min_stake, max_stake
) -> None:
    exposure = others_share * equity
    stake = entry_stake(target_share * equity, equity, exposure, caps, min_stake, max_stake)
    assert 0.0 <= stake <= target_share * equity + EPS
    assert stake <= headroom(equity, 0.0, exposure, caps) + EPS and stake <= max_stake + EPS
    if stake > 0:
        assert min_stake is None or stake >= min_stake


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Caps(0.0, 1.0), "cap per_pair must be in"),
        (lambda: Caps(0.5, 1.5), "cap total must be in"),
        (lambda: entry_stake(float("nan"), 1.0, 0.0, Caps(0.5, 1.0), None, 1.0), "target"),
        (
            lambda: rebalance_order(1.0, 1.0, 1.0, 1.0, 10.0, 1.0, Caps(0.5, 1.0), None, 1.0),
            "band must be below 1",
        ),
        (
            lambda: rebalance_order(-1.0, 1.0, 1.0, 0.1, 10.0, 1.0, Caps(0.5, 1.0), None, 1.0),
            "position must be finite",
        ),
    ],
)
def test_bad_figures_are_refused_by_name(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# -- the kit's callbacks on planted trades ---------------------------------------------------


class FakeDataProvider:
    """One analysed candle per pair (planted), as Freqtrade's provider would hand it."""

    def __init__(self, candles: dict[str, dict]) -> None:
        self.candles = candles
        self.runmode = RunMode.BACKTEST
        self.sent: list[str] = []

    def get_analyzed_dataframe(self, pair, timeframe):
        import pandas as pd

        return pd.DataFrame([self.candles[pair]]), NOW

    def current_whitelist(self):
        return list(self.candles)

    def send_msg(self, message, always_send=False):
        self.sent.append(message)


class FakeWallets:
    """A wallet of ``total``: what open trades paid is not free."""

    def __init__(self, total: float) -> None:
        self.total = total

    def get_free(self, currency: str) -> float:
        return self.total - sum(t.stake_amount for t in LocalTrade.bt_trades_open)

    def get_total_stake_amount(self) -> float:
        return self.total


class Halver(Plugin):
    """Advises half the stake (as the overseer does in a high-volatility regime)."""

    name = "halver"

    @hookimpl
    def risk_advice(self) -> RiskAdvice:
        return RiskAdvice(stake_multiplier=0.5, reason="high volatility")


class Pauser(Plugin):
    """Vetoes every entry (as the overseer does when entries are paused)."""

    name = "pauser"

    @hookimpl
    def approve_entry(self) -> EntryVerdict:
        return EntryVerdict(False, "entries paused")


class Allocator(AllocationStrategy):
    timeframe = "1h"

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe


@pytest.fixture(autouse=True)
def clean_trades():
    """Trades in memory, as in a backtest; Freqtrade's setting restored afterwards."""
    use_db = Trade.use_db
    Trade.use_db = False
    LocalTrade.reset_trades()
    yield
    LocalTrade.reset_trades()
    Trade.use_db = use_db


def make(weights: dict[str, float], *plugins: Plugin, account: float = 1000.0) -> Allocator:
    strategy = Allocator(
        {
            "runmode": RunMode.BACKTEST,
            "stake_currency": "USDT",
            "exchange": {"pair_whitelist": list(weights)},
            "trading_agent": {
                "enabled_plugins": [],
                "risk": {"max_position_ratio": 0.5, "max_total_exposure_ratio": 1.0},
            },
        }
    )
    strategy.dp = FakeDataProvider(
        {pair: {"close": 100.0, "target_weight": w} for pair, w in weights.items()}
    )
    strategy.wallets = FakeWallets(account)
    strategy.bot_start()
    for plugin in plugins:
        strategy.agent.register(plugin)
    return strategy


def hold(pair: str, value: float, rate: float = 100.0) -> LocalTrade:
    trade = LocalTrade(
        id=len(LocalTrade.bt_trades_open) + 1,
        pair=pair,
        open_rate=rate,
        amount=value / rate,
        stake_amount=value,
        open_date=NOW - timedelta(days=3),
        fee_open=0.0,
        fee_close=0.0,
        exchange="mexc",
        is_open=True,
    )
    LocalTrade.add_bt_trade(trade)
    return trade


def adjust(strategy: Allocator, trade: LocalTrade, rate: float = 100.0):
    return strategy.adjust_trade_position(
        trade, NOW, rate, 0.0, 5.0, 10_000.0, rate, rate, 0.0, 0.0
    )


def test_the_first_stake_is_the_target_share_of_equity() -> None:
    strategy = make({"BTC/USDT": 0.3})
    stake = strategy.custom_stake_amount(
        "BTC/USDT", NOW, 100.0, 100.0, 5.0, 10_000.0, 1.0, "regime", "long"
    )
    assert stake == pytest.approx(300.0)


def test_positions_move_to_the_target_outside_the_band_only() -> None:
    strategy = make({"BTC/USDT": 0.3})
    assert adjust(strategy, hold("BTC/USDT", 280.0)) is None  # inside the 25 % band
    LocalTrade.reset_trades()
    order, tag = adjust(strategy, hold("BTC/USDT", 100.0))  # well below: buy up to 300
    assert order == pytest.approx(200.0) and tag == "rebalance"
    LocalTrade.reset_trades()
    order, _ = adjust(strategy, hold("BTC/USDT", 400.0))  # above 300 x 1.25: sell to 300
    assert order == pytest.approx(-100.0)


def test_the_price_marks_positions_to_market() -> None:
    """Bought 150 at 100 with a 0.3 target; at 200 the position is worth 300 of an equity of
    1150 (target 345): inside the band; at 400 it is 600 of 1450 (target 435, band up to
    543.75): cut to the target."""
    strategy = make({"BTC/USDT": 0.3})
    trade = hold("BTC/USDT", 150.0)
    strategy.dp.candles["BTC/USDT"]["close"] = 200.0
    assert adjust(strategy, trade, rate=200.0) is None
    strategy.dp.candles["BTC/USDT"]["close"] = 400.0
    strategy.__dict__["_candles"] = {}
    order, _ = adjust(strategy, trade, rate=400.0)
    assert order == pytest.approx(-(600.0 - 0.3 * 1450.0))


def test_plugins_lower_the_target_and_cannot_block_a_sale() -> None:
    strategy = make({"BTC/USDT": 0.4}, Halver(), Pauser())
    order, _ = adjust(strategy, hold("BTC/USDT", 400.0))  # target halved to 200: sell
    assert order == pytest.approx(-200.0)
    LocalTrade.reset_trades()
    assert adjust(strategy, hold("BTC/USDT", 50.0)) is None  # a purchase: paused, vetoed
    assert any("entries paused" in m for m in strategy.dp.sent)


def test_a_cap_breach_is_cut_back_even_inside_the_band() -> None:
    """Two planted positions worth 600 and 500 of 1100: the total cap (100 %) is not passed
    but the pair cap (50 %) is: the 600 one is cut to 550 whatever its target."""
    strategy = make({"BTC/USDT": 0.55, "ETH/USDT": 0.45})
    btc = hold("BTC/USDT", 600.0)
    hold("ETH/USDT", 500.0)
    strategy.wallets.total = 1100.0
    order, _ = adjust(strategy, btc)
    assert order == pytest.approx(-50.0)


class BrokenWallets:
    def get_free(self, currency: str) -> float:
        raise ConnectionError("exchange unreachable")


def test_an_unknown_target_holds_nothing_and_a_failed_sizing_holds_the_position() -> None:
    strategy = make({"BTC/USDT": 0.3})
    strategy.dp.candles["BTC/USDT"]["target_weight"] = "not a number"
    trade = hold("BTC/USDT", 300.0)
    assert adjust(strategy, trade) == (-300.0, "rebalance")  # unknown target: weight 0
    strategy.wallets = BrokenWallets()  # the account cannot be read: no order at all
    assert adjust(strategy, trade) is None
    assert (
        strategy.custom_stake_amount(
            "BTC/USDT", NOW, 100.0, 100.0, 5.0, 10_000.0, 1.0, "regime", "long"
        )
        == 0.0
    )
