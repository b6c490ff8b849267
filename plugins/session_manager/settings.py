"""Validated configuration of the session manager (the ``session_manager`` config block).

Example block in ``user_data/config.json`` (every key optional)::

    "trading_agent": {"plugins": {"session_manager": {
        "hours_preset": "utc",
        "priority": "latest_open",
        "us": {"momentum_threshold": 0.055},
        "europe": {"start": "08:00", "end": "16:30", "timezone": "Europe/London"},
        "off": {"position_size_factor": 0.0}
    }}}

A session block only needs the keys it changes: the rest come from the hours preset and the
seed defaults of *that* session. Unknown keys, wrong types, out-of-range numbers, malformed
clock times, identical start and end, unknown time zones and bad priority lists are all
rejected with an error naming the offending key and value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from plugins.session_manager.clock import check_timezone, parse_clock_time
from plugins.session_manager.parameters import (
    DEFAULT_PARAMETER_VALUES,
    ParameterTable,
    SessionParameters,
)
from plugins.session_manager.schedule import (
    LATEST_OPEN,
    OFF_HOURS,
    SESSION_NAMES,
    SessionSchedule,
    SessionWindow,
    check_priority,
)

#: Session hours per preset: ``"utc"`` is the seed's (UTC clock); ``"exchange"`` uses the
#: regular trading hours of Tokyo, London and New York on their local clocks, so the UTC
#: hours move with daylight saving (the Tokyo Stock Exchange has closed at 15:30 since
#: 5 November 2024).
HOURS_PRESETS: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    "utc": {
        "asia": {"start": "00:00", "end": "08:00", "timezone": "UTC"},
        "europe": {"start": "08:00", "end": "16:00", "timezone": "UTC"},
        "us": {"start": "13:00", "end": "21:00", "timezone": "UTC"},
    },
    "exchange": {
        "asia": {"start": "09:00", "end": "15:30", "timezone": "Asia/Tokyo"},
        "europe": {"start": "08:00", "end": "16:30", "timezone": "Europe/London"},
        "us": {"start": "09:30", "end": "16:00", "timezone": "America/New_York"},
    },
}


class SessionSpec(SessionParameters):
    """One session: its daily window (``"HH:MM"`` on the clock of ``timezone``) and parameters.

    ``end`` before ``start`` wraps through midnight (``"22:00"``-``"02:00"``); ``"24:00"`` is
    allowed as an end; identical start and end are refused.
    """

    start: str
    end: str
    timezone: str = "UTC"

    @field_validator("start")
    @classmethod
    def _check_start(cls, value: str) -> str:
        parse_clock_time(value)
        return value

    @field_validator("end")
    @classmethod
    def _check_end(cls, value: str) -> str:
        parse_clock_time(value, allow_end_of_day=True)
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _check_window(self) -> SessionSpec:
        self.window()
        return self

    def window(self) -> SessionWindow:
        """The session's :class:`SessionWindow`."""
        return SessionWindow.from_text(self.start, self.end, self.timezone)

    def parameters(self) -> SessionParameters:
        """The session's parameters without its hours."""
        return SessionParameters.model_validate(
            {name: getattr(self, name) for name in SessionParameters.model_fields}
        )


class SessionSettings(BaseModel):
    """Settings of the ``session_manager`` plugin.

    ``hours_preset`` picks default hours (``"utc"`` seed hours or ``"exchange"`` local hours);
    ``priority`` is ``"latest_open"`` or a list of every session, highest priority first;
    ``asia``/``europe``/``us`` override hours and parameters; ``off`` the off-hours parameters.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    hours_preset: Literal["utc", "exchange"] = "utc"
    priority: str | list[str] = LATEST_OPEN
    asia: SessionSpec
    europe: SessionSpec
    us: SessionSpec
    off: SessionParameters

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        """Complete each partial session block from its preset hours and seed defaults."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        preset = data.get("hours_preset", "utc")
        hours = HOURS_PRESETS.get(preset, HOURS_PRESETS["utc"]) if isinstance(preset, str) else {}
        for label in (*SESSION_NAMES, OFF_HOURS):
            given = data.get(label, {})
            if not isinstance(given, Mapping):
                continue  # let pydantic report the wrong type
            defaults: dict[str, Any] = dict(DEFAULT_PARAMETER_VALUES[label])
            if label != OFF_HOURS:
                defaults.update(hours.get(label, HOURS_PRESETS["utc"][label]))
            data[label] = {**defaults, **given}
        return data

    @field_validator("priority", mode="before")
    @classmethod
    def _check_priority(cls, value: Any) -> Any:
        normalised = check_priority(value)
        return normalised if isinstance(normalised, str) else list(normalised)

    def schedule(self) -> SessionSchedule:
        """The session windows and priority rule as a :class:`SessionSchedule`."""
        return SessionSchedule(
            windows={name: getattr(self, name).window() for name in SESSION_NAMES},
            priority=check_priority(self.priority),
        )

    def parameter_table(self) -> ParameterTable:
        """The per-session parameters (including off hours) as a :class:`ParameterTable`."""
        rows: dict[str, SessionParameters] = {
            name: getattr(self, name).parameters() for name in SESSION_NAMES
        }
        rows[OFF_HOURS] = self.off
        return ParameterTable(**rows)
