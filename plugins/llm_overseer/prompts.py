"""Compact, versioned prompts built from the context (optionally anonymised).

The user message is one line of compact JSON. No prompt carries a date, a clock time or a
price level (models memorise price history), and numbers are rounded (returns to 0.1 %) so
that an unchanged market gives a byte-identical prompt, which the TTL cache relies on. The
anonymised form also drops asset names (``asset_1``...) and the session, and divides
price-unit indicators (ATR, MACD) by the close.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from plugins.llm_overseer.decisions import MAX_REASON_CHARS
from plugins.llm_overseer.market import PairFeatures
from plugins.llm_overseer.portfolio import PortfolioState
from plugins.llm_overseer.settings import AuthoritySettings

PROMPT_VERSION = "ovs-2026.11-1"

_TIER_TASK = {
    1: "Routine check. Size new-entry risk for this pair; pause entries only if conditions are "
    "clearly hostile; set escalate=true if a strategic review is needed.",
    2: "Strategic review triggered by: {reasons}. Decide stake multiplier, entry pause, an "
    "optional tighter stop distance, and whether the open position should be exited.",
    3: "EMERGENCY triggered by: {reasons}. Protect capital: decide the pause scope, a tighter "
    "stop distance, and whether to exit the open position.",
}

#: Indicators expressed in price units: divided by the close in the anonymised form.
_PRICE_UNIT_INDICATORS = {"atr", "macd", "macdsignal", "macdhist"}


@dataclass(frozen=True, slots=True)
class Prompt:
    """The messages of one call, with their version and hash."""

    messages: tuple[dict[str, str], ...]
    version: str
    digest: str


def system_prompt(authority: AuthoritySettings) -> str:
    """The fixed system message: role, authority, output rules."""
    return (
        "You oversee an automated spot crypto trading bot. You can only reduce risk: scale "
        f"new stakes by a multiplier in [{authority.stake_multiplier_min}, "
        f"{authority.stake_multiplier_max}], pause new entries, tighten stop-losses (stop "
        f"distance in [{authority.min_stop_distance}, {authority.max_stop_distance}] below the "
        "current rate), or ask for an exit. You cannot raise risk, loosen stops or block exits. "
        "Every decision expires after ttl_minutes. Be conservative but do not pause without "
        "reason. Answer with one JSON object matching the schema, no prose, reason at most "
        f"{MAX_REASON_CHARS} characters."
    )


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def features_payload(f: PairFeatures, anonymise: bool, alias: str) -> dict[str, Any]:
    """The per-pair part of the context as a small dict."""
    out: dict[str, Any] = {
        "pair": alias if anonymise else f.pair,
        "ret_1": _r(f.ret_1, 3),
        "ret_1h": _r(f.ret_short, 3),
        "ret_6h": _r(f.ret_long, 3),
        "flash_ret": _r(f.flash_return, 3),
        "vol_ratio": _r(f.vol_ratio, 1),
        "vol_regime": f.vol_regime,
        "trend": f.trend,
        "ema_gap": _r(f.ema_gap, 3),
        "range_pos": _r(f.range_position, 1),
        "from_high": _r(f.drawdown_from_high, 3),
    }
    if not anonymise and f.session is not None:
        out["session"] = f.session
    ind = {}
    for k, v in sorted(f.indicators.items()):
        if anonymise and k in _PRICE_UNIT_INDICATORS and f.close > 0:
            ind[k] = _r(v / f.close, 5)
        else:
            ind[k] = _r(v, 3)
    if ind:
        out["ind"] = ind
    if f.patterns:
        out["patterns"] = (
            {f"p{i}": d for i, (_, d) in enumerate(sorted(f.patterns.items()))}
            if anonymise
            else dict(sorted(f.patterns.items()))
        )
    return out


def portfolio_payload(
    p: PortfolioState, pair: str, anonymise: bool, aliases: dict[str, str]
) -> dict[str, Any]:
    """The portfolio part of the context as a small dict."""

    def name(x: str) -> str:
        return aliases.get(x, "other") if anonymise else x

    return {
        "open": [
            {
                "pair": name(o.pair),
                "side": o.side,
                "upnl": _r(o.unrealised),
                "age_min": int(o.age_minutes // 5 * 5),
                "stake_share": _r(o.stake / p.capital, 3) if p.capital else None,
            }
            for o in p.open_positions
            if o.pair == pair or not anonymise
        ],
        "recent": [
            {"pair": name(c.pair), "ret": _r(c.profit_ratio), "exit": c.exit_reason}
            for c in p.recent_closed
        ],
        "pnl_ratio": _r(p.realised_pnl / p.capital) if p.capital else 0.0,
        "drawdown": _r(p.drawdown),
        "losing_streak": p.losing_streak,
    }


def build_prompt(
    tier: int,
    features: PairFeatures,
    portfolio: PortfolioState,
    active: dict[str, Any],
    authority: AuthoritySettings,
    *,
    reasons: tuple[str, ...] = (),
    anonymise: bool = False,
    aliases: dict[str, str] | None = None,
) -> Prompt:
    """Build the messages for one tier-``tier`` call about ``features.pair``."""
    aliases = aliases or {}
    alias = aliases.get(features.pair, "asset_1")
    safe_reasons = [r for r in reasons if not anonymise or features.pair not in r]
    context = {
        "v": PROMPT_VERSION,
        "task": _TIER_TASK[tier].format(reasons=", ".join(safe_reasons) or "none"),
        "market": features_payload(features, anonymise, alias),
        "portfolio": portfolio_payload(portfolio, features.pair, anonymise, aliases),
        "active_risk": active,
    }
    user = json.dumps(context, separators=(",", ":"), sort_keys=False)
    system = system_prompt(authority)
    digest = hashlib.sha256(f"{PROMPT_VERSION}\n{system}\n{user}".encode()).hexdigest()[:16]
    return Prompt(
        messages=({"role": "system", "content": system}, {"role": "user", "content": user}),
        version=PROMPT_VERSION,
        digest=digest,
    )


def estimate_tokens(chars: int) -> int:
    """Rough token count: about 4 characters per token (used before a call, for the budget)."""
    return max(1, (chars + 3) // 4)
