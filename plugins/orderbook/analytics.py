"""Order-book analytics as pure functions on a ccxt-shaped book.

A book is the mapping Freqtrade's ``dp.orderbook(pair, depth)`` returns:
``{"bids": [[price, amount], ...], "asks": [[price, amount], ...], "timestamp": ms | None}``,
bids best (highest) first, asks best (lowest) first, amounts in the base currency. Nothing
here knows Freqtrade.

These functions assume a sound book: run :func:`plugins.orderbook.validation.validate_book`
first (or :func:`analyse_book`, which does). They check only what they must to avoid a
meaningless answer (an empty side, a non-positive stake).

Pure Python over the few levels needed is used on purpose: converting a 100-level book to
numpy costs more than the whole analysis (see ``bench/bench_orderbook.py``).

Units: ``bps`` are basis points (1 bps = 0.01 % = 1e-4). Slippage is signed so that
positive means worse for the taker (paid more on a buy, received less on a sell).
"""

from __future__ import annotations

import math
import numbers
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import mul, neg
from typing import Any, Literal

from plugins.orderbook.validation import book_columns

BPS = 10_000.0

Side = Literal["buy", "sell"]


@dataclass(frozen=True, slots=True)
class Depth:
    """Resting liquidity within ``bps`` of the mid on each side (inclusive bounds)."""

    bps: float
    bid_base: float
    bid_quote: float
    ask_base: float
    ask_quote: float

    def base(self, side: Side) -> float:
        """Base liquidity a taker on ``side`` can use (asks for a buy, bids for a sell)."""
        return self.ask_base if _side(side) == "buy" else self.bid_base

    def quote(self, side: Side) -> float:
        """Quote liquidity a taker on ``side`` can use (asks for a buy, bids for a sell)."""
        return self.ask_quote if _side(side) == "buy" else self.bid_quote


@dataclass(frozen=True, slots=True)
class Fill:
    """The result of walking one side of the book with a market order.

    ``base``/``quote`` are what was filled (at most what was asked for). ``complete`` is
    False when the levels given ran out first; the prices then describe the part that
    filled. ``worst_price`` is the price of the last level touched.
    """

    side: Side
    base: float
    quote: float
    average_price: float
    best_price: float
    worst_price: float
    mid_price: float
    levels_used: int
    complete: bool

    @property
    def slippage_bps(self) -> float:
        """Average price against the best price, in bps, positive = worse for the taker."""
        return _signed_bps(self.side, self.average_price, self.best_price)

    @property
    def slippage_vs_mid_bps(self) -> float:
        """Average price against the mid, in bps, positive = worse (includes half the spread)."""
        return _signed_bps(self.side, self.average_price, self.mid_price)


@dataclass(frozen=True, slots=True)
class BookAnalysis:
    """Every analytic for one book and one intended order (see :func:`analyse_book`)."""

    mid_price: float
    spread_bps: float
    imbalance: float
    levels: int
    imbalance_within: float
    depth: Depth
    fill: Fill | None
    age_seconds: float | None


# --------------------------------------------------------------------------- basics


def mid_price(book: Mapping[str, Any]) -> float:
    """Mid price: ``(best bid + best ask) / 2``."""
    bid, ask = _best(book)
    return (bid + ask) / 2.0


def spread_bps_from_prices(best_bid: float, best_ask: float) -> float:
    """Quoted spread in bps of the mid: ``(ask - bid) / ((ask + bid) / 2) * 10_000``."""
    mid = (best_bid + best_ask) / 2.0
    if not mid > 0:
        raise ValueError(f"mid price must be > 0, got {mid} (bid {best_bid}, ask {best_ask})")
    return (best_ask - best_bid) / mid * BPS


def spread_bps(book: Mapping[str, Any]) -> float:
    """Quoted spread of ``book`` in bps of its mid (see :func:`spread_bps_from_prices`)."""
    bid, ask = _best(book)
    return spread_bps_from_prices(bid, ask)


def imbalance_from_volumes(bid_volume: float, ask_volume: float) -> float:
    """Volume imbalance ``(bid - ask) / (bid + ask)``, in [-1, 1]; NaN if both are 0.

    +1 means all resting volume is on the bid (buy pressure), -1 all on the ask.
    """
    if not (bid_volume >= 0 and ask_volume >= 0):
        raise ValueError(f"volumes must be finite and >= 0, got bid {bid_volume}, ask {ask_volume}")
    total = bid_volume + ask_volume
    if total == 0:
        return math.nan
    if not math.isfinite(total):
        raise ValueError(f"volumes must be finite, got bid {bid_volume}, ask {ask_volume}")
    return (bid_volume - ask_volume) / total


def imbalance(book: Mapping[str, Any], levels: int = 5) -> float:
    """Top-of-book imbalance over the best ``levels`` levels a side (the seed's definition).

    ``(sum of bid amounts - sum of ask amounts) / (sum of both)`` over the first ``levels``
    levels of each side (fewer if a side has fewer). Amounts are in base currency.
    """
    _check_levels(levels)
    bids, asks = _sides(book)
    bid_volume = sum([level[1] for level in bids[:levels]])
    ask_volume = sum([level[1] for level in asks[:levels]])
    return imbalance_from_volumes(bid_volume, ask_volume)


def depth_within_bps(book: Mapping[str, Any], bps: float) -> Depth:
    """Base and quote liquidity resting within ``bps`` of the mid, per side.

    Bids count when ``price >= mid * (1 - bps / 10_000)``, asks when
    ``price <= mid * (1 + bps / 10_000)``. Only the levels given are seen.
    """
    _check_bps(bps)
    bids, asks = _sides(book)
    return _depth(
        [level[0] for level in bids],
        [level[1] for level in bids],
        [level[0] for level in asks],
        [level[1] for level in asks],
        bps,
    )


def imbalance_within_bps(book: Mapping[str, Any], bps: float) -> float:
    """Imbalance of base volume within ``bps`` of the mid; NaN if neither side has any.

    NaN happens when ``bps`` is smaller than half the spread.
    """
    depth = depth_within_bps(book, bps)
    return imbalance_from_volumes(depth.bid_base, depth.ask_base)


def book_age_seconds(book: Mapping[str, Any], now: datetime | float) -> float | None:
    """Seconds from the book's ``timestamp`` (ms) to ``now``; ``None`` if it has none.

    ``now`` is a timezone-aware datetime or epoch seconds. A negative age means the book's
    clock is ahead of ours (clock skew); it is returned as is.
    """
    timestamp = book.get("timestamp")
    if timestamp is None:
        return None
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Real):
        raise ValueError(f"book timestamp must be epoch milliseconds, got {timestamp!r}")
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError(f"now must be timezone-aware (UTC), got naive {now!r}")
        now_seconds = now.timestamp()
    else:
        now_seconds = float(now)
    return now_seconds - timestamp / 1000.0


# --------------------------------------------------------------------------- walking


def fill_by_base(book: Mapping[str, Any], side: Side, base_amount: float) -> Fill:
    """Walk the book with a market order for ``base_amount`` of the base currency.

    A buy takes asks from the best up, a sell takes bids from the best down.
    """
    side = _side(side)
    if not (base_amount > 0 and math.isfinite(base_amount)):
        raise ValueError(f"base_amount must be a finite number > 0, got {base_amount!r}")
    bids, asks = _sides(book)
    levels = asks if side == "buy" else bids
    remaining = base_amount
    base = quote = 0.0
    used = 0
    price = levels[0][0]
    for level in levels:
        price, amount = level[0], level[1]
        used += 1
        if amount >= remaining:
            base += remaining
            quote += remaining * price
            remaining = 0.0
            break
        base += amount
        quote += amount * price
        remaining -= amount
    if remaining == 0.0:
        base = base_amount  # filled as asked (the running sum may differ in the last bit)
    return _fill(side, bids, asks, base, quote, price, used, remaining == 0.0)


def fill_by_quote(book: Mapping[str, Any], side: Side, quote_amount: float) -> Fill:
    """Walk the book with a market order worth ``quote_amount`` of the quote currency.

    A buy spends ``quote_amount`` on asks; a sell sells bids until it has received it.
    """
    side = _side(side)
    if not (quote_amount > 0 and math.isfinite(quote_amount)):
        raise ValueError(f"quote_amount must be a finite number > 0, got {quote_amount!r}")
    bids, asks = _sides(book)
    levels = asks if side == "buy" else bids
    remaining = quote_amount
    base = quote = 0.0
    used = 0
    price = levels[0][0]
    for level in levels:
        price, amount = level[0], level[1]
        used += 1
        level_quote = amount * price
        if level_quote >= remaining:
            base += remaining / price
            quote += remaining
            remaining = 0.0
            break
        base += amount
        quote += level_quote
        remaining -= level_quote
    if remaining == 0.0:
        quote = quote_amount  # filled as asked (the running sum may differ in the last bit)
    return _fill(side, bids, asks, base, quote, price, used, remaining == 0.0)


# --------------------------------------------------------------------------- all together


def analyse_book(
    book: Mapping[str, Any],
    *,
    side: Side = "buy",
    base_amount: float | None = None,
    quote_amount: float | None = None,
    levels: int = 5,
    within_bps: float = 10.0,
    now: datetime | float | None = None,
    validate: bool = True,
) -> BookAnalysis:
    """Validate ``book`` and compute every analytic at once.

    ``fill`` walks the book for ``base_amount`` or ``quote_amount`` (give at most one;
    neither: no fill). ``age_seconds`` needs ``now``. ``levels`` is the top-N imbalance
    depth; ``within_bps`` sets both :func:`depth_within_bps` and the within-bps imbalance.
    Raises ``ValueError`` (from :func:`validate_book`) for a book that cannot be priced.
    """
    if base_amount is not None and quote_amount is not None:
        raise ValueError("give base_amount or quote_amount, not both")
    _check_levels(levels)
    _check_bps(within_bps)
    if validate:
        bid_prices, bid_amounts, ask_prices, ask_amounts = book_columns(book)
    else:
        bids, asks = _sides(book)
        bid_prices = [level[0] for level in bids]
        bid_amounts = [level[1] for level in bids]
        ask_prices = [level[0] for level in asks]
        ask_amounts = [level[1] for level in asks]
    bid, ask = bid_prices[0], ask_prices[0]
    depth = _depth(bid_prices, bid_amounts, ask_prices, ask_amounts, within_bps)
    if base_amount is not None:
        fill: Fill | None = fill_by_base(book, side, base_amount)
    elif quote_amount is not None:
        fill = fill_by_quote(book, side, quote_amount)
    else:
        fill = None
    return BookAnalysis(
        mid_price=(bid + ask) / 2.0,
        spread_bps=spread_bps_from_prices(bid, ask),
        imbalance=imbalance_from_volumes(sum(bid_amounts[:levels]), sum(ask_amounts[:levels])),
        levels=levels,
        imbalance_within=imbalance_from_volumes(depth.bid_base, depth.ask_base),
        depth=depth,
        fill=fill,
        age_seconds=None if now is None else book_age_seconds(book, now),
    )


# --------------------------------------------------------------------------- helpers


def _sides(book: Mapping[str, Any]) -> tuple[Sequence[Any], Sequence[Any]]:
    bids = book.get("bids")
    asks = book.get("asks")
    if not bids:
        raise ValueError("order book has no bids (empty side)")
    if not asks:
        raise ValueError("order book has no asks (empty side)")
    return bids, asks


def _best(book: Mapping[str, Any]) -> tuple[float, float]:
    bids, asks = _sides(book)
    return bids[0][0], asks[0][0]


def _depth(
    bid_prices: list[Any],
    bid_amounts: list[Any],
    ask_prices: list[Any],
    ask_amounts: list[Any],
    bps: float,
) -> Depth:
    """Depth within ``bps`` of the mid from a book's price/amount columns (best first)."""
    mid = (bid_prices[0] + ask_prices[0]) / 2.0
    # Bids descend: in key space (-price) they ascend, so bisect counts bids >= bound.
    n_bids = bisect_right(bid_prices, -(mid * (1.0 - bps / BPS)), key=neg)
    n_asks = bisect_right(ask_prices, mid * (1.0 + bps / BPS))
    if n_bids == len(bid_prices):
        bid_base = sum(bid_amounts)
        bid_quote = sum(map(mul, bid_prices, bid_amounts))
    else:
        bid_base = sum(bid_amounts[:n_bids])
        bid_quote = sum(map(mul, bid_prices[:n_bids], bid_amounts[:n_bids]))
    if n_asks == len(ask_prices):
        ask_base = sum(ask_amounts)
        ask_quote = sum(map(mul, ask_prices, ask_amounts))
    else:
        ask_base = sum(ask_amounts[:n_asks])
        ask_quote = sum(map(mul, ask_prices[:n_asks], ask_amounts[:n_asks]))
    return Depth(bps, float(bid_base), float(bid_quote), float(ask_base), float(ask_quote))


def _fill(
    side: Side,
    bids: Sequence[Any],
    asks: Sequence[Any],
    base: float,
    quote: float,
    worst: float,
    used: int,
    complete: bool,
) -> Fill:
    best = asks[0][0] if side == "buy" else bids[0][0]
    # One level touched: the average is that level's price exactly (no rounding noise).
    average = best if used == 1 else quote / base
    return Fill(
        side=side,
        base=base,
        quote=quote,
        average_price=average,
        best_price=best,
        worst_price=worst,
        mid_price=(bids[0][0] + asks[0][0]) / 2.0,
        levels_used=used,
        complete=complete,
    )


def _signed_bps(side: Side, price: float, reference: float) -> float:
    if side == "buy":
        return (price - reference) / reference * BPS
    return (reference - price) / reference * BPS


def _side(side: str) -> Side:
    if side == "buy" or side == "sell":
        return side  # type: ignore[return-value]
    raise ValueError(f"side must be 'buy' or 'sell', got {side!r}")


def _check_levels(levels: int) -> None:
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise ValueError(f"levels must be an integer >= 1, got {levels!r}")


def _check_bps(bps: float) -> None:
    if not (bps >= 0 and math.isfinite(bps)):
        raise ValueError(f"bps must be a finite number >= 0, got {bps!r}")
