"""When is a decision due, and at which tier? (Escalation triggers and schedules.)

Tier 3 (emergency): portfolio drawdown at or beyond ``drawdown_tier3``, or a flash crash.
Tier 2 (strategic): drawdown at or beyond ``drawdown_tier2``, a volatility regime change, a
confirmed pattern against an open position, a losing streak, a large position, or tier 1
asking for escalation. Tier 1 (routine): every ``tier1.interval_minutes`` per pair.
Each tier has its own per-pair cooldown (its ``interval_minutes``); a trigger that arrives
during a cooldown stays pending until the tier may run again. All times are the bot's
``current_time`` (candle time in backtests), never the wall clock.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from plugins.llm_overseer.market import CandleInputs
from plugins.llm_overseer.portfolio import PortfolioState
from plugins.llm_overseer.rules import is_flash_crash, pattern_against_position
from plugins.llm_overseer.settings import Settings


@dataclass(frozen=True, slots=True)
class DueCall:
    """A decision that is due: for which pair, at which tier, and why."""

    pair: str
    tier: int
    reasons: tuple[str, ...]


@dataclass
class _PairSchedule:
    last_call: dict[int, datetime] = field(default_factory=dict)
    last_regime: str | None = None
    pending: dict[int, list[str]] = field(default_factory=lambda: {2: [], 3: []})


class Scheduler:
    """Per-pair schedule and escalation state (pure logic, no I/O)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pairs: defaultdict[str, _PairSchedule] = defaultdict(_PairSchedule)
        tiers = settings.tiers
        #: Per-tier cooldown (the tier's ``interval_minutes``), computed once.
        self._interval = {
            n: timedelta(minutes=tiers.by_number(n).interval_minutes) for n in (1, 2, 3)
        }

    def request_escalation(self, pair: str, reason: str) -> None:
        """Ask for a tier-2 review of ``pair`` at the next opportunity (e.g. tier 1 asked)."""
        self._pairs[pair].pending[2].append(reason)

    def triggers(self, features: CandleInputs, portfolio: PortfolioState) -> dict[int, list[str]]:
        """Which escalation conditions hold now (tier -> reasons); updates the regime memory."""
        esc = self.settings.escalation
        sched = self._pairs[features.pair]
        out: dict[int, list[str]] = {2: [], 3: []}
        if portfolio.drawdown >= esc.drawdown_tier3:
            out[3].append(f"drawdown {portfolio.drawdown:.1%} >= {esc.drawdown_tier3:.1%}")
        if is_flash_crash(features, self.settings):
            out[3].append(f"flash crash {features.flash_return:.1%}")
        if portfolio.drawdown >= esc.drawdown_tier2:
            out[2].append(f"drawdown {portfolio.drawdown:.1%} >= {esc.drawdown_tier2:.1%}")
        if (
            esc.on_vol_regime_change
            and sched.last_regime is not None
            and (sched.last_regime == "high") != (features.vol_regime == "high")
        ):
            out[2].append(f"volatility regime {sched.last_regime} -> {features.vol_regime}")
        sched.last_regime = features.vol_regime
        if esc.on_pattern_against_position and pattern_against_position(features, portfolio):
            out[2].append("confirmed pattern against open position")
        if portfolio.losing_streak >= esc.losing_streak:
            out[2].append(f"losing streak {portfolio.losing_streak}")
        if esc.large_position_quote is not None:
            stake = sum(p.stake for p in portfolio.open_positions if p.pair == features.pair)
            if stake >= esc.large_position_quote:
                out[2].append(f"large position {stake:.2f}")
        return out

    def due(
        self, features: CandleInputs, portfolio: PortfolioState, now: datetime
    ) -> DueCall | None:
        """The highest tier due for the pair now, or ``None``; marks it as called."""
        sched = self._pairs[features.pair]
        found = self.triggers(features, portfolio)
        # Event-like triggers wait in ``pending`` through a cooldown; state-like ones recur.
        for tier in (3, 2):
            pending = sched.pending[tier]
            pending.extend(r for r in found[tier] if r not in pending)
            if pending and self._cooled(sched, tier, now):
                reasons = tuple(pending)
                sched.pending[tier] = []
                if tier == 3:
                    sched.pending[2] = []
                self._mark(sched, tier, now)
                return DueCall(features.pair, tier, reasons)
        if self._cooled(sched, 1, now):
            self._mark(sched, 1, now)
            return DueCall(features.pair, 1, ("schedule",))
        return None

    def _cooled(self, sched: _PairSchedule, tier: int, now: datetime) -> bool:
        last = sched.last_call.get(tier)
        return last is None or now - last >= self._interval[tier]

    @staticmethod
    def _mark(sched: _PairSchedule, tier: int, now: datetime) -> None:
        sched.last_call[tier] = now
        # A higher-tier review also counts as this round's routine monitoring.
        if tier > 1:
            sched.last_call[1] = now
