"""The ``llm_overseer`` plugin: thin Freqtrade hooks over the ``Overseer``.

Nothing is built in ``__init__`` (hyperopt pickles strategies): the overseer, its journal,
ledger, client and worker thread are created in ``bot_start``. Every advice hook only reads the
latest decision; none waits on a model.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from pandas import DataFrame

from plugins.llm_overseer.features import market_columns
from plugins.llm_overseer.overseer import Overseer
from plugins.llm_overseer.settings import Settings
from trading_agent import (
    AnalyzedCandles,
    EntryVerdict,
    Notifier,
    Plugin,
    RiskAdvice,
    TradeSnapshot,
    hookimpl,
)

logger = logging.getLogger(__name__)


class OverseerPlugin(Plugin):
    """Tiered, budgeted, non-blocking, bounded LLM overseer (rules policy by default)."""

    name: ClassVar[str] = "llm_overseer"
    Settings: ClassVar[type[Settings]] = Settings
    overseer: Overseer | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Hyperopt pickles strategies: never carry threads, sockets or SQLite handles.
        return {**self.__dict__, "overseer": None}

    @property
    def mode(self) -> str:
        """The mode in force: the settings' until the overseer starts, then its own (``llm``
        becomes ``rules`` without an API key or outside dry-run and live)."""
        return self.overseer.mode if self.overseer is not None else self.settings.mode

    @hookimpl
    def bot_start(self, config: Mapping[str, Any], runmode: str, notify: Notifier) -> None:
        """Build the overseer for this process (mode, journal, ledger, client, worker)."""
        if self.overseer is not None:
            self.overseer.stop()
        self.overseer = Overseer(self.settings, config=config, runmode=runmode, notify=notify)
        logger.info(
            "llm_overseer: mode %s%s (runmode %s)",
            self.overseer.mode,
            " [shadow]" if self.overseer.shadow else "",
            runmode,
        )

    @hookimpl
    def add_indicators(
        self, dataframe: DataFrame, pair: str, timeframe: str, runmode: str
    ) -> DataFrame | None:
        """The overseer's market features as columns (:mod:`plugins.llm_overseer.columns`).

        The same vectorised, causal computation in every run mode; none when the overseer
        looks at no candles (``off``, ``replay``).
        """
        if self.settings.mode in ("off", "replay"):
            return None
        esc = self.settings.escalation
        return market_columns(dataframe, self.settings.context_candles, esc.flash_window_candles)

    @hookimpl
    def bot_loop(
        self,
        current_time: datetime,
        analyzed: Mapping[str, AnalyzedCandles],
        open_trades: Sequence[TradeSnapshot],
    ) -> None:
        """Read each pair's latest closed candle and start what is due (returns at once)."""
        if self.overseer is not None:
            self.overseer.on_loop(current_time, analyzed, open_trades)

    @hookimpl
    def approve_entry(self, pair: str, current_time: datetime) -> EntryVerdict | None:
        """Veto entries while they are paused for ``pair`` or for all pairs."""
        if self.overseer is None:
            return None
        return self.overseer.entry_verdict(pair, current_time)

    @hookimpl
    def risk_advice(self, pair: str, current_time: datetime) -> RiskAdvice | None:
        """Stake multiplier and tightened stop from the latest unexpired decision."""
        if self.overseer is None:
            return None
        return self.overseer.risk(pair, current_time)

    @hookimpl
    def exit_advice(
        self, trade: TradeSnapshot, current_time: datetime, current_profit: float
    ) -> str | None:
        """Exit reason when the overseer asked to exit the trade's pair."""
        if self.overseer is None:
            return None
        return self.overseer.exit_reason(trade, current_time, current_profit)

    @hookimpl
    def trade_filled(self, trade: TradeSnapshot, order_side: str, current_time: datetime) -> None:
        """Shadow mode: record the advice in force at the entry fill."""
        if self.overseer is not None:
            self.overseer.on_filled(trade, order_side, current_time)

    @hookimpl
    def trade_closed(self, trade: TradeSnapshot, current_time: datetime) -> None:
        """Feed results into the portfolio state (losing streak, PnL, drawdown) and the journal."""
        if self.overseer is not None:
            self.overseer.on_closed(trade)

    @hookimpl
    def bot_stop(self) -> None:
        """Stop the worker and flush the journal."""
        if self.overseer is not None:
            self.overseer.stop()
            self.overseer = None
