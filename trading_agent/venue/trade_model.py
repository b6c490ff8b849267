"""MODEL of the public trade tape, derived from closed candles. Not recorded trades.

The recording holds candles, not trades, so ``trades`` and ``aggTrades`` answer with this
deterministic model (no random numbers):

- every closed candle becomes four prints: its open at the candle's open time, then its two
  extremes, then its close one millisecond before the candle ends. The extremes come in the
  usual OHLC path order: low then high for a rising candle (close >= open), high then low for
  a falling one; they are stamped one third and two thirds into the candle;
- each print carries a quarter of the candle's volume, rounded down to whole lots; prints that
  round to nothing are left out;
- the candle forming at D contributes one print: its recorded open at its open time (known at
  D), carrying a quarter of the previous candle's volume (the forming candle's own volume is
  not known yet);
- aggressor side: a print above the previous print was bought (the buyer took the ask), below
  it sold; at an unchanged price the side follows the candle's direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PRINTS_PER_CANDLE = 4


@dataclass(frozen=True)
class Tape:
    """Modelled prints, oldest first. ``buyer_maker`` True means the seller was the aggressor."""

    time: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    buyer_maker: np.ndarray

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def take(self, sl: slice) -> Tape:
        """A slice of the tape."""
        return Tape(self.time[sl], self.price[sl], self.qty[sl], self.buyer_maker[sl])


def model_tape(
    open_time: np.ndarray,
    o: np.ndarray,
    h: np.ndarray,
    low: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
    step_ms: int,
    lot: float,
    prev_close: float | None = None,
    forming: tuple[int, float, float] | None = None,
) -> Tape:
    """Prints of a run of closed candles (oldest first), then an optional forming-candle print.

    ``prev_close``: close before the first candle (for the first print's side).
    ``forming``: ``(open_time, open, quantity)`` of the candle forming at D.
    """
    open_time = np.asarray(open_time, dtype=np.int64)
    n = open_time.size
    rising = np.asarray(c) >= np.asarray(o)
    first_extreme = np.where(rising, low, h)
    second_extreme = np.where(rising, h, low)
    prices = np.column_stack([o, first_extreme, second_extreme, c]).reshape(-1)
    offsets = np.array([0, step_ms // 3, (2 * step_ms) // 3, step_ms - 1], dtype=np.int64)
    times = (open_time[:, None] + offsets[None, :]).reshape(-1)
    qty = np.repeat(np.floor(np.asarray(v, dtype=np.float64) / PRINTS_PER_CANDLE / lot + 1e-9), 4)
    qty = qty * lot
    direction = np.repeat(rising, PRINTS_PER_CANDLE)
    if forming is not None:
        f_time, f_open, f_qty = forming
        times = np.append(times, np.int64(f_time))
        prices = np.append(prices, float(f_open))
        qty = np.append(qty, np.floor(f_qty / lot + 1e-9) * lot)
        last_dir = bool(rising[-1]) if n else True
        direction = np.append(direction, last_dir)
    prices = prices.astype(np.float64)
    before = np.empty_like(prices)
    if prices.size:
        before[0] = prev_close if prev_close is not None else prices[0]
        before[1:] = prices[:-1]
    move = np.sign(prices - before)
    buyer_aggressor = np.where(move != 0, move > 0, direction)
    keep = qty > 0
    return Tape(
        time=times[keep],
        price=prices[keep],
        qty=qty[keep],
        buyer_maker=~buyer_aggressor[keep],
    )
