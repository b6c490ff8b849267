"""Stale candles and frozen books: detected, reported once per episode, entries vetoed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from freqtrade.enums import RunMode
from freqtrade.persistence import LocalTrade, Trade

from trading_agent.strategy.base import AgentStrategy
from trading_agent.strategy.freshness import FreshnessWatch, book_fingerprint

NOW = datetime(2024, 7, 10, 12, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)
BOOK = {"bids": [[100.0, 1.0], [99.9, 2.0]], "asks": [[100.1, 1.5]], "timestamp": 1}


def test_candles_turn_stale_after_the_configured_number_of_timeframes() -> None:
    watch = FreshnessWatch(stale_timeframes=2, frozen_books=3)
    # the candle that opened at 11:50 closed at 11:55: five minutes late is normal
    assert watch.see_candles("BTC/USDT", NOW - 2 * FIVE, FIVE, NOW) is None
    assert watch.problems("BTC/USDT") == ()
    # opened at 11:40, closed at 11:45: 15 minutes ago, three candles, more than two
    change = watch.see_candles("BTC/USDT", NOW - 4 * FIVE, FIVE, NOW)
    assert change is not None and change.stale and "15 min ago" in change.reason
    # reported once: the next loop, still stale, says nothing new
    assert watch.see_candles("BTC/USDT", NOW - 4 * FIVE, FIVE, NOW + timedelta(seconds=5)) is None
    assert watch.problems("BTC/USDT")
    fresh = watch.see_candles("BTC/USDT", NOW, FIVE, NOW + FIVE + timedelta(seconds=3))
    assert fresh is not None and not fresh.stale and watch.problems("BTC/USDT") == ()


def test_a_book_is_frozen_after_the_same_fetch_repeats() -> None:
    watch = FreshnessWatch(stale_timeframes=2, frozen_books=3)
    assert watch.see_book("ETH/USDT", BOOK) is None
    assert watch.see_book("ETH/USDT", dict(BOOK)) is None
    change = watch.see_book("ETH/USDT", dict(BOOK))
    assert change is not None and change.stale and "unchanged for 3 fetches" in change.reason
    moved = {**BOOK, "timestamp": 2}
    back = watch.see_book("ETH/USDT", moved)
    assert back is not None and not back.stale
    assert watch.see_book("ETH/USDT", None) is None  # a failed fetch is no evidence
    assert watch.see_candles("ETH/USDT", None, FIVE, NOW) is None  # nothing analysed yet


def test_fingerprints_see_levels_and_timestamps() -> None:
    assert book_fingerprint(BOOK) == book_fingerprint(dict(BOOK))
    assert book_fingerprint(BOOK) != book_fingerprint({**BOOK, "bids": [[100.0, 1.1]]})
    assert book_fingerprint(BOOK) != book_fingerprint({**BOOK, "timestamp": 9})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stale_timeframes": 0, "frozen_books": 3}, "stale_timeframes"),
        ({"stale_timeframes": 2, "frozen_books": 1}, "frozen_books"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        FreshnessWatch(**kwargs)


# -- in the strategy (dry-run), with a planted feed ------------------------------------------


class Feed:
    """Stands in for Freqtrade's DataProvider in dry-run: the last analysed candle's open
    time and the order book are whatever the test plants."""

    runmode = RunMode.DRY_RUN

    def __init__(self) -> None:
        self.last_open = NOW - 2 * FIVE
        self.book = dict(BOOK)
        self.sent: list[str] = []

    def get_analyzed_dataframe(self, pair, timeframe):
        return pd.DataFrame({"date": [self.last_open], "close": [100.0]}), NOW

    def orderbook(self, pair, maximum):
        return self.book

    def current_whitelist(self):
        return ["BTC/USDT"]

    def send_msg(self, message, always_send=False):
        self.sent.append(message)


class Wallets:
    def get_free(self, currency: str) -> float:
        return 1000.0


class Plain(AgentStrategy):
    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe


@pytest.fixture
def strategy(monkeypatch):
    monkeypatch.setenv("FREQTRADE__API_SERVER__USERNAME", "u")
    use_db = Trade.use_db
    Trade.use_db = False
    LocalTrade.reset_trades()
    strategy = Plain(
        {
            "runmode": RunMode.DRY_RUN,
            "stake_currency": "USDT",
            "exchange": {"pair_whitelist": ["BTC/USDT"]},
            "trading_agent": {"enabled_plugins": []},
        }
    )
    strategy.dp = Feed()
    strategy.wallets = Wallets()
    strategy.bot_start()
    locks: list[tuple[str, datetime, str]] = []
    strategy.lock_pair = lambda pair, until, reason=None, **kw: locks.append((pair, until, reason))
    strategy.unlock_reason = lambda reason: locks.clear()
    strategy.locks = locks
    yield strategy
    LocalTrade.reset_trades()
    Trade.use_db = use_db


def allowed(strategy, when=NOW) -> bool:
    return strategy.entry_allowed("BTC/USDT", "long", 100.0, 1.0, when)


def test_a_stuck_feed_vetoes_entries_locks_the_pair_and_notifies_once(strategy, caplog) -> None:
    strategy.bot_loop_start(current_time=NOW)
    assert allowed(strategy) and strategy.locks == []
    strategy.dp.last_open = NOW - 6 * FIVE  # the venue's stale fault: candles stop
    with caplog.at_level("WARNING"):
        for k in range(3):
            strategy.bot_loop_start(current_time=NOW + timedelta(seconds=5 * k))
    warnings = [r for r in caplog.records if "market data stale" in r.getMessage()]
    assert len(warnings) == 1
    assert sum("market data stale" in m for m in strategy.dp.sent) == 1
    assert strategy.locks and strategy.locks[-1][2] == "trading_agent: market data stale"
    assert not allowed(strategy)
    assert any("data: last candle closed" in m for m in strategy.dp.sent)  # the veto's reason
    strategy.dp.last_open = NOW  # the feed moves again
    strategy.bot_loop_start(current_time=NOW + FIVE + timedelta(seconds=2))
    assert any("moving again" in m for m in strategy.dp.sent)
    assert allowed(strategy, NOW + FIVE + timedelta(seconds=3))


def test_a_frozen_book_vetoes_entries(strategy) -> None:
    strategy.bot_loop_start(current_time=NOW)
    results = [allowed(strategy) for _ in range(6)]  # each entry check fetches the book
    assert results[:4] == [True] * 4 and results[4:] == [False, False]
    strategy.dp.book = {**BOOK, "timestamp": 99}
    assert allowed(strategy)
