"""Walk-forward folds: rolling train/test windows over the data, and which of them can run.

A fold trains on ``train_months`` and tests on the ``test_months`` after them; the next fold
starts ``step_months`` later. Test windows must not overlap (``step_months >= test_months``) so
that the out-of-sample days, compounded in order, count each day once.

The data have holes (withheld periods, exchange outages). A fold runs only where its test
window is (almost) fully covered and its train window holds enough data; coverage is the share
of a window's candles present in the data, for the pair that has the fewest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from trading_agent.evaluation.equity import timeframe_delta


@dataclass(frozen=True)
class Fold:
    """One train window followed by its test window (start inclusive, end exclusive, UTC)."""

    number: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp

    def label(self) -> str:
        """``fold 3: train 2021-07-01..2022-07-01, test 2022-07-01..2022-10-01``."""
        day = "%Y-%m-%d"
        return (
            f"fold {self.number}: train {self.train_start:{day}}..{self.train_end:{day}}, "
            f"test {self.test_start:{day}}..{self.test_end:{day}}"
        )


def rolling_folds(
    start: pd.Timestamp,
    end: pd.Timestamp,
    train_months: int,
    test_months: int,
    step_months: int,
) -> list[Fold]:
    """Every fold whose train window starts at or after ``start`` and test ends by ``end``.

    Raises ``ValueError`` naming the bad setting (months below one, overlapping test
    windows, a start not before the end).
    """
    for name, value in (
        ("train months", train_months),
        ("test months", test_months),
        ("step months", step_months),
    ):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if step_months < test_months:
        raise ValueError(
            f"step months ({step_months}) below test months ({test_months}) would make test "
            "windows overlap and count days twice in the out-of-sample equity"
        )
    if not start < end:
        raise ValueError(f"start {start} is not before end {end}")
    folds = []
    while True:
        offset = pd.DateOffset(months=step_months * len(folds))
        train_start = start + offset
        train_end = train_start + pd.DateOffset(months=train_months)
        test_end = train_end + pd.DateOffset(months=test_months)
        if test_end > end:
            return folds
        folds.append(Fold(len(folds) + 1, train_start, train_end, train_end, test_end))


def coverage(dates: pd.Series, start: pd.Timestamp, end: pd.Timestamp, timeframe: str) -> float:
    """Share of the ``timeframe`` candles of ``[start, end)`` whose open is in ``dates``."""
    expected = (end - start) / timeframe_delta(timeframe)
    inside = dates[(dates >= start) & (dates < end)]
    return float(inside.nunique()) / expected if expected > 0 else 0.0


@dataclass(frozen=True)
class FoldCheck:
    """A fold with the coverage of its windows and, if it cannot run, why."""

    fold: Fold
    train_coverage: dict[str, float]
    test_coverage: dict[str, float]
    skip_reason: str | None

    @property
    def runs(self) -> bool:
        """Whether the fold has the data to run."""
        return self.skip_reason is None


def _shortfall(name: str, shares: Mapping[str, float], minimum: float) -> str | None:
    worst = min(shares.values())
    if worst >= minimum:
        return None
    listed = ", ".join(f"{pair} {100 * share:.1f} %" for pair, share in shares.items())
    return f"{name} window covered {100 * worst:.1f} % < {100 * minimum:.0f} % ({listed})"


def check_folds(
    folds: Sequence[Fold],
    dates_by_pair: Mapping[str, pd.Series],
    timeframe: str,
    min_train_coverage: float,
    min_test_coverage: float,
) -> list[FoldCheck]:
    """Each fold's coverage per pair, and the reason it is skipped where it falls short."""
    for name, value in (("train", min_train_coverage), ("test", min_test_coverage)):
        if not 0 <= value <= 1:
            raise ValueError(f"minimum {name} coverage must be in [0, 1], got {value}")
    if not dates_by_pair:
        raise ValueError("coverage needs at least one pair")
    checks = []
    for fold in folds:
        train = {
            p: coverage(d, fold.train_start, fold.train_end, timeframe)
            for p, d in dates_by_pair.items()
        }
        test = {
            p: coverage(d, fold.test_start, fold.test_end, timeframe)
            for p, d in dates_by_pair.items()
        }
        reasons = [
            r
            for r in (
                _shortfall("test", test, min_test_coverage),
                _shortfall("train", train, min_train_coverage),
            )
            if r
        ]
        checks.append(FoldCheck(fold, train, test, "; ".join(reasons) or None))
    return checks


def data_span(
    dates_by_pair: Mapping[str, pd.Series], timeframe: str
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The whole months in which every pair has data: from the first month start on or after
    the latest first candle, to the last month start on or before the earliest last close.

    Raises ``ValueError`` when a pair has no candles or the span holds no whole month.
    """
    empty = [p for p, d in dates_by_pair.items() if d.empty]
    if empty or not dates_by_pair:
        raise ValueError(f"no {timeframe} candles for {empty or 'any pair'}")
    first = max(d.min() for d in dates_by_pair.values())
    last = min(d.max() for d in dates_by_pair.values()) + timeframe_delta(timeframe)
    start = first.normalize().replace(day=1)
    if start < first:
        start = start + pd.DateOffset(months=1)
    end = last.normalize().replace(day=1)
    if not start < end:
        raise ValueError(f"the {timeframe} data ({first}..{last}) hold no whole month")
    return start, end


def contiguous_runs(windows: Sequence[tuple[pd.Timestamp, pd.Timestamp]]) -> list[list[int]]:
    """Indices of ``windows`` (in time order) grouped where each starts as the previous ends."""
    runs: list[list[int]] = []
    for i, (start, _) in enumerate(windows):
        if runs and windows[runs[-1][-1]][1] == start:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs
