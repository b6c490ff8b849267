"""Each benchmark row judged against its target: met, missed, or no target to judge it by.

A benchmark row (see :mod:`bench.run_all`) holds ``name``, ``value``, ``unit``, ``target`` and
``note``. ``target`` is empty (the row is informational) or a comparison with a number and
optionally the row's unit, then optionally a remark in parentheses: ``< 50 ms``, ``<= 1.5``,
``<= 1.0 (default budget)``. A target that cannot be read, or that names another unit than
its row, is an error in the benchmark: it is reported and counts as missed, never as met.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MET = "met"
MISSED = "MISSED"
NO_TARGET = "-"
FAILED = "FAILED"
BAD_TARGET = "BAD TARGET"
#: Verdicts that make ``make bench`` exit non-zero.
FAILING = frozenset({MISSED, FAILED, BAD_TARGET})

_COMPARE: Mapping[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TARGET = re.compile(
    r"^\s*(?P<op><=|>=|<|>)\s*(?P<limit>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"\s*(?P<unit>[^\s(]+)?\s*(?:\(.*\))?\s*$"
)


@dataclass(frozen=True, slots=True)
class Target:
    """A row's target: ``value <op> limit``, in ``unit`` when the target names one."""

    op: str
    limit: float
    unit: str = ""

    @classmethod
    def parse(cls, text: str) -> Target | None:
        """The target written as ``text``; ``None`` for an empty one.

        Raises ``ValueError`` naming the text when it is not ``<op> <number> [unit] [(...)]``.
        """
        if not text.strip():
            return None
        match = _TARGET.match(text)
        if match is None:
            raise ValueError(
                f"target {text!r} is not '<op> <number> [unit] [(remark)]' with op in "
                f"{sorted(_COMPARE)}"
            )
        return cls(match["op"], float(match["limit"]), match["unit"] or "")

    def met_by(self, value: float) -> bool:
        """Whether ``value`` meets the target (a missing or NaN value never does)."""
        return (
            isinstance(value, int | float)
            and not math.isnan(value)
            and bool(_COMPARE[self.op](float(value), self.limit))
        )


def verdict(row: Mapping[str, Any]) -> str:
    """``met``, ``MISSED``, ``-`` (no target), ``FAILED`` (the benchmark raised) or
    ``BAD TARGET`` (a target that cannot be read or names another unit than the row's)."""
    if row.get("failed"):
        return FAILED
    try:
        target = Target.parse(str(row.get("target") or ""))
    except ValueError:
        return BAD_TARGET
    if target is None:
        return NO_TARGET
    if target.unit and target.unit != str(row.get("unit", "")):
        return BAD_TARGET
    try:
        value = float(row.get("value"))
    except (TypeError, ValueError):
        return MISSED
    return MET if target.met_by(value) else MISSED


def summary(verdicts: Sequence[str], seconds: float) -> str:
    """The one line that ends ``make bench``: how many rows met and missed, and the time."""
    counts = {v: sum(1 for x in verdicts if x == v) for v in (MET, MISSED, FAILED, BAD_TARGET)}
    parts = [f"{counts[MET]} met", f"{counts[MISSED]} missed"]
    if counts[FAILED]:
        parts.append(f"{counts[FAILED]} failed")
    if counts[BAD_TARGET]:
        parts.append(f"{counts[BAD_TARGET]} with a bad target")
    untargeted = sum(1 for x in verdicts if x == NO_TARGET)
    outcome = "FAILED" if any(v in FAILING for v in verdicts) else "OK"
    return (
        f"bench {outcome}: {', '.join(parts)} of {len(verdicts) - untargeted} targets "
        f"({untargeted} rows without a target) in {seconds:.1f} s"
    )
