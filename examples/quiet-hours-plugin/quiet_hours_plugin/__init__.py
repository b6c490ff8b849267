"""Example third-party Trading-Agent plugin: veto new entries during quiet UTC hours.

Thin markets make for wide spreads and poor fills; this plugin refuses entries whose
candle time falls in a configured window of UTC hours and scales stakes down in the
hour either side of it. It shows the three parts every plugin has: a name, a settings
model that rejects unknown keys and bad values, and hook implementations.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trading_agent import EntryVerdict, Plugin, RiskAdvice, hookimpl


class QuietHoursSettings(BaseModel):
    """Settings of the ``quiet_hours`` block in ``trading_agent.plugins``."""

    model_config = ConfigDict(extra="forbid")

    start_hour: int = Field(default=22, ge=0, le=23, description="first quiet UTC hour")
    end_hour: int = Field(default=1, ge=0, le=23, description="first UTC hour after the window")
    edge_multiplier: float = Field(
        default=0.5, ge=0, le=1, description="stake multiplier in the hour either side"
    )

    @model_validator(mode="after")
    def _non_empty(self) -> QuietHoursSettings:
        if self.start_hour == self.end_hour:
            raise ValueError(f"start_hour and end_hour are both {self.start_hour}: empty window")
        return self


def in_window(hour: int, start: int, end: int) -> bool:
    """True when ``hour`` lies in [start, end), wrapping past midnight when end < start."""
    return start <= hour < end if start < end else hour >= start or hour < end


class QuietHoursPlugin(Plugin):
    """No new entries during quiet hours; smaller stakes next to them."""

    name = "quiet_hours"
    Settings = QuietHoursSettings

    @hookimpl
    def approve_entry(self, pair: str, current_time: datetime) -> EntryVerdict | None:
        """Veto entries inside the quiet window; no opinion otherwise."""
        s = self.settings
        if in_window(current_time.hour, s.start_hour, s.end_hour):
            window = f"{s.start_hour:02d}-{s.end_hour:02d} UTC"
            return EntryVerdict(False, f"{pair}: quiet hours {window}")
        return None

    @hookimpl
    def risk_advice(self, current_time: datetime) -> RiskAdvice | None:
        """Scale stakes down in the hour before and after the quiet window."""
        s = self.settings
        edge = in_window(current_time.hour, (s.start_hour - 1) % 24, s.start_hour) or in_window(
            current_time.hour, s.end_hour, (s.end_hour + 1) % 24
        )
        if edge:
            return RiskAdvice(stake_multiplier=s.edge_multiplier, reason="next to quiet hours")
        return None
