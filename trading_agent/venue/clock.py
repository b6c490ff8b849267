"""The venue's clocks: which instant of the recording ("dataset time" D) is being served.

STATIC mode serves the recording as it is: D is the end of the recording and timestamps are
served unshifted (offset 0).

REPLAY mode maps the recording onto the wall clock. The recording is shifted forward by a
whole number of days, ``offset``, chosen so that the replay start date maps onto today (UTC):

    D = now - offset          (dataset time being replayed)
    served timestamp = recorded timestamp + offset

A whole-day offset keeps every interval up to 1d on its boundaries, so a candle that closes in
the recording closes at the same time of day on the wall clock. When the wall clock runs past
the end of the recording, D stays at the end (the venue reports ``exhausted``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from trading_agent.venue.intervals import DAY_MS

#: Days of history before the default replay start: 60 days are 360 candles at 4h, enough for
#: Freqtrade's start-up candles on the slow informative timeframes.
DEFAULT_WARMUP_DAYS = 60


def wall_clock_ms() -> int:
    """The current time in milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


def utc_date(t_ms: int) -> dt.date:
    """UTC calendar date holding the instant ``t_ms``."""
    return dt.datetime.fromtimestamp(t_ms / 1000, tz=dt.UTC).date()


def date_ms(day: dt.date) -> int:
    """Milliseconds since the epoch of ``day`` at 00:00 UTC."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def default_replay_start(dataset_first_ms: int, warmup_days: int = DEFAULT_WARMUP_DAYS) -> dt.date:
    """Replay start date: the first full day of the dataset plus ``warmup_days``."""
    first_day = utc_date(dataset_first_ms)
    if date_ms(first_day) < dataset_first_ms:
        first_day += dt.timedelta(days=1)
    return first_day + dt.timedelta(days=warmup_days)


def replay_offset_ms(replay_start: dt.date, today: dt.date) -> int:
    """Whole-day shift that maps 00:00 UTC of ``replay_start`` onto 00:00 UTC of ``today``."""
    return (today - replay_start).days * DAY_MS


def parse_replay_start(text: str) -> dt.date:
    """Parse ``YYYY-MM-DD``; ValueError names the bad value."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--replay-start {text!r} is not a date in YYYY-MM-DD form") from None


@dataclass(frozen=True)
class VenueClock:
    """Maps wall-clock time to dataset time.

    ``offset_ms`` is 0 in static mode. ``static_time_ms`` is the fixed dataset time of static
    mode (the end of the recording); it is None in replay mode. ``end_ms`` is the end of the
    recording.
    """

    offset_ms: int
    static_time_ms: int | None
    end_ms: int
    now_ms: Callable[[], int] = wall_clock_ms

    @property
    def replay(self) -> bool:
        """True when the recording is replayed on the wall clock."""
        return self.static_time_ms is None

    def dataset_time(self, now_ms: int | None = None) -> int:
        """Dataset time D being served at wall-clock time ``now_ms`` (default: now).

        A replay that has run past the end of the recording stays at its end.
        """
        if self.static_time_ms is not None:
            return self.static_time_ms
        now = self.now_ms() if now_ms is None else now_ms
        return min(now - self.offset_ms, self.end_ms)

    def to_served(self, dataset_ms: int) -> int:
        """Served (wall-clock) timestamp of a dataset timestamp."""
        return dataset_ms + self.offset_ms

    def to_dataset(self, served_ms: int) -> int:
        """Dataset timestamp of a served (wall-clock) timestamp."""
        return served_ms - self.offset_ms


def make_clock(
    *,
    replay: bool,
    dataset_first_ms: int,
    dataset_end_ms: int,
    replay_start: dt.date | None = None,
    now_ms: Callable[[], int] = wall_clock_ms,
) -> VenueClock:
    """Build the clock for static or replay mode.

    In replay mode ``replay_start`` (default :func:`default_replay_start`) must fall inside the
    recording; otherwise ValueError names it and the recorded span.
    """
    if not replay:
        if replay_start is not None:
            raise ValueError("--replay-start only applies with --replay")
        return VenueClock(
            offset_ms=0, static_time_ms=dataset_end_ms, end_ms=dataset_end_ms, now_ms=now_ms
        )
    start = replay_start or default_replay_start(dataset_first_ms)
    start_ms = date_ms(start)
    if not dataset_first_ms <= start_ms < dataset_end_ms:
        raise ValueError(
            f"--replay-start {start.isoformat()} is outside the recording "
            f"({utc_date(dataset_first_ms).isoformat()} to {utc_date(dataset_end_ms).isoformat()})"
        )
    offset = replay_offset_ms(start, utc_date(now_ms()))
    return VenueClock(offset_ms=offset, static_time_ms=None, end_ms=dataset_end_ms, now_ms=now_ms)
