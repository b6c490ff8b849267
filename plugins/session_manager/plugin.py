"""Freqtrade-facing plugin: adds the session columns to every analysed candle frame."""

from __future__ import annotations

from typing import ClassVar

from pandas import DataFrame
from pydantic import BaseModel

from plugins.session_manager.columns import session_columns
from plugins.session_manager.settings import SessionSettings
from trading_agent import Plugin, hookimpl


class SessionPlugin(Plugin):
    """Trading sessions (Asia, Europe, US, off hours) and their per-session parameters.

    Adds the columns of :func:`plugins.session_manager.columns.session_columns`, classified
    from each candle's own ``date`` (its open time, UTC), never from the wall clock. The
    session's ``session_position_size_factor`` is a column for the strategy to multiply in:
    this plugin deliberately does not implement ``risk_advice``, whose min-combining rule
    would cap factors above 1.0.
    """

    name: ClassVar[str] = "session_manager"
    Settings: ClassVar[type[BaseModel]] = SessionSettings

    def __init__(self, settings: BaseModel | None = None) -> None:
        super().__init__(settings)
        if not isinstance(self.settings, SessionSettings):
            raise ValueError(
                f"session_manager settings must be SessionSettings, got {type(self.settings)!r}"
            )
        self.schedule = self.settings.schedule()
        self.parameters = self.settings.parameter_table()

    @hookimpl
    def add_indicators(
        self, dataframe: DataFrame, pair: str, timeframe: str, runmode: str
    ) -> DataFrame:
        """Return the session columns for ``dataframe`` (same index, new columns only)."""
        if "date" not in dataframe.columns:
            raise ValueError(f"{pair} {timeframe}: candle frame has no 'date' column")
        return session_columns(
            dataframe["date"], self.schedule, self.parameters, index=dataframe.index
        )
