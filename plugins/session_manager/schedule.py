"""Which trading sessions are open at each timestamp, and which one governs.

A session is a daily window on a clock (UTC or an exchange's local time zone). Windows
whose end is before their start wrap through midnight. Where windows overlap, a priority
rule picks the governing session:

* ``"latest_open"`` (default): the session that opened most recently governs (Europe
  08:00-16:00 and US 13:00-21:00 UTC overlap from 13:00 to 16:00, and the US governs).
  "Most recently" is measured on each session's own clock; if two sessions opened at the
  same moment, the one later in ``SESSION_NAMES`` (asia, europe, us) governs.
* a sequence of every session name, highest priority first, e.g. ``("europe", "us", "asia")``.

Timestamps outside every window are "off" hours (code 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from plugins.session_manager.clock import (
    SECONDS_PER_DAY,
    as_utc_index,
    check_timezone,
    format_clock_time,
    parse_clock_time,
    seconds_of_day,
)

SESSION_NAMES: tuple[str, ...] = ("asia", "europe", "us")
OFF_HOURS = "off"
LATEST_OPEN = "latest_open"
#: Numeric code of each label, as written to the ``session_code`` column.
SESSION_CODES: Mapping[str, int] = MappingProxyType({OFF_HOURS: 0, "asia": 1, "europe": 2, "us": 3})
#: Labels indexed by code.
SESSION_LABELS: tuple[str, ...] = tuple(sorted(SESSION_CODES, key=SESSION_CODES.__getitem__))


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """A daily window ``[start, end)`` in seconds after midnight on the clock of ``timezone``.

    ``end`` may be 86,400 (24:00). ``start > end`` means the window wraps through midnight
    (22:00-02:00 is open from 22:00 to 24:00 and from 00:00 to 02:00). ``start == end``
    is refused: it would be either empty or the whole day; write 00:00-24:00 for the latter.
    """

    start: int
    end: int
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if not 0 <= self.start < SECONDS_PER_DAY:
            raise ValueError(f"window start {self.start!r} s out of range 0..86399")
        if not 0 < self.end <= SECONDS_PER_DAY:
            raise ValueError(f"window end {self.end!r} s out of range 1..86400")
        if self.start == self.end:
            raise ValueError(
                f"window {format_clock_time(self.start)}-{format_clock_time(self.end)} has the "
                "same start and end (for a whole day write 00:00-24:00)"
            )
        check_timezone(self.timezone)

    @classmethod
    def from_text(cls, start: str, end: str, timezone: str = "UTC") -> SessionWindow:
        """Build a window from ``"HH:MM"`` clock strings, e.g. ``("22:00", "02:00")``."""
        return cls(
            start=parse_clock_time(start),
            end=parse_clock_time(end, allow_end_of_day=True),
            timezone=timezone,
        )

    @property
    def wraps_midnight(self) -> bool:
        """True when the window runs through local midnight."""
        return self.start > self.end

    @property
    def length(self) -> int:
        """Length of the window in seconds of its local clock."""
        return (self.end - self.start) % SECONDS_PER_DAY or SECONDS_PER_DAY

    def describe(self) -> str:
        """Human-readable form, e.g. ``"09:30-16:00 America/New_York"``."""
        return f"{format_clock_time(self.start)}-{format_clock_time(self.end)} {self.timezone}"


@dataclass(frozen=True, slots=True)
class SessionSchedule:
    """The windows of every session plus the rule that resolves overlaps."""

    windows: Mapping[str, SessionWindow]
    priority: str | tuple[str, ...] = LATEST_OPEN

    def __post_init__(self) -> None:
        names = set(self.windows)
        if names != set(SESSION_NAMES):
            missing = sorted(set(SESSION_NAMES) - names)
            unknown = sorted(names - set(SESSION_NAMES))
            raise ValueError(
                f"schedule needs exactly the sessions {list(SESSION_NAMES)}; "
                f"missing {missing}, unknown {unknown}"
            )
        for name, window in self.windows.items():
            if not isinstance(window, SessionWindow):
                raise ValueError(f"session {name!r}: expected a SessionWindow, got {window!r}")
        # a plain dict (not a mappingproxy) keeps the schedule picklable for hyperopt workers
        object.__setattr__(self, "windows", dict(self.windows))
        object.__setattr__(self, "priority", check_priority(self.priority))


def check_priority(priority: str | Sequence[str]) -> str | tuple[str, ...]:
    """Validate a priority rule and return it normalised (``"latest_open"`` or a tuple).

    A sequence must name every session exactly once, highest priority first.
    """
    if isinstance(priority, str):
        if priority != LATEST_OPEN:
            raise ValueError(
                f"priority {priority!r} is not {LATEST_OPEN!r} nor a list of sessions "
                f"such as {list(reversed(SESSION_NAMES))}"
            )
        return priority
    if not isinstance(priority, list | tuple):
        raise ValueError(
            f"priority {priority!r} must be {LATEST_OPEN!r} or a list of every session, "
            "highest priority first"
        )
    order = tuple(priority)
    for name in order:
        if name not in SESSION_NAMES:
            raise ValueError(
                f"priority names unknown session {name!r} (sessions: {', '.join(SESSION_NAMES)})"
            )
    duplicates = sorted({name for name in order if order.count(name) > 1})
    if duplicates:
        raise ValueError(f"priority lists session(s) {duplicates} more than once")
    missing = [name for name in SESSION_NAMES if name not in order]
    if missing:
        raise ValueError(f"priority must list every session; missing {missing}")
    return order


@dataclass(frozen=True, slots=True)
class SessionClassification:
    """Result of :func:`classify_sessions` for ``n`` timestamps.

    ``is_open[name]`` is a boolean array per session (overlaps visible); ``code`` is the
    governing session's code after priority (0 for off hours, see ``SESSION_CODES``).
    """

    is_open: Mapping[str, np.ndarray]
    code: np.ndarray
    open_count: np.ndarray = field(repr=False)

    @property
    def labels(self) -> np.ndarray:
        """Governing session label per timestamp (object array of str)."""
        return np.asarray(SESSION_LABELS, dtype=object)[self.code]


def classify_sessions(
    dates: pd.Series | pd.Index | Sequence, schedule: SessionSchedule
) -> SessionClassification:
    """Classify timezone-aware timestamps into sessions, vectorised.

    Each timestamp is classified on its own (a candle by its ``date``, i.e. its open time),
    so the result for one timestamp never depends on any other.
    """
    index = as_utc_index(dates)
    clocks: dict[str, np.ndarray] = {}
    since_open: dict[str, np.ndarray] = {}
    is_open: dict[str, np.ndarray] = {}
    for name in SESSION_NAMES:
        window = schedule.windows[name]
        if window.timezone not in clocks:
            clocks[window.timezone] = seconds_of_day(index, window.timezone)
        elapsed = (clocks[window.timezone] - window.start) % SECONDS_PER_DAY
        since_open[name] = elapsed
        is_open[name] = elapsed < window.length

    open_count = np.zeros(len(index), dtype=np.int64)
    for name in SESSION_NAMES:
        open_count += is_open[name]

    code = np.zeros(len(index), dtype=np.int64)
    if schedule.priority == LATEST_OPEN:
        # Ties go to the session later in SESSION_NAMES: argmin returns the first minimum,
        # so stack the sessions in reverse order.
        ranked = SESSION_NAMES[::-1]
        elapsed_if_open = np.stack(
            [np.where(is_open[name], since_open[name], SECONDS_PER_DAY) for name in ranked]
        )
        ranked_codes = np.array([SESSION_CODES[name] for name in ranked], dtype=np.int64)
        winner = ranked_codes[np.argmin(elapsed_if_open, axis=0)] if len(index) else code
        code = np.where(open_count > 0, winner, 0)
    else:
        # Lowest priority first, so every higher-priority session overwrites it.
        for name in reversed(schedule.priority):
            code = np.where(is_open[name], SESSION_CODES[name], code)
    return SessionClassification(is_open=is_open, code=code, open_count=open_count)


def session_at(when: pd.Timestamp | str, schedule: SessionSchedule) -> str:
    """Governing session label at one timezone-aware instant (convenience wrapper)."""
    stamp = pd.Timestamp(when)
    return str(classify_sessions(pd.DatetimeIndex([stamp]), schedule).labels[0])
