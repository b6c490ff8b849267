"""Breakout resolver: the first close beyond a boundary decides; stale or finished moves don't.

Candidates and closes here are SYNTHETIC, built by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from plugins.patterns.breakout import Candidates, one_sided, resolve


def flat_two_sided(start: int, end: int, upper: float, lower: float, measure: float = 2.0):
    one = np.ones(1)
    return Candidates(
        start=np.array([start]),
        end=np.array([end]),
        upper_anchor=np.zeros(1),
        upper_price=one * upper,
        upper_slope=np.zeros(1),
        lower_anchor=np.zeros(1),
        lower_price=one * lower,
        lower_slope=np.zeros(1),
        signal_up=np.array([1]),
        signal_down=np.array([-1]),
        measure=one * measure,
        target_up=np.full(1, np.nan),
        target_down=np.full(1, np.nan),
        margin=np.zeros(1),
    )


def test_first_close_beyond_either_boundary_decides() -> None:
    close = np.array([10.0, 10.0, 10.5, 9.5, 11.5, 8.0])
    out = resolve(close, flat_two_sided(1, 6, upper=11.0, lower=9.0))
    # No close leaves [9, 11] until bar 4 (11.5 > 11); bar 5 is no longer armed.
    assert list(out.direction) == [0, 0, 0, 0, 1, 0]
    assert (out.neckline[4], out.target[4], out.invalidation[4]) == (11.0, 13.0, 9.0)
    assert np.isnan(out.neckline[[0, 1, 2, 3, 5]]).all()


def test_close_equal_to_boundary_is_not_a_breakout() -> None:
    close = np.array([10.0, 11.0, 9.0, 10.0])
    out = resolve(close, flat_two_sided(1, 4, upper=11.0, lower=9.0))
    assert not out.direction.any()


def test_window_end_is_exclusive() -> None:
    close = np.array([10.0, 10.0, 10.0, 12.0])
    assert not resolve(close, flat_two_sided(1, 3, 11.0, 9.0)).direction.any()
    assert resolve(close, flat_two_sided(1, 4, 11.0, 9.0)).direction[3] == 1


def test_invalidation_side_kills_without_signal() -> None:
    zero = np.zeros(1)
    c = one_sided(
        start=np.array([1]),
        end=np.array([6]),
        direction=np.array([-1]),
        breakout_line=(zero, np.array([9.0]), zero),
        invalidation_line=(zero, np.array([11.0]), zero),
        measure=np.array([2.0]),
        margin=zero,
    )
    assert not resolve(np.array([10, 10, 11.5, 8.5, 8.0, 8.0]), c).direction.any()
    out = resolve(np.array([10, 10, 10.5, 8.5, 8.0, 8.0]), c)
    assert list(out.direction) == [0, 0, 0, -1, 0, 0]
    assert (out.neckline[3], out.target[3], out.invalidation[3]) == (9.0, 7.0, 11.0)


def test_breakout_before_the_pattern_was_known_is_stale() -> None:
    # The close was already above the line on the candle before the window starts.
    close = np.array([10.0, 11.5, 11.6, 11.7])
    assert not resolve(close, flat_two_sided(2, 4, 11.0, 9.0)).direction.any()
    close = np.array([10.0, 10.5, 11.6, 11.7])
    assert resolve(close, flat_two_sided(2, 4, 11.0, 9.0)).direction[2] == 1


def test_close_already_at_target_gives_no_signal() -> None:
    close = np.array([10.0, 10.0, 13.0])
    assert not resolve(close, flat_two_sided(1, 3, 11.0, 9.0, measure=2.0)).direction.any()


def test_sloped_lines_and_margin() -> None:
    c = flat_two_sided(0, 5, 11.0, 9.0)
    c = Candidates(**{**c.__dict__, "upper_slope": np.array([0.5]), "margin": np.array([0.2])})
    # upper(t) = 11 + 0.5 t; bar 3: 12.5 + 0.2 margin = 12.7; close 12.6 is not enough.
    close = np.array([10.0, 10.0, 10.0, 12.6, 13.3])
    out = resolve(close, c)
    assert list(out.direction) == [0, 0, 0, 0, 1]
    assert out.neckline[4] == 13.0
    assert out.target[4] == 15.0


def test_overlapping_windows_are_refused() -> None:
    a = flat_two_sided(1, 5, 11.0, 9.0)
    both = Candidates(**{k: np.concatenate([v, v]) for k, v in a.__dict__.items()})
    with pytest.raises(ValueError, match="overlap"):
        resolve(np.full(6, 10.0), both)
