"""Chart-pattern rules over the confirmed swing zigzag (see docs/patterns.md for each rule).

Each rule looks at the zigzag tail right after every update (:class:`~.swings.Tails`), checks
its geometry with numpy over all updates at once, and returns the matching patterns as
:class:`~.breakout.Candidates`: armed from the candle confirming the pattern's last swing
point, with the boundary whose close-through is the breakout and the boundary whose
close-through invalidates it. :func:`~.breakout.resolve` then finds the confirming closes.

Mirror-image patterns (top/bottom, bull/bear) share one rule written for the top: prices are
multiplied by an orientation ``s`` (+1 or -1) so the bottom becomes a top, and the lines are
multiplied back by ``s`` at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from plugins.patterns.breakout import Candidates, concat_candidates, one_sided, select
from plugins.patterns.settings import ChartSettings
from plugins.patterns.swings import HIGH, LOW, Tails


@dataclass(frozen=True)
class PatternContext:
    """What every rule needs: the zigzag tails, the ATR at each update, the settings."""

    tails: Tails
    atr: np.ndarray  # ATR at each update's confirming candle
    n: int
    settings: ChartSettings

    def window_end(self, next_update: np.ndarray) -> np.ndarray:
        """End (exclusive) of the breakout window: the next relevant update or the wait limit."""
        limit = self.tails.confirm + self.settings.breakout_max_wait + 1
        return np.minimum(next_update, limit)

    def margin(self) -> np.ndarray:
        """Breakout margin in price units at each update."""
        return self.settings.breakout_margin_atr * self.atr

    def span_ok(self, span: np.ndarray) -> np.ndarray:
        """Pattern span (bars from first to last pivot) within the configured range."""
        cfg = self.settings
        return (span >= cfg.min_pattern_bars) & (span <= cfg.max_pattern_bars)

    def tall_enough(self, height: np.ndarray) -> np.ndarray:
        """Height positive and at least ``min_height_atr`` ATRs."""
        return (height > 0) & (height >= self.settings.min_height_atr * self.atr)


def _flat(count: int) -> np.ndarray:
    return np.zeros(count)


def _apex_end(
    end: np.ndarray,
    start_pos: np.ndarray,
    height0: np.ndarray,
    upper_slope: np.ndarray,
    lower_slope: np.ndarray,
) -> np.ndarray:
    """Cut windows at the apex of converging lines (first candle where upper <= lower)."""
    closing = lower_slope - upper_slope
    with np.errstate(divide="ignore", invalid="ignore"):
        apex = np.where(closing > 0, start_pos + height0 / closing, np.inf)
    apex_candle = np.where(np.isfinite(apex), np.ceil(apex), np.inf)
    return np.where(apex_candle < end, apex_candle, end).astype(np.int64)


def double_top_bottom(ctx: PatternContext, s: int) -> Candidates:
    """Double top (``s`` = +1, signal -1) or double bottom (``s`` = -1, signal +1).

    Zigzag tail (peak1, trough, peak2) ending on a peak (for the bottom: mirrored). Height
    ``h = mean(peak1, peak2) - trough``; peaks within ``level_tolerance * h`` of each other;
    ``h >= min_height_atr * ATR``; span within bounds. Breakout: a close beyond the trough
    (neckline); invalidation: a close beyond the higher peak; target ``neckline -/+ h``.
    Armed until the next peak update.
    """
    t, cfg = ctx.tails, ctx.settings
    price, pivot = t.last(3)
    x = price * s
    p1, trough, p2 = x[:, 0], x[:, 1], x[:, 2]
    height = (p1 + p2) / 2.0 - trough
    ok = (
        (t.kind == s)
        & ~np.isnan(pivot[:, 0])
        & ctx.tall_enough(height)
        & (np.abs(p1 - p2) <= cfg.level_tolerance * height)
        & ctx.span_ok(pivot[:, 2] - pivot[:, 0])
    )
    zero = _flat(len(ok))
    c = one_sided(
        start=t.confirm,
        end=ctx.window_end(t.next_same),
        direction=np.full(len(ok), -s),
        breakout_line=(pivot[:, 1], price[:, 1], zero),
        invalidation_line=(pivot[:, 2], s * np.maximum(p1, p2), zero),
        measure=height,
        margin=ctx.margin(),
    )
    return select(c, ok)


def head_shoulders(ctx: PatternContext, s: int) -> Candidates:
    """Head and shoulders (``s`` = +1, signal -1) or inverse (``s`` = -1, signal +1).

    Zigzag tail (left shoulder, trough1, head, trough2, right shoulder) ending on a peak.
    Neckline through the two troughs; ``h = head - neckline(at the head)``. Rules: head above
    both shoulders; shoulders within ``level_tolerance * h``; troughs within
    ``neckline_tolerance * h``; both shoulders above the neckline; time from each shoulder to
    the head within a ratio of ``hs_max_asymmetry``; ``h >= min_height_atr * ATR``; span
    within bounds. Breakout: a close beyond the neckline; invalidation: a close beyond the
    right shoulder; target ``neckline -/+ h``. Armed until the next peak update.
    """
    t, cfg = ctx.tails, ctx.settings
    price, pivot = t.last(5)
    x = price * s
    ls, t1, head, t2, rs = (x[:, j] for j in range(5))
    i_ls, i_t1, i_hd, i_t2, i_rs = (pivot[:, j] for j in range(5))
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (t2 - t1) / (i_t2 - i_t1)
        left = i_hd - i_ls
        right = i_rs - i_hd
        asymmetry = np.maximum(left, right) / np.minimum(left, right)

    def neck(i: np.ndarray) -> np.ndarray:
        return t1 + slope * (i - i_t1)

    height = head - neck(i_hd)
    ok = (
        (t.kind == s)
        & ~np.isnan(i_ls)
        & (head > ls)
        & (head > rs)
        & ctx.tall_enough(height)
        & (np.abs(ls - rs) <= cfg.level_tolerance * height)
        & (np.abs(t1 - t2) <= cfg.neckline_tolerance * height)
        & (ls > neck(i_ls))
        & (rs > neck(i_rs))
        & (np.minimum(left, right) > 0)
        & (asymmetry <= cfg.hs_max_asymmetry)
        & ctx.span_ok(i_rs - i_ls)
    )
    c = one_sided(
        start=t.confirm,
        end=ctx.window_end(t.next_same),
        direction=np.full(len(ok), -s),
        breakout_line=(i_t1, price[:, 1], s * slope),
        invalidation_line=(i_rs, price[:, 4], _flat(len(ok))),
        measure=height,
        margin=ctx.margin(),
    )
    return select(c, ok)


@dataclass(frozen=True)
class _Channel:
    """Upper and lower lines fitted to a five-point zigzag tail, plus shape measures."""

    upper: tuple[np.ndarray, np.ndarray, np.ndarray]  # (anchor, price, slope)
    lower: tuple[np.ndarray, np.ndarray, np.ndarray]
    start: np.ndarray  # pivot of the first point
    height0: np.ndarray  # upper - lower at the first pivot
    du: np.ndarray  # upper line's move over the span / height0
    dl: np.ndarray  # lower line's move over the span / height0
    convergence: np.ndarray  # 1 - height at last pivot / height0
    base: np.ndarray  # bool: common conditions hold


def _five_point_channel(ctx: PatternContext) -> _Channel:
    """Fit the boundary lines of triangles and wedges to the last five zigzag points.

    Points 1, 3, 5 (the newest point's kind) give one line through points 1 and 5, and point 3
    must lie within ``level_tolerance * height0`` of it; points 2 and 4 give the other line.
    """
    t, cfg = ctx.tails, ctx.settings
    price, pivot = t.last(5)
    p = [price[:, j] for j in range(5)]
    i = [pivot[:, j] for j in range(5)]
    with np.errstate(divide="ignore", invalid="ignore"):
        a_slope = (p[4] - p[0]) / (i[4] - i[0])
        b_slope = (p[3] - p[1]) / (i[3] - i[1])
    residual = p[2] - (p[0] + a_slope * (i[2] - i[0]))
    newest_high = t.kind == HIGH
    a = (i[0], p[0], a_slope)
    b = (i[1], p[1], b_slope)
    upper = tuple(np.where(newest_high, x, y) for x, y in zip(a, b, strict=True))
    lower = tuple(np.where(newest_high, y, x) for x, y in zip(a, b, strict=True))

    def at(line: tuple[np.ndarray, ...], pos: np.ndarray) -> np.ndarray:
        return line[1] + line[2] * (pos - line[0])

    height0 = at(upper, i[0]) - at(lower, i[0])
    height_end = at(upper, i[4]) - at(lower, i[4])
    span = i[4] - i[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        du = upper[2] * span / height0
        dl = lower[2] * span / height0
        convergence = 1.0 - height_end / height0
    base = (
        ~np.isnan(i[0])
        & ctx.tall_enough(height0)
        & (height_end > 0)
        & (np.abs(residual) <= cfg.level_tolerance * height0)
        & ctx.span_ok(span)
    )
    return _Channel(upper, lower, i[0], height0, du, dl, convergence, base)


def _channel_end(ctx: PatternContext, ch: _Channel) -> np.ndarray:
    return _apex_end(
        ctx.window_end(ctx.tails.next_any), ch.start, ch.height0, ch.upper[2], ch.lower[2]
    )


def triangle(ctx: PatternContext, shape: str) -> Candidates:
    """Ascending, descending or symmetrical triangle; breakout either way (+1 up, -1 down).

    Lines from :func:`_five_point_channel`; ``flat_tolerance`` = f. Ascending: upper flat
    (``|du| <= f``), lower rising (``dl > f``); descending: lower flat, upper falling
    (``du < -f``); symmetrical: upper falling and lower rising. Breakout: a close above the
    upper line (+1) or below the lower line (-1); target: the broken line -/+ the height at
    the first pivot; invalidation: the other line. Armed until the next zigzag update or the
    apex.
    """
    f = ctx.settings.flat_tolerance
    ch = _five_point_channel(ctx)
    if shape == "ascending":
        shape_ok = (np.abs(ch.du) <= f) & (ch.dl > f)
    elif shape == "descending":
        shape_ok = (np.abs(ch.dl) <= f) & (ch.du < -f)
    elif shape == "symmetrical":
        shape_ok = (ch.du < -f) & (ch.dl > f)
    else:
        raise ValueError(f"unknown triangle shape {shape!r}")
    count = len(ch.base)
    nan = np.full(count, np.nan)
    c = Candidates(
        start=ctx.tails.confirm,
        end=_channel_end(ctx, ch),
        upper_anchor=ch.upper[0],
        upper_price=ch.upper[1],
        upper_slope=ch.upper[2],
        lower_anchor=ch.lower[0],
        lower_price=ch.lower[1],
        lower_slope=ch.lower[2],
        signal_up=np.ones(count, dtype=np.int64),
        signal_down=np.full(count, -1, dtype=np.int64),
        measure=ch.height0,
        target_up=nan,
        target_down=nan,
        margin=ctx.margin(),
    )
    return select(c, ch.base & shape_ok)


def wedge(ctx: PatternContext, s: int) -> Candidates:
    """Rising wedge (``s`` = +1, signal -1) or falling wedge (``s`` = -1, signal +1).

    Lines from :func:`_five_point_channel`. Rising: both lines rise (``du > f``), the lower
    faster (``dl > du``), and the height shrinks by at least ``wedge_min_convergence``.
    Breakout: a close below the lower line; invalidation: a close above the upper line;
    target: the lower line's level at the first pivot (the wedge's start). Falling: mirrored.
    Armed until the next zigzag update or the apex.
    """
    f = ctx.settings.flat_tolerance
    ch = _five_point_channel(ctx)
    converging = ch.convergence >= ctx.settings.wedge_min_convergence
    if s == HIGH:
        shape_ok = (ch.du > f) & (ch.dl > ch.du) & converging
        brk, inv = ch.lower, ch.upper
    else:
        shape_ok = (ch.dl < -f) & (ch.du < ch.dl) & converging
        brk, inv = ch.upper, ch.lower
    fixed = brk[1] + brk[2] * (ch.start - brk[0])
    c = one_sided(
        start=ctx.tails.confirm,
        end=_channel_end(ctx, ch),
        direction=np.full(len(ch.base), -s),
        breakout_line=brk,
        invalidation_line=inv,
        measure=ch.height0,
        margin=ctx.margin(),
        fixed_target=fixed,
    )
    return select(c, ch.base & shape_ok)


def flag_pennant(ctx: PatternContext, shape: str) -> Candidates:
    """Bull/bear flag or pennant (+1 bull, -1 bear).

    Bull: zigzag tail (pole base, pole top, low1, high2, low2) ending on a low; bear mirrored.
    Pole ``= top - base >= pole_min_atr * ATR`` within ``pole_max_bars``; the consolidation
    (pole top to low2) makes no higher high, retraces at most ``flag_max_retrace`` of the
    pole, lasts at most ``flag_max_bars``. Upper line through (pole top, high2), lower line
    through (low1, low2); ``du``/``dl`` are their moves over the consolidation relative to
    its height at the pole top. Flag: parallel (``|du - dl| <= flag_parallel_tolerance``)
    and not rising (``du <= flat_tolerance``). Pennant: upper falling and lower rising (beyond
    ``flat_tolerance``) and not a flag. Breakout: a close beyond the upper line; invalidation:
    a close beyond the lower line; target: the broken line + the pole. Armed until the next
    zigzag update (or a pennant's apex).
    """
    t, cfg = ctx.tails, ctx.settings
    price, pivot = t.last(5)
    s = np.where(t.kind == LOW, 1.0, -1.0)
    x = price * s[:, None]
    base0, top1, low1, top2, low2 = (x[:, j] for j in range(5))
    i0, i1, i2, i3, i4 = (pivot[:, j] for j in range(5))
    with np.errstate(divide="ignore", invalid="ignore"):
        up_slope = (top2 - top1) / (i3 - i1)
        lo_slope = (low2 - low1) / (i4 - i2)
    height0 = top1 - (low1 + lo_slope * (i1 - i2))
    height_end = (top1 + up_slope * (i4 - i1)) - low2
    span = i4 - i1
    pole = top1 - base0
    retrace = top1 - np.minimum(low1, low2)
    with np.errstate(divide="ignore", invalid="ignore"):
        du = up_slope * span / height0
        dl = lo_slope * span / height0
    base = (
        ~np.isnan(i0)
        & (pole > 0)
        & (pole >= cfg.pole_min_atr * ctx.atr)
        & (i1 - i0 <= cfg.pole_max_bars)
        & (top2 <= top1)
        & (retrace > 0)
        & (retrace <= cfg.flag_max_retrace * pole)
        & (span <= cfg.flag_max_bars)
        & (height0 > 0)
        & (height_end > 0)
    )
    is_flag = (np.abs(du - dl) <= cfg.flag_parallel_tolerance) & (du <= cfg.flat_tolerance)
    if shape == "flag":
        shape_ok = is_flag
    elif shape == "pennant":
        shape_ok = (du < -cfg.flat_tolerance) & (dl > cfg.flat_tolerance) & ~is_flag
    else:
        raise ValueError(f"unknown flag shape {shape!r}")
    end = ctx.window_end(t.next_any)
    if shape == "pennant":
        end = _apex_end(end, i1, height0, up_slope, lo_slope)
    c = one_sided(
        start=t.confirm,
        end=end,
        direction=s.astype(np.int64),
        breakout_line=(i1, price[:, 1], s * up_slope),
        invalidation_line=(i2, price[:, 2], s * lo_slope),
        measure=pole,
        margin=ctx.margin(),
    )
    return select(c, base & shape_ok)


def support_resistance(ctx: PatternContext, s: int) -> Candidates:
    """Resistance breakout (``s`` = +1, signal +1) or support breakdown (``s`` = -1, signal -1).

    At each swing-high update (lows: mirrored), look at the last ``sr_lookback`` zigzag highs.
    With ``w = sr_tolerance_atr * ATR`` and the newest high ``H``: walking back from ``H``,
    stop at the first high above ``H + w`` (the level was broken there); the highs within
    ``w`` of ``H`` up to that point are touches. With at least ``sr_min_touches`` touches the
    level is the highest touch and the range floor the lowest zigzag low since the first
    touch; height = level - floor must be ``>= min_height_atr * ATR`` and the span from first
    touch to ``H`` within bounds. Breakout: a close above the level; invalidation: a close
    below the floor; target: level + height. Armed until the next swing-high update.
    """
    t, cfg = ctx.tails, ctx.settings
    lookback = cfg.sr_lookback
    m = 2 * lookback - 1
    price, pivot = t.last(m)
    x = price * s
    highs = x[:, 0::2]
    lows = x[:, 1::2]
    newest = highs[:, -1]
    width = cfg.sr_tolerance_atr * ctx.atr
    above = ~(highs <= (newest + width)[:, None])  # a missing point blocks too
    blocked = np.logical_or.accumulate(above[:, ::-1], axis=1)[:, ::-1]
    touch = ~blocked & (np.abs(highs - newest[:, None]) <= width[:, None])
    count = touch.sum(axis=1)
    level = np.where(touch, highs, -np.inf).max(axis=1)
    first = np.argmax(touch, axis=1)
    between = np.arange(lookback - 1)[None, :] >= first[:, None]
    floor = np.where(between, lows, np.inf).min(axis=1)
    height = level - floor
    first_pivot = np.take_along_axis(pivot, (2 * first)[:, None], axis=1)[:, 0]
    ok = (
        (t.kind == s)
        & (count >= cfg.sr_min_touches)
        & np.isfinite(height)
        & ctx.tall_enough(height)
        & ctx.span_ok(pivot[:, -1] - first_pivot)
    )
    zero = _flat(len(ok))
    newest_pivot = pivot[:, -1]
    with np.errstate(invalid="ignore"):
        c = one_sided(
            start=t.confirm,
            end=ctx.window_end(t.next_same),
            direction=np.full(len(ok), s),
            breakout_line=(newest_pivot, s * level, zero),
            invalidation_line=(newest_pivot, s * floor, zero),
            measure=height,
            margin=ctx.margin(),
        )
    return select(c, ok)


#: Rule of each chart pattern (by output name).
PATTERN_RULES: dict[str, Callable[[PatternContext], Candidates]] = {
    "double_top": lambda ctx: double_top_bottom(ctx, HIGH),
    "double_bottom": lambda ctx: double_top_bottom(ctx, LOW),
    "head_shoulders": lambda ctx: head_shoulders(ctx, HIGH),
    "inverse_head_shoulders": lambda ctx: head_shoulders(ctx, LOW),
    "triangle_ascending": lambda ctx: triangle(ctx, "ascending"),
    "triangle_descending": lambda ctx: triangle(ctx, "descending"),
    "triangle_symmetrical": lambda ctx: triangle(ctx, "symmetrical"),
    "wedge_rising": lambda ctx: wedge(ctx, HIGH),
    "wedge_falling": lambda ctx: wedge(ctx, LOW),
    "flag": lambda ctx: flag_pennant(ctx, "flag"),
    "pennant": lambda ctx: flag_pennant(ctx, "pennant"),
    "breakout_resistance": lambda ctx: support_resistance(ctx, HIGH),
    "breakout_support": lambda ctx: support_resistance(ctx, LOW),
}


def tail_length(settings: ChartSettings) -> int:
    """How many zigzag points the enabled rules look at."""
    return max(5, 2 * settings.sr_lookback - 1)


__all__ = ["PATTERN_RULES", "PatternContext", "concat_candidates", "tail_length"]
