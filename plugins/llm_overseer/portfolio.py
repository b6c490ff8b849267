"""Portfolio state as the overseer sees it: open positions, recent results, PnL and drawdown.

Fed by the bot: closed trades through ``trade_closed`` (losing streak, realised PnL, equity
peak) and the open trades handed to every ``bot_loop`` (valued at each pair's last close).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from trading_agent import TradeSnapshot

if TYPE_CHECKING:  # the market module reads rows; this one only needs their closes
    from plugins.llm_overseer.market import CandleInputs


@dataclass(frozen=True, slots=True)
class OpenPosition:
    """An open trade as the overseer sees it."""

    pair: str
    side: str
    stake: float
    unrealised: float
    age_minutes: float


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A closed trade as the overseer remembers it."""

    pair: str
    profit_ratio: float
    profit_abs: float
    exit_reason: str
    close_date: datetime


@dataclass(frozen=True, slots=True)
class PortfolioState:
    """Positions, recent results, PnL and drawdown at one time."""

    open_positions: tuple[OpenPosition, ...]
    recent_closed: tuple[ClosedTrade, ...]
    realised_pnl: float
    unrealised_pnl: float
    drawdown: float
    losing_streak: int
    capital: float


class TradeHistory:
    """Closed trades fed by ``trade_closed``; equity peak for the drawdown."""

    def __init__(self, capital: float, keep: int = 50) -> None:
        if not capital > 0:
            raise ValueError(f"capital must be > 0, got {capital!r}")
        self.capital = capital
        self._closed: deque[ClosedTrade] = deque(maxlen=keep)
        self._seen: set[int] = set()
        self.realised = 0.0
        self.peak_equity = 0.0
        self.losing_streak = 0

    def add_closed(self, trade: TradeSnapshot) -> None:
        """Remember one closed trade (each trade id once)."""
        if trade.trade_id in self._seen:
            return
        self._seen.add(trade.trade_id)
        profit_abs = float(trade.profit_abs or 0.0)
        profit_ratio = float(trade.profit_ratio or 0.0)
        self._closed.append(
            ClosedTrade(
                pair=trade.pair,
                profit_ratio=profit_ratio,
                profit_abs=profit_abs,
                exit_reason=trade.exit_reason or "",
                close_date=trade.close_date or trade.open_date,
            )
        )
        self.realised += profit_abs
        self.peak_equity = max(self.peak_equity, self.realised)
        self.losing_streak = self.losing_streak + 1 if profit_abs < 0 else 0

    def state(
        self,
        now: datetime,
        open_trades: Sequence[TradeSnapshot],
        prices: Mapping[str, CandleInputs],
    ) -> PortfolioState:
        """Portfolio state at ``now`` (unrealised PnL from each pair's last close)."""
        positions = []
        unrealised = 0.0
        for t in open_trades:
            f = prices.get(t.pair)
            ratio = 0.0
            if f is not None and t.open_rate > 0:
                ratio = f.close / t.open_rate - 1.0
                if t.is_short:
                    ratio = -ratio
            unrealised += ratio * t.stake_amount
            age = (now - t.open_date).total_seconds() / 60.0 if t.open_date else 0.0
            positions.append(
                OpenPosition(
                    pair=t.pair,
                    side="short" if t.is_short else "long",
                    stake=float(t.stake_amount),
                    unrealised=float(ratio),
                    age_minutes=float(max(age, 0.0)),
                )
            )
        equity = self.realised + unrealised
        peak = max(self.peak_equity, equity)
        drawdown = (peak - equity) / self.capital if self.capital > 0 else 0.0
        return PortfolioState(
            open_positions=tuple(positions),
            recent_closed=tuple(list(self._closed)[-5:]),
            realised_pnl=self.realised,
            unrealised_pnl=unrealised,
            drawdown=max(drawdown, 0.0),
            losing_streak=self.losing_streak,
            capital=self.capital,
        )
