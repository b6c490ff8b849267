"""Resolve armed chart patterns into breakout signals on the candle whose close confirms them.

A chart-pattern rule (see :mod:`plugins.patterns.chart`) produces *candidates*: a pattern
completed at some candle (the candle confirming its last swing point), with an upper and a
lower boundary line. From that candle on, the candidate is armed until its window ends; on
each armed candle the close is compared with both lines:

- a close above the upper line (plus the margin, if that side signals) resolves it upwards,
- a close below the lower line (minus the margin, if that side signals) resolves it downwards,

and the first resolution decides. A side with signal 0 is an invalidation: resolving there
kills the candidate without a signal. A signal is emitted on the resolving candle with

- ``neckline``: the broken boundary's level on that candle,
- ``target``: ``neckline + direction * measure`` (measured move), or a fixed level,
- ``invalidation``: the other boundary's level on that candle,

unless that close is already at or beyond the target (the move is over), or the resolving
candle is the first armed one and the previous close was already beyond the same line (the
breakout happened before the pattern was complete, e.g. during the swing confirmation lag, or
was already signalled by an earlier instance): no signal then.
Only the close of the resolving candle and earlier candles are used.

Candidates of one pattern must have disjoint windows (each rule guarantees it by ending a
window at the next update of the swing zigzag), so the work is one pass over armed candles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Candidates:
    """Armed patterns of one kind; every field is an array with one entry per candidate.

    A line is ``price + slope * (t - anchor)`` at candle position ``t``.
    """

    start: np.ndarray  # int64: first armed candle (the pattern's completing confirmation)
    end: np.ndarray  # int64: first candle no longer armed (exclusive)
    upper_anchor: np.ndarray
    upper_price: np.ndarray
    upper_slope: np.ndarray
    lower_anchor: np.ndarray
    lower_price: np.ndarray
    lower_slope: np.ndarray
    signal_up: np.ndarray  # int64: +1 if a close above the upper line is a signal, else 0
    signal_down: np.ndarray  # int64: -1 if a close below the lower line is a signal, else 0
    measure: np.ndarray  # float64: measured move added beyond the broken boundary
    target_up: np.ndarray  # float64: fixed target for an up signal (NaN: use measure)
    target_down: np.ndarray  # float64: fixed target for a down signal (NaN: use measure)
    margin: np.ndarray  # float64: how far beyond a signalling boundary the close must be

    def __len__(self) -> int:
        return len(self.start)


def one_sided(
    *,
    start: np.ndarray,
    end: np.ndarray,
    direction: np.ndarray,
    breakout_line: tuple[np.ndarray, np.ndarray, np.ndarray],
    invalidation_line: tuple[np.ndarray, np.ndarray, np.ndarray],
    measure: np.ndarray,
    margin: np.ndarray,
    fixed_target: np.ndarray | None = None,
) -> Candidates:
    """Candidates that signal ``direction`` (+1/-1) through ``breakout_line`` only.

    Lines are ``(anchor, price, slope)`` in real prices. For ``direction`` +1 the breakout
    line is the upper boundary and a close below the invalidation line kills the candidate;
    for -1 the other way round.
    """
    up = direction > 0
    nan = np.full(len(start), np.nan)
    fixed = nan if fixed_target is None else fixed_target
    return Candidates(
        start=start,
        end=end,
        upper_anchor=np.where(up, breakout_line[0], invalidation_line[0]),
        upper_price=np.where(up, breakout_line[1], invalidation_line[1]),
        upper_slope=np.where(up, breakout_line[2], invalidation_line[2]),
        lower_anchor=np.where(up, invalidation_line[0], breakout_line[0]),
        lower_price=np.where(up, invalidation_line[1], breakout_line[1]),
        lower_slope=np.where(up, invalidation_line[2], breakout_line[2]),
        signal_up=np.where(up, 1, 0).astype(np.int64),
        signal_down=np.where(up, 0, -1).astype(np.int64),
        measure=measure,
        target_up=np.where(up, fixed, np.nan),
        target_down=np.where(up, np.nan, fixed),
        margin=margin,
    )


def concat_candidates(parts: list[Candidates]) -> Candidates:
    """Join candidate sets (their windows must stay disjoint) ordered by start."""
    fields = Candidates.__dataclass_fields__
    joined = {name: np.concatenate([getattr(p, name) for p in parts]) for name in fields}
    order = np.argsort(joined["start"], kind="stable")
    return Candidates(**{name: value[order] for name, value in joined.items()})


def select(c: Candidates, mask: np.ndarray) -> Candidates:
    """The candidates where ``mask`` is true."""
    return Candidates(**{name: getattr(c, name)[mask] for name in Candidates.__dataclass_fields__})


@dataclass(frozen=True)
class Signals:
    """Per-candle output of one pattern."""

    direction: np.ndarray  # int64 in {-1, 0, 1}
    neckline: np.ndarray  # float64, NaN where no signal
    target: np.ndarray
    invalidation: np.ndarray


def _line(anchor: np.ndarray, price: np.ndarray, slope: np.ndarray, t: np.ndarray) -> np.ndarray:
    return price + slope * (t - anchor)


def resolve(close: np.ndarray, c: Candidates) -> Signals:
    """Turn candidates into per-candle signals (see the module docstring for the rule)."""
    n = len(close)
    direction = np.zeros(n, dtype=np.int64)
    neckline = np.full(n, np.nan)
    target = np.full(n, np.nan)
    invalidation = np.full(n, np.nan)
    out = Signals(direction, neckline, target, invalidation)
    end = np.minimum(c.end, n)
    keep = end > c.start
    if not keep.any():
        return out
    c = select(c, keep)
    end = end[keep]
    if len(c) > 1 and np.any(c.start[1:] < end[:-1]):
        raise ValueError("candidate windows of one pattern overlap")
    lengths = end - c.start
    owner = np.repeat(np.arange(len(c)), lengths)
    first = np.cumsum(lengths) - lengths
    t = c.start[owner] + (np.arange(len(owner)) - first[owner])
    tf = t.astype(np.float64)
    upper = _line(c.upper_anchor[owner], c.upper_price[owner], c.upper_slope[owner], tf)
    lower = _line(c.lower_anchor[owner], c.lower_price[owner], c.lower_slope[owner], tf)
    margin = c.margin[owner]
    sig_up = c.signal_up[owner]
    sig_down = c.signal_down[owner]
    px = close[t]
    up_hit = px > upper + np.where(sig_up != 0, margin, 0.0)
    down_hit = px < lower - np.where(sig_down != 0, margin, 0.0)
    hit = np.flatnonzero(up_hit | down_hit)
    if len(hit) == 0:
        return out
    first_hit = np.ones(len(hit), dtype=bool)
    first_hit[1:] = owner[hit[1:]] != owner[hit[:-1]]
    hit = hit[first_hit]
    went_up = up_hit[hit] & ~down_hit[hit]
    went_down = down_hit[hit] & ~up_hit[hit]
    sign = np.where(went_up, sig_up[hit], np.where(went_down, sig_down[hit], 0))
    o = owner[hit]
    broken = np.where(sign > 0, upper[hit], lower[hit])
    other = np.where(sign > 0, lower[hit], upper[hit])
    fixed = np.where(sign > 0, c.target_up[o], c.target_down[o])
    tgt = np.where(np.isnan(fixed), broken + sign * c.measure[o], fixed)
    # A close already beyond the broken line on the candle before the window (the breakout
    # happened before the pattern was known, or was signalled by an earlier instance) is no
    # fresh breakout: the first close of the window does not count then.
    tb = t[hit]
    prev_t = np.maximum(tb - 1, 0).astype(np.float64)
    prev_px = close[np.maximum(tb - 1, 0)]
    prev_up = _line(c.upper_anchor[o], c.upper_price[o], c.upper_slope[o], prev_t)
    prev_lo = _line(c.lower_anchor[o], c.lower_price[o], c.lower_slope[o], prev_t)
    prev_beyond = np.where(
        sign > 0,
        prev_px > prev_up + margin[hit],
        prev_px < prev_lo - margin[hit],
    )
    stale = (tb == c.start[o]) & (tb > 0) & prev_beyond
    valid = (sign != 0) & ~stale & (sign * (tgt - px[hit]) > 0)
    at = t[hit][valid]
    direction[at] = sign[valid]
    neckline[at] = broken[valid]
    target[at] = tgt[valid]
    invalidation[at] = other[valid]
    return out
