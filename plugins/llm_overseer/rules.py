"""The deterministic rule-based policy: the same interface as the models, no randomness.

Used whenever no model is consulted: mode ``rules`` (the default, and every backtest), when the
API key is missing, when the daily budget is spent, and as the fallback after a failed call.
It depends only on the features and the portfolio state at ``current_time``.

The rules (each documented in ``docs/overseer.md``):

1. Start from the authority's maximum stake multiplier.
2. High volatility regime: multiply by ``high_vol_multiplier``.
3. Portfolio drawdown at or beyond ``drawdown_tier2``: multiply by ``drawdown_multiplier``.
4. Losing streak at or beyond ``losing_streak``: multiply by ``losing_streak_multiplier``.
5. A confirmed pattern against an open position: tighten the stop to twice
   ``emergency_stop_distance``.
6. Flash crash (return over the flash window at or below ``-flash_crash_return``): pause the
   pair, tighten the stop to ``emergency_stop_distance`` and, if ``exit_on_flash_crash``, ask
   for the pair's open longs to be exited.
7. Drawdown at or beyond ``drawdown_tier3``: pause all pairs and tighten the stop to
   ``emergency_stop_distance``.
"""

from __future__ import annotations

from plugins.llm_overseer.decisions import ALL_PAIRS, Proposal
from plugins.llm_overseer.market import CandleInputs
from plugins.llm_overseer.portfolio import PortfolioState
from plugins.llm_overseer.settings import Settings


def pattern_against_position(features: CandleInputs, portfolio: PortfolioState) -> bool:
    """True when a confirmed pattern on the pair points against an open position of it."""
    sides = {p.side for p in portfolio.open_positions if p.pair == features.pair}
    if not sides:  # no position: the patterns need not even be read
        return False
    directions = set(features.patterns.values())
    return ("long" in sides and -1 in directions) or ("short" in sides and 1 in directions)


def is_flash_crash(features: CandleInputs, settings: Settings) -> bool:
    """True when the pair fell at least ``flash_crash_return`` over the flash window."""
    return features.flash_return <= -settings.escalation.flash_crash_return


def rules_proposals(
    features: CandleInputs, portfolio: PortfolioState, settings: Settings, source: str = "rules"
) -> list[Proposal]:
    """The rule-based decision for one pair (plus an all-pairs pause in a severe drawdown)."""
    esc, rules, auth = settings.escalation, settings.rules, settings.authority
    mult = auth.stake_multiplier_max
    reasons: list[str] = []
    if features.vol_regime == "high":
        mult *= rules.high_vol_multiplier
        reasons.append(f"high volatility (x{features.vol_ratio:.2f})")
    if portfolio.drawdown >= esc.drawdown_tier2:
        mult *= rules.drawdown_multiplier
        reasons.append(f"drawdown {portfolio.drawdown:.1%}")
    if portfolio.losing_streak >= esc.losing_streak:
        mult *= rules.losing_streak_multiplier
        reasons.append(f"losing streak {portfolio.losing_streak}")
    stop: float | None = None
    pause = False
    exit_position = False
    if pattern_against_position(features, portfolio):
        stop = 2 * rules.emergency_stop_distance
        reasons.append("pattern against open position")
    if is_flash_crash(features, settings):
        pause = True
        stop = rules.emergency_stop_distance
        exit_position = rules.exit_on_flash_crash and any(
            p.pair == features.pair and p.side == "long" for p in portfolio.open_positions
        )
        reasons.append(f"flash crash {features.flash_return:.1%}")
    severe = portfolio.drawdown >= esc.drawdown_tier3
    if severe:
        stop = rules.emergency_stop_distance
        reasons.append("severe drawdown")
    mult = min(max(mult, auth.stake_multiplier_min), auth.stake_multiplier_max)
    if stop is not None:
        stop = min(max(stop, auth.min_stop_distance), auth.max_stop_distance)
    ttl = settings.decisions.default_ttl_minutes
    reason = "; ".join(reasons) or "normal conditions"
    out = [
        Proposal(
            scope=features.pair,
            stake_multiplier=mult,
            pause_entries=pause and auth.allow_pause,
            stop_distance=stop,
            exit_position=exit_position and auth.allow_exit,
            ttl_minutes=ttl,
            reason=reason,
            source=source,
        )
    ]
    if severe and auth.allow_pause:
        out.append(
            Proposal(
                scope=ALL_PAIRS,
                stake_multiplier=auth.stake_multiplier_max,
                pause_entries=True,
                ttl_minutes=ttl,
                reason=f"severe drawdown {portfolio.drawdown:.1%}",
                source=source,
            )
        )
    return out
