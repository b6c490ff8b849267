"""Causal swing points: they exist from the candle that confirms them and are never revised.

Two detectors:

- :func:`fractal_swings`: candle ``p`` is a swing high when its high is above the highs of the
  ``k`` candles before it and not below the highs of the ``k`` candles after it; the swing is
  confirmed at the close of candle ``p + k``. Swing lows mirror this with lows.
- :func:`directional_change_swings`: the highest high of an up leg becomes a swing high on the
  first candle whose low is at least ``threshold`` (a fraction) below it; the lowest low of a
  down leg becomes a swing low on the first candle whose high is ``threshold`` above it.

Both return a :class:`Swings` table in confirmation order. :func:`swing_columns` turns it into
per-candle columns and :func:`alternating_tails` into the zigzag of alternating highs and lows
that chart patterns are matched against (as known at each confirmation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HIGH = 1
LOW = -1


@dataclass(frozen=True)
class Swings:
    """Confirmed swing points sorted by confirming candle (then pivot, then in-candle order)."""

    pivot: np.ndarray  # int64: position of the extreme candle
    confirm: np.ndarray  # int64: position of the candle whose close confirms it
    price: np.ndarray  # float64: the high (swing high) or low (swing low) of the pivot
    kind: np.ndarray  # int64: HIGH (+1) or LOW (-1)

    def __len__(self) -> int:
        return len(self.pivot)


def _sorted_swings(
    pivot: np.ndarray,
    confirm: np.ndarray,
    price: np.ndarray,
    kind: np.ndarray,
    bullish_pivot: np.ndarray,
) -> Swings:
    """Sort swings by confirmation; a high and a low of one candle: bullish candle low first."""
    first_in_candle = np.where(kind == HIGH, ~bullish_pivot, bullish_pivot)
    order = np.lexsort((~first_in_candle, pivot, confirm))
    return Swings(
        pivot=pivot[order].astype(np.int64),
        confirm=confirm[order].astype(np.int64),
        price=price[order].astype(np.float64),
        kind=kind[order].astype(np.int64),
    )


def fractal_swings(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, bars: int
) -> Swings:
    """Fractal swing points with ``bars`` candles each side, confirmed ``bars`` candles later.

    Ties: the pivot must be strictly above (below) the ``bars`` candles before it and at least
    as high (low) as the ``bars`` candles after it, so a run of equal highs gives one swing high,
    at its first candle. Uses only candles up to the confirming one.
    """
    if bars < 1:
        raise ValueError(f"fractal bars must be >= 1, got {bars}")
    n = len(high)
    if n <= 2 * bars:
        empty = np.empty(0, dtype=np.int64)
        return Swings(empty, empty, np.empty(0, dtype=np.float64), empty)
    hs = pd.Series(high)
    ls = pd.Series(low)
    roll_max = hs.rolling(bars, min_periods=bars).max().to_numpy()
    roll_min = ls.rolling(bars, min_periods=bars).min().to_numpy()
    # For pivot p: max of the bars before it is roll_max[p - 1]; max of the bars after it
    # (p + 1 .. p + bars) is roll_max[p + bars], known at the confirming candle p + bars.
    p = np.arange(bars, n - bars)
    is_high = (high[p] > roll_max[p - 1]) & (high[p] >= roll_max[p + bars])
    is_low = (low[p] < roll_min[p - 1]) & (low[p] <= roll_min[p + bars])
    hp = p[is_high]
    lp = p[is_low]
    pivot = np.concatenate([hp, lp])
    kind = np.concatenate([np.full(len(hp), HIGH), np.full(len(lp), LOW)])
    price = np.concatenate([high[hp], low[lp]])
    return _sorted_swings(pivot, pivot + bars, price, kind, close[pivot] >= open_[pivot])


def _first_reversal(
    extreme_src: np.ndarray,
    trigger_src: np.ndarray,
    start: int,
    check_from: int,
    threshold: float,
    leg: int,
) -> tuple[int, int] | None:
    """Find where a leg starting at ``start`` reverses by ``threshold``.

    ``leg`` is HIGH for an up leg (extreme = running max of ``extreme_src`` = highs, reversal
    when ``trigger_src`` = low <= extreme * (1 - threshold)) or LOW for a down leg (running min
    of lows, reversal when high >= extreme * (1 + threshold)). Only candles from
    ``check_from`` on may confirm. Returns (confirming position, pivot position) or ``None``.
    Searches in doubling chunks so the work is proportional to the leg's length.
    """
    n = len(extreme_src)
    factor = 1.0 - threshold if leg == HIGH else 1.0 + threshold
    running = -np.inf if leg == HIGH else np.inf
    pos = start
    size = 64
    while pos < n:
        end = min(n, pos + size)
        seg = extreme_src[pos:end]
        if leg == HIGH:
            acc = np.maximum(np.maximum.accumulate(seg), running)
            cond = trigger_src[pos:end] <= acc * factor
        else:
            acc = np.minimum(np.minimum.accumulate(seg), running)
            cond = trigger_src[pos:end] >= acc * factor
        skip = check_from - pos
        if skip > 0:
            cond[: min(skip, len(cond))] = False
        hit = np.flatnonzero(cond)
        if len(hit):
            confirm = pos + int(hit[0])
            window = extreme_src[start : confirm + 1]
            offset = int(np.argmax(window)) if leg == HIGH else int(np.argmin(window))
            return confirm, start + offset
        running = acc[-1]
        pos = end
        size *= 2
    return None


def directional_change_swings(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, threshold: float
) -> Swings:
    """Directional-change swing points with a relative ``threshold`` (e.g. 0.01 = 1 %).

    An up leg's extreme (highest high, first occurrence) is confirmed as a swing high on the
    first later candle whose low is at or below ``extreme * (1 - threshold)``; a down leg's
    lowest low is confirmed on the first candle whose high is at or above
    ``extreme * (1 + threshold)``. Within the confirming candle the extreme of the new leg is
    tracked from that candle on (its own high/low counts as the first point of the new leg).
    The first leg's direction is whichever reversal happens first. Loops over swing points,
    not candles.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"directional-change threshold must be in (0, 1), got {threshold}")
    n = len(high)
    pivots: list[int] = []
    confirms: list[int] = []
    kinds: list[int] = []
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return Swings(empty, empty, np.empty(0, dtype=np.float64), empty)
    first_high = _first_reversal(high, low, 0, 0, threshold, HIGH)
    first_low = _first_reversal(low, high, 0, 0, threshold, LOW)
    candidates = [
        (c[0], c[1], k) for c, k in ((first_high, HIGH), (first_low, LOW)) if c is not None
    ]
    if not candidates:
        empty = np.empty(0, dtype=np.int64)
        return Swings(empty, empty, np.empty(0, dtype=np.float64), empty)
    # Earliest confirmation; the same candle confirming both: the earlier pivot comes first.
    confirm, pivot, kind = min(candidates, key=lambda c: (c[0], c[1], -c[2]))
    while True:
        pivots.append(pivot)
        confirms.append(confirm)
        kinds.append(kind)
        leg = -kind
        if leg == HIGH:
            found = _first_reversal(high, low, confirm, confirm + 1, threshold, HIGH)
        else:
            found = _first_reversal(low, high, confirm, confirm + 1, threshold, LOW)
        if found is None:
            break
        confirm, pivot = found
        kind = leg
    pivot_a = np.asarray(pivots, dtype=np.int64)
    kind_a = np.asarray(kinds, dtype=np.int64)
    price = np.where(kind_a == HIGH, high[pivot_a], low[pivot_a])
    return Swings(pivot_a, np.asarray(confirms, dtype=np.int64), price, kind_a)


def swing_columns(swings: Swings, n: int) -> dict[str, np.ndarray]:
    """Per-candle swing columns, each value known at its candle's close.

    ``swing_high`` / ``swing_low``: price of the swing confirmed on this candle (NaN if none);
    ``swing_high_age`` / ``swing_low_age``: bars from its pivot to this candle;
    ``swing_last_high`` / ``swing_last_low``: price of the latest swing confirmed so far.
    """
    out: dict[str, np.ndarray] = {}
    for name, kind in (("high", HIGH), ("low", LOW)):
        sel = swings.kind == kind
        conf = swings.confirm[sel]
        price = np.full(n, np.nan)
        age = np.full(n, np.nan)
        price[conf] = swings.price[sel]
        age[conf] = (conf - swings.pivot[sel]).astype(np.float64)
        last = np.full(n, np.nan)
        if len(conf):
            idx = np.searchsorted(conf, np.arange(n), side="right") - 1
            known = idx >= 0
            last[known] = swings.price[sel][idx[known]]
        out[f"swing_{name}"] = price
        out[f"swing_{name}_age"] = age
        out[f"swing_last_{name}"] = last
    return out


@dataclass(frozen=True)
class Tails:
    """The alternating swing sequence as known at each of its updates.

    Raw swings are folded into a zigzag: a swing of the other kind than the last one is
    appended; a swing of the same kind replaces the last one only if it is more extreme
    (a higher high, a lower low) and is dropped otherwise. Every append or replacement is an
    *update*, at the candle confirming that swing. Row ``u`` of ``price``/``pivot`` holds the
    last ``length`` zigzag points right after update ``u`` (oldest first, newest in the last
    column; NaN / -1 where the zigzag is shorter).
    """

    confirm: np.ndarray  # int64 (n_updates,): candle of the update
    kind: np.ndarray  # int64 (n_updates,): kind of the newest point
    price: np.ndarray  # float64 (n_updates, length)
    pivot: np.ndarray  # float64 (n_updates, length): pivot positions (NaN where absent)
    next_any: np.ndarray  # int64: candle of the next update (n if none)
    next_same: np.ndarray  # int64: candle of the next update of the same kind (n if none)

    @property
    def length(self) -> int:
        """How many zigzag points each row holds."""
        return self.price.shape[1]

    def last(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Prices and pivots of the newest ``m`` points (oldest first)."""
        return self.price[:, -m:], self.pivot[:, -m:]


def alternating_tails(swings: Swings, length: int, n: int) -> Tails:
    """Zigzag tails of ``length`` points after every update (see :class:`Tails`)."""
    kind = swings.kind
    signed = swings.price * kind  # larger = more extreme for both kinds
    m = len(kind)
    if m == 0:
        e_i = np.empty(0, dtype=np.int64)
        e_f = np.empty((0, length))
        return Tails(e_i, e_i, e_f, e_f.copy(), e_i, e_i)
    run_start = np.empty(m, dtype=bool)
    run_start[0] = True
    run_start[1:] = kind[1:] != kind[:-1]
    run_id = np.cumsum(run_start) - 1
    run_max = pd.Series(signed).groupby(run_id).cummax().to_numpy()
    prev_max = np.empty(m)
    prev_max[0] = -np.inf
    prev_max[1:] = run_max[:-1]
    is_update = run_start | (signed > prev_max)
    upd = np.flatnonzero(is_update)
    upd_run = run_id[upd]
    n_runs = int(run_id[-1]) + 1
    # The final point of each run is its last update (updates of a run are successive extremes).
    rep = np.full(n_runs, -1, dtype=np.int64)
    rep[upd_run] = upd  # later updates overwrite earlier ones within a run
    offsets = np.arange(-(length - 1), 1)
    runs = upd_run[:, None] + offsets[None, :]
    src = np.where(runs >= 0, rep[np.clip(runs, 0, None)], -1)
    src[:, -1] = upd  # the newest point is the update itself, even if its run goes on later
    present = src >= 0
    safe = np.where(present, src, 0)
    price = np.where(present, swings.price[safe], np.nan)
    pivot = np.where(present, swings.pivot[safe].astype(np.float64), np.nan)
    confirm = swings.confirm[upd]
    ukind = kind[upd]
    next_any = np.full(len(upd), n, dtype=np.int64)
    next_any[:-1] = confirm[1:]
    next_same = np.full(len(upd), n, dtype=np.int64)
    for k in (HIGH, LOW):
        pos = np.flatnonzero(ukind == k)
        next_same[pos[:-1]] = confirm[pos[1:]]
    return Tails(confirm, ukind, price, pivot, next_any, next_same)
