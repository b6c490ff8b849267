"""The kit for strategies that hold a target share of account equity in each pair.

A strategy built on :class:`AllocationStrategy` computes, per candle, the column
``target_weight`` (share of account equity to hold in the pair, known at the candle's
close); the kit follows it: ``custom_stake_amount`` sizes the first entry, and
``adjust_trade_position`` (Freqtrade's position adjustment) buys towards the target or sells
down to it, within a rebalancing band and the config's hard caps
(:mod:`trading_agent.strategy.allocation`). Plugins only ever lower the target: the
combined ``risk_advice`` multiplier (the overseer's, ...) scales it for increases and
decreases alike; the session's position-size factor (at most 1) scales additions only, so
a quiet session delays buying but never forces a sale. Additions pass the same entry gate
as new entries (plugin vetoes, the live order book, the daily loss limit), which Freqtrade
does not call for position adjustments.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

from freqtrade.persistence import Trade

from trading_agent.strategy.allocation import Caps, entry_stake, rebalance_order
from trading_agent.strategy.base import AgentStrategy, finite_or

logger = logging.getLogger(__name__)

#: The column a strategy on this kit must provide.
TARGET_COLUMN = "target_weight"
#: Tag of the orders the rebalancing makes.
REBALANCE_TAG = "rebalance"


class AllocationStrategy(AgentStrategy):
    """Holds the ``target_weight`` share of account equity in each pair, long only."""

    position_adjustment_enable = True
    max_entry_position_adjustment = -1
    #: Relative band around the target inside which a position is left alone.
    rebalance_band: ClassVar[float] = 0.25
    #: Smallest rebalancing order as a share of equity (besides the exchange's minimum): a
    #: target that moves a little every candle must not become a stream of small orders.
    min_trade_share: ClassVar[float] = 0.0
    narration_target: ClassVar[str | None] = TARGET_COLUMN

    def rebalancing_band(self) -> float:
        """The rebalancing band in use (a strategy may make it a hyperoptable parameter)."""
        return float(self.rebalance_band)

    @property
    def caps(self) -> Caps:
        """The config's hard caps, as shares of account equity."""
        limits = self.risk_limits
        return Caps(limits.max_position_ratio, limits.max_total_exposure_ratio)

    def targets(
        self, pair: str, current_time: datetime, equity: float, trade: Trade | None
    ) -> tuple[float, float, str]:
        """(target value, target for additions, why lower) of ``pair`` in the stake currency.

        The candle's ``target_weight`` times equity, times the plugins' combined multiplier;
        additions also times the session's position-size factor (capped at 1).
        """
        candle = self.last_candle(pair, current_time)
        weight = max(0.0, finite_or(candle.get(TARGET_COLUMN), default=0.0))
        risk = self.candle_risk_advice(pair, candle, current_time, trade)
        multiplier = max(0.0, min(1.0, risk.stake_multiplier))
        session = max(0.0, min(1.0, finite_or(candle.get("session_position_size_factor"), 1.0)))
        target = weight * multiplier * equity
        why = "; ".join(f"{name}: {reason}" for name, reason in risk.reasons)
        return target, target * session, why

    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        """The first stake: the pair's target for additions within the caps (0: no entry)."""
        try:
            equity, values = self.account_equity(current_time, {pair: current_rate})
            _, add_target, _ = self.targets(pair, current_time, equity, None)
            return entry_stake(
                add_target, equity, sum(values.values()), self.caps, min_stake, max_stake
            )
        except Exception:
            logger.exception("stake sizing for %s failed; no entry", pair)
            return 0.0

    def adjust_trade_position(
        self,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        current_entry_rate: float,
        current_exit_rate: float,
        current_entry_profit: float,
        current_exit_profit: float,
        **kwargs: Any,
    ) -> tuple[float, str] | None:
        """Buy towards or sell down to the target, outside the band; ``None`` to hold.

        Fails safe: an error holds the position (never buys); a sale is never vetoed.
        """
        try:
            pair = trade.pair
            equity, values = self.account_equity(current_time, {pair: current_rate})
            target, add_target, why = self.targets(pair, current_time, equity, trade)
            smallest = max(min_stake or 0.0, self.min_trade_share * equity)
            order = rebalance_order(
                values.get(pair, 0.0),
                target,
                add_target,
                self.rebalancing_band(),
                equity,
                sum(values.values()),
                self.caps,
                smallest,
                max_stake,
            )
        except Exception:
            logger.exception("rebalancing %s failed; position held", trade.pair)
            return None
        if order > 0 and not self.entry_allowed(
            pair, "long", current_entry_rate, order / current_entry_rate, current_time
        ):
            return None
        if order < 0 and why:
            logger.info("%s: position cut to target (%s)", pair, why)
        return (order, REBALANCE_TAG) if order else None
