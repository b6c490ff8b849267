"""The spend ledger: what every call cost, checked before every call, persisted in SQLite.

Days are UTC calendar days of the wall clock (models are only called live). When the daily
USD or token budget would be exceeded, no call is made until the next UTC day; the ledger
remembers that it already told the user, so a restart neither resets the spend nor repeats
the notification.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from plugins.llm_overseer.db import Database
from plugins.llm_overseer.settings import BudgetSettings, PriceSettings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spend (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    day TEXT NOT NULL,
    tier INTEGER NOT NULL,
    model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS spend_day ON spend(day);
CREATE TABLE IF NOT EXISTS budget_notices (
    day TEXT PRIMARY KEY,
    ts TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


def call_cost(price: PriceSettings, prompt_tokens: int, completion_tokens: int) -> float:
    """USD cost of one call from its token usage and the model's price per million tokens."""
    if prompt_tokens < 0 or completion_tokens < 0:
        raise ValueError(f"token counts must be >= 0, got {prompt_tokens}, {completion_tokens}")
    return (
        prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok
    ) / 1_000_000


def day_of(ts: datetime) -> str:
    """UTC day key of a timestamp."""
    return ts.strftime("%Y-%m-%d")


class SpendLedger(Database):
    """Persistent daily spend with a pre-call budget check."""

    def __init__(self, path: str | Path, budget: BudgetSettings) -> None:
        super().__init__(path, _SCHEMA)
        self.budget = budget

    def spent(self, day: str) -> tuple[float, int]:
        """Total USD and tokens recorded for ``day``."""
        (row,) = self.query(
            "SELECT COALESCE(SUM(cost_usd),0), COALESCE(SUM(prompt_tokens+completion_tokens),0)"
            " FROM spend WHERE day=?",
            (day,),
        )
        return float(row[0]), int(row[1])

    def allows(self, now: datetime, est_usd: float, est_tokens: int) -> tuple[bool, str]:
        """May a call estimated at ``est_usd``/``est_tokens`` be made today? (and why not)."""
        usd, tokens = self.spent(day_of(now))
        if usd + est_usd > self.budget.daily_usd:
            return False, (
                f"daily USD budget: spent {usd:.4f} + estimated {est_usd:.4f} > "
                f"{self.budget.daily_usd:.4f}"
            )
        if tokens + est_tokens > self.budget.daily_tokens:
            return False, (
                f"daily token budget: spent {tokens} + estimated {est_tokens} > "
                f"{self.budget.daily_tokens}"
            )
        return True, ""

    def record(
        self,
        now: datetime,
        tier: int,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
    ) -> None:
        """Record one call's usage and cost."""
        self.execute(
            "INSERT INTO spend(ts, day, tier, model, prompt_tokens, completion_tokens, cost_usd)"
            " VALUES (?,?,?,?,?,?,?)",
            (now.isoformat(), day_of(now), tier, model, prompt_tokens, completion_tokens, cost_usd),
        )

    def mark_notified(self, now: datetime, reason: str) -> bool:
        """Remember that the exhaustion of ``now``'s day was announced; False if it already was."""
        if self.exhausted_notice(now):
            return False
        self.execute(
            "INSERT OR IGNORE INTO budget_notices(day, ts, reason) VALUES (?,?,?)",
            (day_of(now), now.isoformat(), reason),
        )
        return True

    def exhausted_notice(self, now: datetime) -> bool:
        """True when the budget of ``now``'s day was already found exhausted."""
        return bool(self.query("SELECT 1 FROM budget_notices WHERE day=?", (day_of(now),)))
