"""The decision journal: every call and every decision, durably, in SQLite.

Tables (columns in ``_SCHEMA``):

- ``calls``: one row per attempt (or cache hit, or budget refusal);
- ``decisions``: one row per proposal given to the decision store (source ``llm``, ``cache``,
  ``rules`` or ``fallback``; the bounded proposal as JSON; what hysteresis held back; whether
  it was a shadow decision, recorded but not applied);
- ``trades``: closed trades (for the shadow report).
- ``shadow_entries`` / ``shadow_exits``: what the overseer would have done to each trade in
  shadow mode (its advice at the entry fill; the first time it would have exited it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

from plugins.llm_overseer.db import Database
from plugins.llm_overseer.decisions import Proposal
from plugins.llm_overseer.store import ApplyOutcome, Effective
from trading_agent import TradeSnapshot

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, wall_ts TEXT NOT NULL, bot_ts TEXT NOT NULL,
    pair TEXT NOT NULL, tier INTEGER NOT NULL, model TEXT NOT NULL,
    prompt_version TEXT NOT NULL, prompt_hash TEXT NOT NULL, attempt INTEGER NOT NULL,
    outcome TEXT NOT NULL, error TEXT, prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL NOT NULL DEFAULT 0,
    latency_s REAL, response_format TEXT, raw_answer TEXT, triggers TEXT
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, call_id INTEGER, ts TEXT NOT NULL,
    scope TEXT NOT NULL, tier INTEGER NOT NULL, source TEXT NOT NULL, proposal TEXT NOT NULL,
    clamps TEXT NOT NULL, applied INTEGER NOT NULL, changed TEXT NOT NULL, held TEXT NOT NULL,
    expires_at TEXT NOT NULL, shadow INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS decisions_ts ON decisions(ts);
CREATE TABLE IF NOT EXISTS trades (
    trade_id INTEGER PRIMARY KEY, pair TEXT NOT NULL, is_short INTEGER NOT NULL,
    open_date TEXT NOT NULL, close_date TEXT, stake_amount REAL NOT NULL, profit_abs REAL,
    profit_ratio REAL, exit_reason TEXT
);
CREATE TABLE IF NOT EXISTS shadow_entries (
    trade_id INTEGER PRIMARY KEY, pair TEXT NOT NULL, ts TEXT NOT NULL, paused INTEGER NOT NULL,
    stake_multiplier REAL NOT NULL, stop_distance REAL
);
CREATE TABLE IF NOT EXISTS shadow_exits (
    trade_id INTEGER PRIMARY KEY, ts TEXT NOT NULL, reason TEXT NOT NULL,
    profit_ratio REAL NOT NULL
);
"""

#: The columns of a closed trade, read from its snapshot.
_TRADE_COLUMNS = (
    "trade_id",
    "pair",
    "is_short",
    "open_date",
    "close_date",
    "stake_amount",
    "profit_abs",
    "profit_ratio",
    "exit_reason",
)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One attempt at a model call (or a cache hit / budget refusal) for the journal."""

    wall_ts: datetime
    bot_ts: datetime
    pair: str
    tier: int
    model: str
    prompt_version: str
    prompt_hash: str
    attempt: int
    outcome: str
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float | None = None
    response_format: str | None = None
    raw_answer: str | None = None
    triggers: tuple[str, ...] = ()


class DecisionJournal(Database):
    """Append-only SQLite journal of calls, decisions and (for shadow reports) trades."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, _SCHEMA)

    def _insert(self, verb: str, table: str, row: dict[str, object]) -> int:
        """Write ``row`` (datetimes as ISO text, tuples as JSON) into ``table``; its id."""
        values = [
            v.isoformat()
            if isinstance(v, datetime)
            else json.dumps(v)
            if isinstance(v, tuple)
            else v
            for v in row.values()
        ]
        marks = ",".join("?" * len(row))
        return self.execute(f"{verb} INTO {table}({', '.join(row)}) VALUES ({marks})", values)

    def record_call(self, rec: CallRecord) -> int:
        """Write one call row (its columns are the record's fields); return its id."""
        return self._insert("INSERT", "calls", {f.name: getattr(rec, f.name) for f in fields(rec)})

    def record_decision(
        self,
        ts: datetime,
        proposal: Proposal,
        outcome: ApplyOutcome,
        *,
        call_id: int | None = None,
        shadow: bool = False,
    ) -> int:
        """Write one decision row; return its id."""
        row = {
            "call_id": call_id,
            "ts": ts,
            "scope": proposal.scope,
            "tier": proposal.tier,
            "source": proposal.source,
            "proposal": proposal.to_json(),
            "clamps": tuple(c.field for c in proposal.clamps),
            "applied": int(outcome.applied),
            "changed": outcome.changed,
            "held": outcome.held,
            "expires_at": outcome.expires_at,
            "shadow": int(shadow),
        }
        return self._insert("INSERT", "decisions", row)

    def record_trade(self, trade: TradeSnapshot) -> None:
        """Write (or update) one closed trade."""
        self._insert("INSERT OR REPLACE", "trades", {n: getattr(trade, n) for n in _TRADE_COLUMNS})

    def record_shadow_entry(
        self, trade_id: int, pair: str, ts: datetime, advice: Effective
    ) -> None:
        """What the overseer would have advised when ``trade_id`` entered (first fill only)."""
        row = {
            "trade_id": trade_id,
            "pair": pair,
            "ts": ts,
            "paused": int(advice.pause_entries),
            "stake_multiplier": advice.stake_multiplier,
            "stop_distance": advice.stop_distance,
        }
        self._insert("INSERT OR IGNORE", "shadow_entries", row)

    def record_shadow_exit(
        self, trade_id: int, ts: datetime, reason: str, profit_ratio: float
    ) -> None:
        """The first time the overseer would have exited ``trade_id`` (later ones are ignored)."""
        row = {"trade_id": trade_id, "ts": ts, "reason": reason, "profit_ratio": profit_ratio}
        self._insert("INSERT OR IGNORE", "shadow_exits", row)

    def decisions(self) -> list[tuple[datetime, Proposal]]:
        """All recorded decisions in time order, as (time, proposal) (the input of a replay)."""
        rows = self.query("SELECT ts, proposal FROM decisions ORDER BY ts, id")
        return [(datetime.fromisoformat(r["ts"]), Proposal.from_json(r["proposal"])) for r in rows]
