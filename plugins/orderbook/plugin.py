"""Freqtrade-facing plugin: vetoes live entries the order book cannot carry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from plugins.orderbook.gate import entry_verdict
from plugins.orderbook.settings import OrderBookSettings
from trading_agent import LIVE_RUNMODES, EntryVerdict, Plugin, hookimpl


class OrderBookPlugin(Plugin):
    """Order-book entry gate: spread, slippage of the stake, depth and staleness.

    In dry-run and live the entry is vetoed when the book is missing, cannot be priced,
    is stale, too wide, too thin or would slip too much (see
    :func:`plugins.orderbook.gate.entry_verdict`); otherwise it is allowed with the
    measured figures as the reason. In every other run mode (backtest, hyperopt,
    lookahead analysis ...) it has no opinion: there is no historical book, and Freqtrade
    would hand over today's live book, which is lookahead.
    """

    name: ClassVar[str] = "orderbook"
    Settings: ClassVar[type[BaseModel]] = OrderBookSettings

    def __init__(self, settings: BaseModel | None = None) -> None:
        super().__init__(settings)
        if not isinstance(self.settings, OrderBookSettings):
            raise ValueError(
                f"orderbook settings must be OrderBookSettings, got {type(self.settings)!r}"
            )

    @hookimpl
    def approve_entry(
        self,
        pair: str,
        side: str,
        rate: float,
        amount: float,
        current_time: datetime,
        orderbook: Mapping[str, Any] | None,
        runmode: str,
    ) -> EntryVerdict | None:
        """Veto or allow an entry in dry-run/live; ``None`` (no opinion) in other modes."""
        mode = getattr(runmode, "value", runmode)
        if mode not in LIVE_RUNMODES:
            return None
        return entry_verdict(
            orderbook,
            pair=pair,
            side=side,
            rate=rate,
            amount=amount,
            now=current_time,
            settings=self.settings,
        )
