"""Is the market data fresh enough to take new risk on? Stale candles and frozen books.

A feed can stop without an error: the exchange keeps answering, but the last candle stops
advancing, or the order book comes back the same, fetch after fetch. A bot that goes on
trading then prices entries and checks stops against a market that is not there any more.
:class:`FreshnessWatch` keeps, per pair, how old the last closed candle is and how many
fetched books in a row were identical; a pair with either problem takes no new risk until
the data moves again. Each change of state (fresh -> stale, stale -> fresh) is reported
once, so the caller warns and notifies once per episode, not once per loop.

Pure bookkeeping: no clock, no exchange; the strategy hands in what it sees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class Change:
    """A pair's data became stale (``stale``) or fresh again; ``reason`` says what."""

    pair: str
    stale: bool
    reason: str


@dataclass(slots=True)
class _PairState:
    candle_problem: str | None = None
    book_problem: str | None = None
    last_book: tuple | None = None
    same_books: int = 0
    reported: bool = False


def book_fingerprint(book: Mapping[str, Any], levels: int = 5) -> tuple:
    """What identifies a book's state: its top ``levels`` bids and asks (price, amount) and,
    where the exchange gives one, its timestamp or update id."""
    sides = []
    for side in ("bids", "asks"):
        rows = book.get(side) or []
        sides.append(tuple(tuple(float(v) for v in row[:2]) for row in rows[:levels]))
    return (*sides, book.get("timestamp"), book.get("nonce"))


@dataclass
class FreshnessWatch:
    """Per-pair freshness of candles and books (see the module docstring).

    ``stale_timeframes``: a pair's candles are stale once its last closed candle closed more
    than this many timeframes ago (one missing candle is a late exchange; several, a stuck
    feed). ``frozen_books``: its book is frozen once this many fetches in a row were the same.
    """

    stale_timeframes: float
    frozen_books: int
    _pairs: dict[str, _PairState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.stale_timeframes) and self.stale_timeframes > 0):
            raise ValueError(f"stale_timeframes must be > 0, got {self.stale_timeframes!r}")
        if self.frozen_books < 2:
            raise ValueError(f"frozen_books must be at least 2, got {self.frozen_books!r}")

    def _state(self, pair: str) -> _PairState:
        return self._pairs.setdefault(pair, _PairState())

    def see_candles(
        self, pair: str, last_open: datetime | None, timeframe: timedelta, now: datetime
    ) -> Change | None:
        """Record the open time of the pair's last closed candle at ``now`` (``None``: none
        analysed yet, as at start-up; nothing is judged then)."""
        state = self._state(pair)
        if last_open is not None:
            late = now - (last_open + timeframe)
            if late > timeframe * self.stale_timeframes:
                minutes = late.total_seconds() / 60
                state.candle_problem = (
                    f"last candle closed {minutes:.0f} min ago "
                    f"(more than {self.stale_timeframes:g} candles)"
                )
            else:
                state.candle_problem = None
        return self._change(pair, state)

    def see_book(self, pair: str, book: Mapping[str, Any] | None) -> Change | None:
        """Record one fetched order book of the pair (``None``: the fetch failed)."""
        state = self._state(pair)
        if book is None:
            return None  # a failed fetch is not a frozen book; the entry gate vetoes it
        fingerprint = book_fingerprint(book)
        state.same_books = state.same_books + 1 if fingerprint == state.last_book else 1
        state.last_book = fingerprint
        if state.same_books >= self.frozen_books:
            state.book_problem = f"order book unchanged for {state.same_books} fetches"
        else:
            state.book_problem = None
        return self._change(pair, state)

    def problems(self, pair: str) -> Sequence[str]:
        """What is wrong with the pair's data now (empty when it is fresh)."""
        state = self._pairs.get(pair)
        if state is None:
            return ()
        return tuple(p for p in (state.candle_problem, state.book_problem) if p)

    def _change(self, pair: str, state: _PairState) -> Change | None:
        problems = self.problems(pair)
        if problems and not state.reported:
            state.reported = True
            return Change(pair, True, "; ".join(problems))
        if not problems and state.reported:
            state.reported = False
            return Change(pair, False, "market data moving again")
        return None
