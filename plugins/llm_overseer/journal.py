"""The decision journal: every call and every decision, durably, in SQLite.

Tables:

- ``calls``: one row per attempt (or cache hit, or budget refusal): wall time, bot time, pair,
  tier, model, prompt version and hash, tokens, cost, latency, outcome, error, raw answer.
- ``decisions``: one row per proposal given to the decision store: bot time, scope, tier,
  source (``llm``, ``cache``, ``rules``, ``fallback``, ``replay``), the bounded proposal (JSON,
  with the clamps applied), whether it changed anything, what hysteresis held back, expiry,
  and whether it was a shadow decision (recorded, not applied).
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


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """A decision read back from a journal (for replay)."""

    ts: datetime
    proposal: Proposal
    shadow: bool


class DecisionJournal:
    """Append-only SQLite journal of calls, decisions and (for shadow reports) trades."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.db = Database(path, _SCHEMA)

    def record_call(self, rec: CallRecord) -> int:
        """Write one call row (its columns are the record's fields); return its id."""
        names = [f.name for f in fields(rec)]
        values = [
            v.isoformat()
            if isinstance(v, datetime)
            else json.dumps(v)
            if isinstance(v, tuple)
            else v
            for v in (getattr(rec, name) for name in names)
        ]
        marks = ",".join("?" * len(names))
        return self.db.execute(f"INSERT INTO calls({', '.join(names)}) VALUES ({marks})", values)

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
        return self.db.execute(
            "INSERT INTO decisions(call_id, ts, scope, tier, source, proposal, clamps, applied,"
            " changed, held, expires_at, shadow) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                call_id,
                ts.isoformat(),
                proposal.scope,
                proposal.tier,
                proposal.source,
                proposal.to_json(),
                json.dumps([c.field for c in proposal.clamps]),
                int(outcome.applied),
                json.dumps(list(outcome.changed)),
                json.dumps(list(outcome.held)),
                outcome.expires_at.isoformat(),
                int(shadow),
            ),
        )

    def record_trade(self, trade: TradeSnapshot) -> None:
        """Write (or update) one closed trade."""
        self.db.execute(
            "INSERT OR REPLACE INTO trades(trade_id, pair, is_short, open_date, close_date,"
            " stake_amount, profit_abs, profit_ratio, exit_reason) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                trade.trade_id,
                trade.pair,
                int(trade.is_short),
                trade.open_date.isoformat(),
                trade.close_date.isoformat() if trade.close_date else None,
                trade.stake_amount,
                trade.profit_abs,
                trade.profit_ratio,
                trade.exit_reason,
            ),
        )

    def record_shadow_entry(
        self, trade_id: int, pair: str, ts: datetime, advice: Effective
    ) -> None:
        """What the overseer would have advised when ``trade_id`` entered (first fill only)."""
        self.db.execute(
            "INSERT OR IGNORE INTO shadow_entries(trade_id, pair, ts, paused, stake_multiplier,"
            " stop_distance) VALUES (?,?,?,?,?,?)",
            (
                trade_id,
                pair,
                ts.isoformat(),
                int(advice.pause_entries),
                advice.stake_multiplier,
                advice.stop_distance,
            ),
        )

    def record_shadow_exit(
        self, trade_id: int, ts: datetime, reason: str, profit_ratio: float
    ) -> bool:
        """The first time the overseer would have exited ``trade_id``; False if already known."""
        if self.db.query("SELECT 1 FROM shadow_exits WHERE trade_id=?", (trade_id,)):
            return False
        self.db.execute(
            "INSERT OR IGNORE INTO shadow_exits(trade_id, ts, reason, profit_ratio)"
            " VALUES (?,?,?,?)",
            (trade_id, ts.isoformat(), reason, profit_ratio),
        )
        return True

    def decisions(self) -> list[RecordedDecision]:
        """All recorded decisions in time order (the input of a replay)."""
        rows = self.db.query("SELECT ts, proposal, shadow FROM decisions ORDER BY ts, id")
        return [
            RecordedDecision(
                datetime.fromisoformat(r["ts"]),
                Proposal.from_json(r["proposal"]),
                bool(r["shadow"]),
            )
            for r in rows
        ]

    def close(self) -> None:
        """Close the database."""
        self.db.close()
