"""Decision types: what a model may answer (per tier), and the bounded proposal we act on.

A model answer is parsed with pydantic into one of three answer models (one per tier). Missing
fields, wrong types (parsing is strict: ``"0.5"`` is not a number, ``true`` not a multiplier),
non-finite numbers or malformed JSON make the answer *invalid* (retry, then the fallback
policy). The ``reason`` is made safe to show at once (:func:`trading_agent.safe_text.clean`:
one line, no invisible characters, links neutralised, at most ``MAX_REASON_CHARS``); the raw
answer stays in the journal. Numbers that are merely out of range are *clamped* into the overseer's
authority, and every clamp is recorded. The result is a :class:`Proposal`, the only thing the
decision store accepts; rules, models and replays all produce proposals.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from plugins.llm_overseer.settings import AuthoritySettings, DecisionSettings
from trading_agent.safe_text import clean

ALL_PAIRS = "*"
MAX_REASON_CHARS = 300


class InvalidAnswer(ValueError):
    """A model answer that cannot be used (malformed JSON, missing field, wrong type)."""


class Answer(BaseModel):
    """Fields every tier's answer has."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, strict=True)

    stake_multiplier: float
    ttl_minutes: float
    reason: str

    @field_validator("reason")
    @classmethod
    def _short_reason(cls, value: str) -> str:
        return clean(value, limit=MAX_REASON_CHARS)


class MonitorAnswer(Answer):
    """Tier 1 (routine monitoring): size risk, maybe pause, maybe ask for escalation."""

    regime: Literal["calm", "normal", "volatile", "crash"]
    pause_entries: bool
    escalate: bool


class StrategicAnswer(Answer):
    """Tier 2 (strategic review): adds stop tightening and an exit request."""

    pause_entries: bool
    stop_distance: float | None
    exit_position: bool
    confidence: float


class EmergencyAnswer(Answer):
    """Tier 3 (emergency): may pause all pairs, tighten the stop and ask for an exit."""

    pause_scope: Literal["none", "pair", "all"]
    stop_distance: float | None
    exit_position: bool


ANSWER_MODELS: dict[int, type[Answer]] = {1: MonitorAnswer, 2: StrategicAnswer, 3: EmergencyAnswer}
SCHEMA_NAMES = {1: "monitor_decision", 2: "strategic_decision", 3: "emergency_decision"}


def answer_schema(tier: int, authority: AuthoritySettings, max_ttl: float) -> dict[str, Any]:
    """Return the JSON schema (strict, OpenAI ``json_schema`` style) for a tier's answer."""
    boolean = {"type": "boolean"}
    kinds: dict[str, Any] = {
        "regime": {"type": "string", "enum": ["calm", "normal", "volatile", "crash"]},
        "pause_scope": {"type": "string", "enum": ["none", "pair", "all"]},
        "stake_multiplier": {
            "type": "number",
            "minimum": authority.stake_multiplier_min,
            "maximum": authority.stake_multiplier_max,
            "description": "scale of new positions' stake (1 = unchanged, 0 = no new risk)",
        },
        "pause_entries": boolean,
        "escalate": {"type": "boolean", "description": "ask for a strategic review"},
        "stop_distance": {
            "type": ["number", "null"],
            "minimum": authority.min_stop_distance,
            "maximum": authority.max_stop_distance,
            "description": "tighter stop as a distance below the current rate (0.02 = 2 %), "
            "or null",
        },
        "exit_position": boolean,
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "ttl_minutes": {
            "type": "number",
            "minimum": 1,
            "maximum": max_ttl,
            "description": "minutes valid",
        },
        "reason": {"type": "string", "description": f"at most {MAX_REASON_CHARS} characters"},
    }
    fields = ANSWER_MODELS[tier].model_fields  # in the order of ``kinds``, the schema's order
    props = {name: kind for name, kind in kinds.items() if name in fields}
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


def parse_answer(tier: int, text: str | None) -> Answer:
    """Parse a model's text into the tier's answer model, or raise :class:`InvalidAnswer`."""
    if not text or not text.strip():
        raise InvalidAnswer("empty answer")
    body = _strip_fences(text)
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise InvalidAnswer(f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidAnswer(f"answer is a JSON {type(data).__name__}, not an object")
    try:
        return ANSWER_MODELS[tier].model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidAnswer(problems) from exc


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} is not allowed")


def _strip_fences(text: str) -> str:
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`")
        if body.lower().startswith("json"):
            body = body[4:]
    return body.strip()


@dataclass(frozen=True, slots=True)
class Clamp:
    """One value the overseer changed because it was outside its authority."""

    field: str
    proposed: Any
    applied: Any
    why: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """A bounded decision for one pair (or all pairs), ready for the decision store.

    ``stop_distance`` is a positive fraction below the current rate (``None`` = no view);
    ``stake_multiplier`` is already inside the authority bounds.
    """

    scope: str
    stake_multiplier: float
    pause_entries: bool = False
    stop_distance: float | None = None
    exit_position: bool = False
    ttl_minutes: float = 60.0
    reason: str = ""
    source: str = "rules"
    tier: int = 0
    escalate: bool = False
    clamps: tuple[Clamp, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        """Serialise (for the journal)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Proposal:
        """Rebuild a proposal written by :meth:`to_json`."""
        data = json.loads(text)
        data["clamps"] = tuple(Clamp(**c) for c in data.get("clamps", ()))
        return cls(**data)


def _clamp_number(name: str, value: float, low: float, high: float, out: list[Clamp]) -> float:
    if value < low:
        out.append(Clamp(name, value, low, f"below minimum {low}"))
        return low
    if value > high:
        out.append(Clamp(name, value, high, f"above maximum {high}"))
        return high
    return value


def bound_stop(
    value: float | None,
    authority: AuthoritySettings,
    strategy_stop_distance: float | None,
    out: list[Clamp],
) -> float | None:
    """Clamp a proposed stop distance into ``[min_stop_distance, limit]``, the limit being
    ``max_stop_distance`` or the strategy's own stop when that is tighter.

    Zero, negative or non-finite distances are dropped (no view) and recorded: a stop can only
    be tightened, never loosened or removed by a model.
    """
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        out.append(Clamp("stop_distance", value, None, "not a positive distance: ignored"))
        return None
    limit = authority.max_stop_distance
    if strategy_stop_distance is not None and strategy_stop_distance > 0:
        limit = min(limit, strategy_stop_distance)
    return _clamp_number("stop_distance", value, authority.min_stop_distance, limit, out)


def answer_to_proposals(
    answer: Answer,
    tier: int,
    pair: str,
    authority: AuthoritySettings,
    decisions: DecisionSettings,
    strategy_stop: float | None,
) -> list[Proposal]:
    """Turn a validated model answer into bounded proposals, recording every clamp.

    Tier 3 with ``pause_scope: all`` yields a second proposal for all pairs (pause only).
    """
    clamps: list[Clamp] = []
    low, high = authority.stake_multiplier_min, authority.stake_multiplier_max
    mult = _clamp_number("stake_multiplier", answer.stake_multiplier, low, high, clamps)
    ttl = _clamp_number("ttl_minutes", answer.ttl_minutes, 1.0, decisions.max_ttl_minutes, clamps)
    scope = getattr(answer, "pause_scope", None)
    pause = scope in ("pair", "all") if scope else getattr(answer, "pause_entries", False)
    pause_all = scope == "all"
    stop = bound_stop(getattr(answer, "stop_distance", None), authority, strategy_stop, clamps)
    exit_position = getattr(answer, "exit_position", False)
    if pause and not authority.allow_pause:
        clamps.append(Clamp("pause_entries", True, False, "pausing is not allowed by config"))
        pause = pause_all = False
    if exit_position and not authority.allow_exit:
        clamps.append(Clamp("exit_position", True, False, "exit requests not allowed by config"))
        exit_position = False
    common = {"ttl_minutes": ttl, "reason": answer.reason, "source": "llm", "tier": tier}
    main = Proposal(
        pair,
        mult,
        pause,
        stop,
        exit_position,
        escalate=getattr(answer, "escalate", False),
        clamps=tuple(clamps),
        **common,
    )
    if pause_all:
        return [main, Proposal(ALL_PAIRS, high, pause_entries=True, **common)]
    return [main]


def bound_proposal(
    proposal: Proposal, authority: AuthoritySettings, strategy_stop_distance: float | None
) -> Proposal:
    """Re-check a proposal from any source (rules, replay) against the authority bounds."""
    clamps: list[Clamp] = list(proposal.clamps)
    low, high = authority.stake_multiplier_min, authority.stake_multiplier_max
    mult = proposal.stake_multiplier
    if not math.isfinite(mult):
        clamps.append(Clamp("stake_multiplier", mult, low, "non-finite"))
        mult = low
    mult = _clamp_number("stake_multiplier", mult, low, high, clamps)
    stop = bound_stop(proposal.stop_distance, authority, strategy_stop_distance, clamps)
    ttl = max(proposal.ttl_minutes if math.isfinite(proposal.ttl_minutes) else 1.0, 1.0)
    return replace(
        proposal,
        stake_multiplier=mult,
        pause_entries=proposal.pause_entries and authority.allow_pause,
        stop_distance=stop,
        exit_position=proposal.exit_position and authority.allow_exit,
        ttl_minutes=ttl,
        clamps=tuple(clamps),
    )
