"""What the hooks carry: a plugin's answers and the plain view of a trade it is shown.

Plain frozen dataclasses, independent of Freqtrade, so plugins can be written and tested
without a bot. The candles a hook is shown are :class:`trading_agent.candles.AnalyzedCandles`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

#: The callable handed to plugins in ``bot_start`` for user-facing notifications:
#: ``notify(message, key=...)``. The strategy makes the text safe, rate-limits it per ``key``
#: and forwards it to ``dp.send_msg`` (Telegram, FreqUI, webhooks).
Notifier = Callable[..., None]


@dataclass(frozen=True, slots=True)
class EntryVerdict:
    """One plugin's answer to "may this entry go ahead?"."""

    allow: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RiskAdvice:
    """One plugin's view of how much risk a new or open position may carry.

    ``stake_multiplier`` scales what the strategy asks for (1.0 = unchanged, 0.0 = no new
    risk). ``stoploss`` is a Freqtrade-style stop distance relative to the current rate (a
    negative ratio such as ``-0.02``), or ``None`` for no view.
    """

    stake_multiplier: float = 1.0
    stoploss: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TradeSnapshot:
    """A plain, Freqtrade-independent view of one trade, handed to plugins."""

    trade_id: int
    pair: str
    is_short: bool
    is_open: bool
    open_date: datetime
    open_rate: float
    amount: float
    stake_amount: float
    close_date: datetime | None = None
    close_rate: float | None = None
    profit_ratio: float | None = None
    profit_abs: float | None = None
    enter_tag: str | None = None
    exit_reason: str | None = None
