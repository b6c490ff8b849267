"""Is this order book fit to be priced? A validator that names the problem.

The book is the ccxt shape Freqtrade's ``dp.orderbook(pair, depth)`` returns:
``{"bids": [[price, amount], ...], "asks": [[price, amount], ...], "timestamp": ms | None}``,
bids best (highest) first, asks best (lowest) first.

The check runs on every level it is given, so it is written for speed: a fast path made of
whole-list comparisons that holds exactly when the side is sound, and, only when it fails,
a slow level-by-level pass that finds the first problem and names it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import islice
from operator import gt, lt
from typing import Any, NamedTuple, NoReturn


class BookColumns(NamedTuple):
    """A validated book as four parallel lists, best level first."""

    bid_prices: list[Any]
    bid_amounts: list[Any]
    ask_prices: list[Any]
    ask_amounts: list[Any]


def validate_book(book: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the first problem that stops ``book`` from being priced.

    A book passes when both sides are non-empty; every level is a ``[price, amount, ...]``
    sequence whose price and amount are finite numbers greater than zero; bids are strictly
    descending and asks strictly ascending (best first, no duplicate prices); and the best
    bid is below the best ask (a crossed book, best bid > best ask, or a locked book, best
    bid == best ask, is rejected).
    """
    book_columns(book)


def book_columns(book: Mapping[str, Any]) -> BookColumns:
    """Validate ``book`` (see :func:`validate_book`) and return its prices and amounts."""
    if not isinstance(book, Mapping):
        raise ValueError(f"order book must be a mapping with 'bids' and 'asks', got {type(book)}")
    bids = _side(book, "bids")
    asks = _side(book, "asks")
    bid_prices, bid_amounts = _check_side(bids, "bids", descending=True)
    ask_prices, ask_amounts = _check_side(asks, "asks", descending=False)
    best_bid = bid_prices[0]
    best_ask = ask_prices[0]
    if best_bid > best_ask:
        raise ValueError(f"order book is crossed: best bid {best_bid} > best ask {best_ask}")
    if best_bid == best_ask:
        raise ValueError(f"order book is locked: best bid {best_bid} == best ask {best_ask}")
    return BookColumns(bid_prices, bid_amounts, ask_prices, ask_amounts)


def _side(book: Mapping[str, Any], name: str) -> Sequence[Any]:
    if name not in book:
        raise ValueError(f"order book has no '{name}' key")
    levels = book[name]
    if levels is None or isinstance(levels, str | bytes) or not isinstance(levels, Sequence):
        raise ValueError(f"order book '{name}' must be a list of [price, amount], got {levels!r}")
    if len(levels) == 0:
        raise ValueError(f"order book has no {name} (empty side)")
    return levels


def _check_side(
    levels: Sequence[Any], name: str, *, descending: bool
) -> tuple[list[Any], list[Any]]:
    """Fast whole-list check; on failure fall back to the slow pass that names the problem."""
    try:
        prices = [level[0] for level in levels]
        amounts = [level[1] for level in levels]
        # Strict monotonicity fails on any NaN (every comparison with NaN is False), so with
        # it, a positive finite worst-or-best end bounds every price in (0, inf).
        in_order = all(map(gt if descending else lt, prices, islice(prices, 1, None)))
        low, high = (prices[-1], prices[0]) if descending else (prices[0], prices[-1])
        prices_ok = in_order and low > 0 and math.isfinite(high)
        # The sum is NaN/inf if any amount is; min > 0 rules out zero and negatives.
        amounts_ok = min(amounts) > 0 and math.isfinite(sum(amounts))
        if prices_ok and amounts_ok:
            return prices, amounts
    except (TypeError, IndexError, KeyError):
        pass
    _explain_side(levels, name, descending=descending)


def _explain_side(levels: Sequence[Any], name: str, *, descending: bool) -> NoReturn:
    """Walk the side level by level and raise on the first problem found."""
    previous: Any = None
    for i, level in enumerate(levels):
        if isinstance(level, str | bytes) or not isinstance(level, Sequence) or len(level) < 2:
            raise ValueError(f"{name}[{i}] is not a [price, amount] pair: {level!r}")
        price, amount = level[0], level[1]
        if not _finite_positive(price):
            raise ValueError(f"{name}[{i}] price {price!r} is not a finite number > 0")
        if not _finite_positive(amount):
            raise ValueError(f"{name}[{i}] amount {amount!r} is not a finite number > 0")
        if previous is not None:
            if descending and not price < previous:
                raise ValueError(
                    f"{name} are not sorted best first (strictly descending): "
                    f"{name}[{i}] price {price} >= {name}[{i - 1}] price {previous}"
                )
            if not descending and not price > previous:
                raise ValueError(
                    f"{name} are not sorted best first (strictly ascending): "
                    f"{name}[{i}] price {price} <= {name}[{i - 1}] price {previous}"
                )
        previous = price
    # Amounts each finite but summing past the float range: no real book does this.
    raise ValueError(f"order book {name} failed validation (total amount overflows)")


def _finite_positive(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return bool(value > 0) and math.isfinite(value)
    except (TypeError, ValueError):
        return False
