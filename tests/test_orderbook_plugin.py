"""The ``orderbook`` plugin's entry gate: settings, run modes and every veto rule.

Books here are SYNTHETIC (hand-built, labelled) unless the test says it uses a REAL book
rebuilt from the recorded Binance capture.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freqtrade.enums import RunMode
from pydantic import BaseModel, ValidationError

from plugins.orderbook.analytics import fill_by_base, imbalance, spread_bps
from plugins.orderbook.gate import order_side
from plugins.orderbook.plugin import OrderBookPlugin
from plugins.orderbook.recorded import load_rebuilt_books
from plugins.orderbook.settings import OrderBookSettings
from trading_agent import EntryVerdict
from trading_agent.manager import AgentPlugins

NOW = datetime(2024, 8, 9, 0, 0, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def tight_book(timestamp: int | None = NOW_MS) -> dict:
    """SYNTHETIC book: mid 10_000, spread 0.2 (0.2 bps), 1 base a level, 0.5 apart."""
    return {
        "bids": [[9_999.9 - 0.5 * i, 1.0] for i in range(10)],
        "asks": [[10_000.1 + 0.5 * i, 1.0] for i in range(10)],
        "timestamp": timestamp,
        "datetime": None,
        "nonce": None,
    }


def ask(plugin: OrderBookPlugin, book: dict | None, **overrides: object) -> EntryVerdict | None:
    kwargs: dict = {
        "pair": "BTC/USDC",
        "side": "long",
        "rate": 10_000.0,
        "amount": 0.5,
        "current_time": NOW,
        "orderbook": book,
        "runmode": "dry_run",
    }
    kwargs.update(overrides)
    return plugin.approve_entry(**kwargs)


# --------------------------------------------------------------------------- settings


def test_default_settings() -> None:
    s = OrderBookSettings()
    assert (s.levels, s.max_spread_bps, s.max_slippage_bps) == (5, 10.0, 10.0)
    assert s.max_staleness_seconds == 10.0 and s.slippage_reference == "best"
    assert s.min_depth_quote == 0.0 and not s.require_timestamp
    assert OrderBookPlugin().settings == s
    assert OrderBookPlugin.name == "orderbook"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"level": 5}, "level"),  # unknown key (typo)
        ({"levels": 0}, "levels"),
        ({"levels": 2.5}, "levels"),
        ({"max_spread_bps": 0}, "max_spread_bps"),
        ({"max_spread_bps": math.nan}, "max_spread_bps"),
        ({"max_slippage_bps": -1}, "max_slippage_bps"),
        ({"max_slippage_bps": math.inf}, "max_slippage_bps"),
        ({"slippage_reference": "worst"}, "slippage_reference"),
        ({"max_staleness_seconds": 0}, "max_staleness_seconds"),
        ({"depth_within_bps": -5}, "depth_within_bps"),
        ({"min_depth_quote": -1}, "min_depth_quote"),
    ],
)
def test_bad_settings_name_the_field(values: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        OrderBookSettings(**values)


def test_staleness_check_can_be_disabled() -> None:
    assert OrderBookSettings(max_staleness_seconds=None).max_staleness_seconds is None


def test_plugin_refuses_foreign_settings() -> None:
    class Other(BaseModel):
        levels: int = 5

    with pytest.raises(ValueError, match="must be OrderBookSettings"):
        OrderBookPlugin(settings=Other())


# --------------------------------------------------------------------------- run modes


@pytest.mark.parametrize(
    "runmode", ["backtest", "hyperopt", "util_no_exchange", "plot", RunMode.BACKTEST]
)
def test_no_opinion_outside_dry_run_and_live(runmode: object) -> None:
    # even a crossed book gets no opinion: outside trading modes it is not a historical book
    crossed = tight_book() | {"bids": [[10_001.0, 1.0]]}
    assert ask(OrderBookPlugin(), crossed, runmode=runmode) is None


@pytest.mark.parametrize("runmode", ["dry_run", "live", RunMode.DRY_RUN, RunMode.LIVE])
def test_judges_in_dry_run_and_live(runmode: object) -> None:
    verdict = ask(OrderBookPlugin(), tight_book(), runmode=runmode)
    assert isinstance(verdict, EntryVerdict) and verdict.allow


# --------------------------------------------------------------------------- decisions


def test_allows_a_tight_deep_fresh_book_with_measured_figures() -> None:
    verdict = ask(OrderBookPlugin(), tight_book(), amount=1.5)
    assert verdict is not None and verdict.allow
    # 1 @ 10_000.1 + 0.5 @ 10_000.6: average 10_000.2666..., slippage vs best 0.1666.. bps
    fill = fill_by_base(tight_book(), "buy", 1.5)
    assert f"slippage {fill.slippage_bps:.4g} bps vs best" in verdict.reason
    assert f"spread {spread_bps(tight_book()):.4g} bps" in verdict.reason
    assert f"imbalance(5) {imbalance(tight_book(), 5):+.2f}" in verdict.reason
    assert "stake 15000.00 (2 levels)" in verdict.reason and "age 0.0 s" in verdict.reason


def test_vetoes_wide_spread() -> None:
    wide = tight_book() | {"bids": [[9_980.0, 5.0]], "asks": [[10_020.0, 5.0]]}  # 40 bps
    verdict = ask(OrderBookPlugin(), wide)
    assert verdict is not None and not verdict.allow
    assert "spread 40 bps > max 10 bps" in verdict.reason
    loose = OrderBookPlugin(OrderBookSettings(max_spread_bps=50))
    assert ask(loose, wide).allow  # type: ignore[union-attr]


def test_vetoes_excessive_slippage() -> None:
    # 8 base walks 8 levels: average 10_001.85, (10_001.85 - 10_000.1) / 10_000.1 = 1.75 bps
    plugin = OrderBookPlugin(OrderBookSettings(max_slippage_bps=1.0))
    verdict = ask(plugin, tight_book(), amount=8.0)
    assert verdict is not None and not verdict.allow
    assert "slippage 1.75 bps vs best > max 1 bps" in verdict.reason
    assert ask(plugin, tight_book(), amount=2.0).allow  # type: ignore[union-attr]


def test_slippage_against_the_mid_includes_half_the_spread() -> None:
    # 0.5 base inside the best ask: 0 bps vs best, 0.1 / 10_000 = 0.1 bps vs mid
    by_mid = OrderBookPlugin(OrderBookSettings(slippage_reference="mid", max_slippage_bps=0.05))
    verdict = ask(by_mid, tight_book(), amount=0.5)
    assert verdict is not None and not verdict.allow
    assert "slippage 0.1 bps vs mid > max 0.05 bps" in verdict.reason
    by_best = OrderBookPlugin(OrderBookSettings(max_slippage_bps=0.05))
    assert ask(by_best, tight_book(), amount=0.5).allow  # type: ignore[union-attr]


def test_vetoes_a_stake_the_book_cannot_fill() -> None:
    verdict = ask(OrderBookPlugin(), tight_book(), amount=25.0)  # 10 base on the asks
    assert verdict is not None and not verdict.allow
    assert "book too thin: only 10 of 25 filled within the 10 ask levels given" in verdict.reason


def test_short_entries_walk_the_bids() -> None:
    thin_bids = tight_book() | {"bids": [[9_999.9, 0.1]]}
    assert ask(OrderBookPlugin(), thin_bids, side="long").allow  # type: ignore[union-attr]
    verdict = ask(OrderBookPlugin(), thin_bids, side="short")
    assert verdict is not None and not verdict.allow and "bid levels" in verdict.reason


def test_vetoes_stale_and_future_books() -> None:
    old = tight_book(NOW_MS - 30_000)
    verdict = ask(OrderBookPlugin(), old)
    assert verdict is not None and not verdict.allow
    assert "book is stale: 30.0 s old > 10 s" in verdict.reason
    assert ask(OrderBookPlugin(), old, current_time=NOW - timedelta(seconds=25)).allow  # type: ignore[union-attr]
    future = ask(OrderBookPlugin(), tight_book(NOW_MS + 60_000))
    assert future is not None and not future.allow and "in the future" in future.reason
    unlimited = OrderBookPlugin(OrderBookSettings(max_staleness_seconds=None))
    assert ask(unlimited, old).allow  # type: ignore[union-attr]


def test_books_without_timestamp() -> None:
    allowed = ask(OrderBookPlugin(), tight_book(None))
    assert allowed is not None and allowed.allow and "age unknown" in allowed.reason
    strict = OrderBookPlugin(OrderBookSettings(require_timestamp=True))
    vetoed = ask(strict, tight_book(None))
    assert vetoed is not None and not vetoed.allow and "no timestamp" in vetoed.reason


@pytest.mark.parametrize(
    ("book", "message"),
    [
        (None, "no order book for BTC/USDC"),
        ({}, "no order book for BTC/USDC"),
        (tight_book() | {"bids": [[10_000.5, 1.0]]}, "cannot be priced: order book is crossed"),
        (tight_book() | {"bids": [[10_000.1, 1.0]]}, "cannot be priced: order book is locked"),
        (tight_book() | {"bids": []}, "cannot be priced: order book has no bids"),
        (tight_book() | {"asks": []}, "cannot be priced: order book has no asks"),
        (tight_book() | {"asks": [[10_000.1, math.nan]]}, r"asks\[0\] amount nan"),
    ],
)
def test_vetoes_books_that_cannot_be_priced(book: dict | None, message: str) -> None:
    verdict = ask(OrderBookPlugin(), book)
    assert verdict is not None and not verdict.allow
    assert re.search(message, verdict.reason), verdict.reason


def test_vetoes_insufficient_depth() -> None:
    # within 1 bps of mid 10_000 (asks <= 10_001): 10_000.1 and 10_000.6 -> 20_000.7 quote
    plugin = OrderBookPlugin(OrderBookSettings(depth_within_bps=1, min_depth_quote=25_000))
    verdict = ask(plugin, tight_book())
    assert verdict is not None and not verdict.allow
    assert "depth 20000.70 quote within 1 bps < min 25000" in verdict.reason
    enough = OrderBookPlugin(OrderBookSettings(depth_within_bps=1, min_depth_quote=20_000))
    assert ask(enough, tight_book()).allow  # type: ignore[union-attr]


def test_every_failed_limit_is_reported_together() -> None:
    bad = tight_book(NOW_MS - 60_000) | {"bids": [[9_980.0, 5.0]], "asks": [[10_020.0, 0.1]]}
    verdict = ask(OrderBookPlugin(OrderBookSettings(min_depth_quote=1e6)), bad)
    assert verdict is not None and not verdict.allow
    for part in ("stale", "spread", "book too thin", "depth"):
        assert part in verdict.reason


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"side": "up"}, "side must be 'long', 'short', 'buy' or 'sell'"),
        ({"amount": 0.0}, "amount must be a finite number > 0"),
        ({"rate": math.nan}, "rate must be a finite number > 0"),
        ({"current_time": datetime(2024, 8, 9)}, "timezone-aware"),
    ],
)
def test_bad_order_inputs_raise_named_errors(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ask(OrderBookPlugin(), tight_book(), **overrides)


def test_order_side_mapping() -> None:
    assert [order_side(s) for s in ("long", "buy", "short", "sell")] == [
        "buy",
        "buy",
        "sell",
        "sell",
    ]


# --------------------------------------------------------------------------- integration


def test_through_the_plugin_manager_a_raise_is_a_veto() -> None:
    agent = AgentPlugins()
    agent.register(OrderBookPlugin())
    common = {
        "pair": "BTC/USDC",
        "rate": 10_000.0,
        "amount": 0.5,
        "current_time": NOW,
        "candle": {"close": 10_000.0},
        "orderbook": tight_book(),
    }
    assert agent.approve_entry(side="long", runmode="live", **common).allow
    assert agent.approve_entry(side="long", runmode="backtest", **common).allow  # no opinion
    decision = agent.approve_entry(side="sideways", runmode="live", **common)
    assert not decision.allow and "side must be" in decision.reason
    wide = common | {"orderbook": tight_book() | {"asks": [[10_100.0, 5.0]]}}
    decision = agent.approve_entry(side="long", runmode="dry_run", **wide)
    assert not decision.allow and "spread" in decision.reason


def test_real_rebuilt_books_pass_and_fail_as_measured(orderbook_dir: Path) -> None:
    """REAL books rebuilt from the BTCUSDT capture, judged at their own timestamps."""
    books, _, _ = load_rebuilt_books(
        orderbook_dir / "binance_spot_btcusdt_20240808.gz", depth=100, every=500
    )
    plugin = OrderBookPlugin(OrderBookSettings(max_slippage_bps=0.5))
    vetoed = 0
    for event in books:
        book = event.book
        now = datetime.fromtimestamp(book["timestamp"] / 1000, tz=UTC) + timedelta(seconds=1)
        mid = (book["bids"][0][0] + book["asks"][0][0]) / 2
        small = ask(plugin, book, pair="BTC/USDT", rate=mid, amount=0.01, current_time=now)
        assert small is not None and small.allow, small
        # a 20 BTC buy walks far enough on these books to break 0.5 bps, or runs out of book
        fill = fill_by_base(book, "buy", 20.0)
        big = ask(plugin, book, pair="BTC/USDT", rate=mid, amount=20.0, current_time=now)
        assert big is not None
        assert big.allow == (fill.complete and fill.slippage_bps <= 0.5)
        vetoed += not big.allow
    assert vetoed > 0
