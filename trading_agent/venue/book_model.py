"""MODEL of an order book around the replayed price. Not recorded data.

No order-book history exists for the recorded candles, so the venue's ``depth``, ``bookTicker``
and ticker bid/ask come from this documented, deterministic model: a pure function of the
current price and of the last closed candles known at D. No random numbers; the same candles
always give the same book.

The model, with ``recent`` = the last ``lookback`` closed candles of the finest recorded
timeframe at D:

- volatility: Parkinson's estimator per candle, ``ln(H/L)^2 / (4 ln 2)``, averaged and scaled
  to one minute, in basis points (``vol_bps``);
- spread: ``base_spread_bps + vol_spread_coef * vol_bps`` (capped at ``max_spread_bps``), at
  least one tick each side of the price: the book is centred on the current price, best bid
  below it and best ask above it;
- levels: every ``level_step_bps`` (at least one tick) away from the best price;
- depth: level ``i`` holds ``top * exp(-i / decay_levels)``, decaying away from the mid, where
  ``top`` is ``top_qty_minutes`` minutes of the recent traded volume rate; at least one lot;
- imbalance: the volume-weighted close location of the recent candles,
  ``flow = sum(v * (2C - H - L) / (H - L)) / sum(v)`` in [-1, 1] (closes near the highs: buyers
  were pushing), ``I = clip(flow_gain * flow, -max_imbalance, max_imbalance)``; bid quantities
  are scaled by ``1 + I`` and ask quantities by ``1 - I``, so the book's depth imbalance
  ``(bids - asks) / (bids + asks)`` has the sign of the recent flow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MINUTE_MS = 60_000


@dataclass(frozen=True)
class BookModelParams:
    """Parameters of the book model (all in basis points of the price unless named)."""

    base_spread_bps: float = 0.5
    vol_spread_coef: float = 0.2
    max_spread_bps: float = 50.0
    level_step_bps: float = 0.5
    top_qty_minutes: float = 0.25
    decay_levels: float = 25.0
    flow_gain: float = 1.0
    max_imbalance: float = 0.6
    lookback: int = 20

    def __post_init__(self) -> None:
        for name in ("base_spread_bps", "vol_spread_coef", "level_step_bps", "top_qty_minutes"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not self.max_spread_bps >= self.base_spread_bps:
            raise ValueError(
                f"max_spread_bps must be >= base_spread_bps, got {self.max_spread_bps!r}"
            )
        if not self.decay_levels > 0:
            raise ValueError(f"decay_levels must be > 0, got {self.decay_levels!r}")
        if not 0 <= self.max_imbalance < 1:
            raise ValueError(f"max_imbalance must be in [0, 1), got {self.max_imbalance!r}")
        if not self.lookback >= 1:
            raise ValueError(f"lookback must be >= 1, got {self.lookback!r}")


DEFAULT_PARAMS = BookModelParams()


@dataclass(frozen=True)
class RecentFlow:
    """What the model reads from the recent closed candles."""

    vol_bps: float
    volume_per_minute: float
    flow: float


@dataclass(frozen=True)
class Book:
    """A modelled book: prices best first, quantities in base units."""

    bid_price: np.ndarray
    bid_qty: np.ndarray
    ask_price: np.ndarray
    ask_qty: np.ndarray

    @property
    def best_bid(self) -> float | None:
        """Highest bid price (None when the bid side is empty)."""
        return float(self.bid_price[0]) if self.bid_price.size else None

    @property
    def best_ask(self) -> float | None:
        """Lowest ask price (None when the ask side is empty)."""
        return float(self.ask_price[0]) if self.ask_price.size else None

    def top(self, levels: int) -> Book:
        """The first ``levels`` levels of each side."""
        return Book(
            self.bid_price[:levels],
            self.bid_qty[:levels],
            self.ask_price[:levels],
            self.ask_qty[:levels],
        )


def recent_flow(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, step_ms: int
) -> RecentFlow:
    """Volatility, volume rate and signed flow of a run of closed candles (oldest first)."""
    high = np.asarray(high, dtype=np.float64)
    low = np.asarray(low, dtype=np.float64)
    close = np.asarray(close, dtype=np.float64)
    volume = np.asarray(volume, dtype=np.float64)
    n = high.size
    if n == 0:
        return RecentFlow(vol_bps=0.0, volume_per_minute=0.0, flow=0.0)
    minutes = step_ms / MINUTE_MS
    ok = (low > 0) & (high >= low)
    log_range = np.log(np.where(ok, high, 1.0) / np.where(ok, low, 1.0))
    var_per_candle = float(np.mean(log_range**2)) / (4.0 * math.log(2.0))
    vol_bps = math.sqrt(var_per_candle / minutes) * 1e4
    span = high - low
    clv = np.divide(2.0 * close - high - low, span, out=np.zeros(n), where=span > 0)
    total = float(volume.sum())
    flow = float(np.dot(volume, clv) / total) if total > 0 else 0.0
    return RecentFlow(
        vol_bps=vol_bps,
        volume_per_minute=total / (n * minutes),
        flow=max(-1.0, min(1.0, flow)),
    )


def spread_bps(vol_bps: float, params: BookModelParams = DEFAULT_PARAMS) -> float:
    """Modelled quoted spread: a base spread widening linearly with volatility, capped."""
    return min(params.max_spread_bps, params.base_spread_bps + params.vol_spread_coef * vol_bps)


def imbalance(flow: float, params: BookModelParams = DEFAULT_PARAMS) -> float:
    """Depth imbalance in (-1, 1) following the recent flow."""
    return max(-params.max_imbalance, min(params.max_imbalance, params.flow_gain * flow))


def model_book(
    mid: float,
    flow: RecentFlow,
    tick: float,
    lot: float,
    levels: int,
    params: BookModelParams = DEFAULT_PARAMS,
) -> Book:
    """Build ``levels`` levels a side around ``mid`` (see the module docstring).

    Prices lie on the ``tick`` grid; quantities are whole ``lot`` multiples of at least one
    lot. Bid levels that would reach a price <= 0 are left out.
    """
    if not (mid > 0 and math.isfinite(mid)):
        raise ValueError(f"mid price must be a positive number, got {mid!r}")
    if not (tick > 0 and lot > 0):
        raise ValueError(f"tick and lot must be > 0, got tick={tick!r} lot={lot!r}")
    if levels < 0:
        raise ValueError(f"levels must be >= 0, got {levels!r}")
    mid_ticks = mid / tick
    half = max(0.5, mid * spread_bps(flow.vol_bps, params) / 2e4 / tick)
    bid0 = math.floor(mid_ticks - half + 1e-9)
    ask0 = math.ceil(mid_ticks + half - 1e-9)
    if ask0 <= bid0:
        ask0 = bid0 + 1
    step = max(1, round(mid * params.level_step_bps / 1e4 / tick))
    i = np.arange(levels, dtype=np.float64)
    bid_ticks = bid0 - step * i
    bid_ticks = bid_ticks[bid_ticks > 0]
    ask_ticks = ask0 + step * i
    top = flow.volume_per_minute * params.top_qty_minutes
    shape = top * np.exp(-i / params.decay_levels)
    tilt = imbalance(flow.flow, params)
    bid_qty = _to_lots(shape[: bid_ticks.size] * (1.0 + tilt), lot)
    ask_qty = _to_lots(shape * (1.0 - tilt), lot)
    return Book(bid_ticks * tick, bid_qty, ask_ticks * tick, ask_qty)


def _to_lots(qty: np.ndarray, lot: float) -> np.ndarray:
    """Round quantities down to whole lots, at least one lot."""
    lots = np.maximum(1.0, np.floor(qty / lot + 1e-9))
    return lots * lot


def crossed_book(book: Book, tick: float) -> Book:
    """FAULT helper: lift every bid so the best bid sits one tick above the best ask."""
    if book.best_bid is None or book.best_ask is None:
        return book
    shift = (book.best_ask - book.best_bid) + tick
    return Book(book.bid_price + shift, book.bid_qty, book.ask_price, book.ask_qty)


def empty_book() -> Book:
    """FAULT helper: a book with no levels on either side."""
    nothing = np.zeros(0, dtype=np.float64)
    return Book(nothing, nothing, nothing, nothing)


def depth_imbalance(book: Book) -> float:
    """``(sum bid qty - sum ask qty) / (sum bid qty + sum ask qty)`` over the levels given."""
    b = float(book.bid_qty.sum())
    a = float(book.ask_qty.sum())
    return (b - a) / (b + a) if (a + b) > 0 else 0.0
