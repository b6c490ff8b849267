"""The entry gate: may an order of this size go ahead against this live order book?

A pure function of the book, the order and the settings, so it can be tested without
Freqtrade. The plugin only adds the runmode rule (no opinion outside dry-run/live).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from plugins.orderbook.analytics import Side, analyse_book
from plugins.orderbook.settings import OrderBookSettings
from trading_agent import EntryVerdict

#: Freqtrade's entry sides (and plain order sides) mapped to the side of the order.
_ORDER_SIDE: dict[str, Side] = {"long": "buy", "buy": "buy", "short": "sell", "sell": "sell"}


def order_side(side: str) -> Side:
    """Map an entry side (``"long"``/``"short"``, or ``"buy"``/``"sell"``) to the order side."""
    try:
        return _ORDER_SIDE[side]
    except (KeyError, TypeError):
        raise ValueError(f"side must be 'long', 'short', 'buy' or 'sell', got {side!r}") from None


def entry_verdict(
    book: Mapping[str, Any] | None,
    *,
    pair: str,
    side: str,
    rate: float,
    amount: float,
    now: datetime | float,
    settings: OrderBookSettings,
) -> EntryVerdict:
    """Allow or veto an entry of ``amount`` (base) at about ``rate`` against ``book``.

    Vetoes when the book is missing or cannot be priced (see ``validate_book``), has no
    timestamp while one is required, is stale, has a spread above ``max_spread_bps``, would
    not fill ``amount`` within the levels given, would slip more than ``max_slippage_bps``,
    or holds less than ``min_depth_quote`` within ``depth_within_bps`` of the mid on the
    side the order takes. Every failed limit is named in the reason. An allow carries the
    measured spread, slippage, imbalance, depth and age.

    Raises ``ValueError`` for a bad ``side``, ``rate`` or ``amount`` (the plugin manager
    counts an exception as a veto).
    """
    taker = order_side(side)
    for label, value in (("rate", rate), ("amount", amount)):
        if isinstance(value, bool) or not (
            isinstance(value, numbers.Real) and math.isfinite(value) and value > 0
        ):
            raise ValueError(f"{label} must be a finite number > 0, got {value!r}")
    if isinstance(now, datetime) and now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware (UTC), got naive {now!r}")
    if not book:
        return EntryVerdict(False, f"no order book for {pair}")
    try:
        report = analyse_book(
            book,
            side=taker,
            base_amount=float(amount),
            levels=settings.levels,
            within_bps=settings.depth_within_bps,
            now=now,
        )
    except ValueError as exc:
        return EntryVerdict(False, f"order book for {pair} cannot be priced: {exc}")
    fill = report.fill
    if fill is None:  # cannot happen: base_amount was given
        raise RuntimeError("analyse_book returned no fill for a base amount")
    stake = rate * amount
    problems: list[str] = []

    age = report.age_seconds
    limit_age = settings.max_staleness_seconds
    if age is None:
        if settings.require_timestamp:
            problems.append("book has no timestamp (age unknown)")
    elif limit_age is not None and age > limit_age:
        problems.append(f"book is stale: {age:.1f} s old > {limit_age:g} s")
    elif limit_age is not None and age < -limit_age:
        problems.append(f"book timestamp is {-age:.1f} s in the future (clock skew?)")

    if report.spread_bps > settings.max_spread_bps:
        problems.append(f"spread {report.spread_bps:.4g} bps > max {settings.max_spread_bps:g} bps")

    slippage = (
        fill.slippage_bps if settings.slippage_reference == "best" else (fill.slippage_vs_mid_bps)
    )
    if not fill.complete:
        problems.append(
            f"book too thin: only {fill.base:.8g} of {amount:.8g} filled "
            f"within the {fill.levels_used} {'ask' if taker == 'buy' else 'bid'} levels given"
        )
    elif slippage > settings.max_slippage_bps:
        problems.append(
            f"slippage {slippage:.4g} bps vs {settings.slippage_reference} > max "
            f"{settings.max_slippage_bps:g} bps for stake {stake:.2f}"
        )

    depth_quote = report.depth.quote(taker)
    if settings.min_depth_quote > 0 and depth_quote < settings.min_depth_quote:
        problems.append(
            f"depth {depth_quote:.2f} quote within {settings.depth_within_bps:g} bps "
            f"< min {settings.min_depth_quote:g}"
        )

    if problems:
        return EntryVerdict(False, f"{pair} order book: " + "; ".join(problems))
    age_text = "age unknown" if age is None else f"age {age:.1f} s"
    walked = f"{fill.levels_used} level{'s' if fill.levels_used > 1 else ''}"
    return EntryVerdict(
        True,
        f"{pair} order book ok: spread {report.spread_bps:.4g} bps, slippage {slippage:.4g} bps "
        f"vs {settings.slippage_reference} for stake {stake:.2f} ({walked}), "
        f"imbalance({report.levels}) {report.imbalance:+.2f}, depth {depth_quote:.2f} quote "
        f"within {settings.depth_within_bps:g} bps, {age_text}",
    )
