"""Journal reports: ``python -m plugins.llm_overseer.report --journal PATH [--json]``.

Prints costs by day, tier and model; decisions (by source, applied or held, clamps, pauses,
exits); latencies (p50/p95/max per tier and model); failures by kind; and, when the journal
holds shadow-mode trades, the shadow comparison (docs/overseer.md, "Shadow mode", states the
computation and its limits).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import numpy as np

from trading_agent.safe_text import clean


def _connect(path: str | Path) -> sqlite3.Connection:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"journal {str(path)!r} does not exist")
    con = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    return con


def _has_table(con: sqlite3.Connection, name: str) -> bool:
    return bool(
        con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
    )


def costs(con: sqlite3.Connection) -> list[dict[str, Any]]:
    """Cost, tokens and calls per UTC day, tier and model."""
    rows = con.execute(
        "SELECT substr(wall_ts,1,10) AS day, tier, model, COUNT(*) AS calls,"
        " SUM(outcome='ok') AS ok, SUM(prompt_tokens) AS prompt_tokens,"
        " SUM(completion_tokens) AS completion_tokens, SUM(cost_usd) AS cost_usd"
        " FROM calls WHERE outcome NOT IN ('skipped') GROUP BY day, tier, model"
        " ORDER BY day, tier, model"
    ).fetchall()
    return [dict(r) for r in rows]


def decisions(con: sqlite3.Connection) -> list[dict[str, Any]]:
    """Decisions per source and tier: how many, applied, held by hysteresis, clamped."""
    rows = con.execute(
        "SELECT source, tier, shadow, COUNT(*) AS n, SUM(applied) AS applied,"
        " SUM(held != '[]') AS held, SUM(clamps != '[]') AS clamped,"
        " SUM(json_extract(proposal,'$.pause_entries')) AS pauses,"
        " SUM(json_extract(proposal,'$.exit_position')) AS exits,"
        " AVG(json_extract(proposal,'$.stake_multiplier')) AS mean_multiplier"
        " FROM decisions GROUP BY source, tier, shadow ORDER BY source, tier"
    ).fetchall()
    return [dict(r) for r in rows]


def latencies(con: sqlite3.Connection) -> list[dict[str, Any]]:
    """Latency p50/p95/max (seconds) per tier and model over answered calls."""
    out: dict[tuple[int, str], list[float]] = {}
    for r in con.execute(
        "SELECT tier, model, latency_s FROM calls WHERE latency_s IS NOT NULL"
    ).fetchall():
        out.setdefault((r["tier"], r["model"]), []).append(float(r["latency_s"]))
    return [
        {
            "tier": tier,
            "model": model,
            "n": len(v),
            "p50_s": float(np.percentile(v, 50)),
            "p95_s": float(np.percentile(v, 95)),
            "max_s": max(v),
        }
        for (tier, model), v in sorted(out.items())
    ]


def failures(con: sqlite3.Connection) -> list[dict[str, Any]]:
    """Calls that gave no usable answer, by outcome (the example, which may quote the provider
    or the model, made safe to show)."""
    rows = con.execute(
        "SELECT outcome, COUNT(*) AS n, MAX(error) AS example FROM calls"
        " WHERE outcome NOT IN ('ok','cache_hit') GROUP BY outcome ORDER BY n DESC"
    ).fetchall()
    return [
        {**dict(r), "example": None if r["example"] is None else clean(r["example"])} for r in rows
    ]


def shadow_comparison(con: sqlite3.Connection) -> dict[str, Any]:
    """Strategy results with and without the overseer's shadow advice, net of LLM spend."""
    if not _has_table(con, "trades"):
        return {"trades": 0}
    trades = con.execute(
        "SELECT t.*, e.paused, e.stake_multiplier, x.profit_ratio AS shadow_ratio,"
        " x.reason AS shadow_reason, x.ts AS shadow_ts"
        " FROM trades t LEFT JOIN shadow_entries e ON e.trade_id=t.trade_id"
        " LEFT JOIN shadow_exits x ON x.trade_id=t.trade_id ORDER BY t.close_date"
    ).fetchall()
    without = with_ = 0.0
    vetoed = scaled = early_exits = unmatched = 0
    per_trade = []
    for t in trades:
        actual = float(t["profit_abs"] or 0.0)
        if t["paused"] is None:
            unmatched += 1
            counterfactual = actual
        elif t["paused"]:
            vetoed += 1
            counterfactual = 0.0
        else:
            mult = float(t["stake_multiplier"])
            scaled += mult < 1.0
            result = actual
            if t["shadow_ratio"] is not None and (
                t["close_date"] is None or t["shadow_ts"] <= t["close_date"]
            ):
                early_exits += 1
                result = float(t["stake_amount"]) * float(t["shadow_ratio"])
            counterfactual = mult * result
        without += actual
        with_ += counterfactual
        per_trade.append(
            {
                "trade_id": t["trade_id"],
                "pair": t["pair"],
                "without": actual,
                "with": counterfactual,
            }
        )
    span = con.execute("SELECT MIN(open_date) AS a, MAX(close_date) AS b FROM trades").fetchone()
    spend = 0.0
    if span["a"] is not None:
        spend = float(
            con.execute(
                "SELECT COALESCE(SUM(cost_usd),0) FROM calls WHERE bot_ts>=? AND bot_ts<=?",
                (span["a"], span["b"] or span["a"]),
            ).fetchone()[0]
        )
    return {
        "trades": len(trades),
        "without_overseer": without,
        "with_overseer": with_,
        "llm_spend_usd": spend,
        "with_overseer_net": with_ - spend,
        "difference_net": with_ - spend - without,
        "vetoed": vetoed,
        "scaled": scaled,
        "early_exits": early_exits,
        "unmatched": unmatched,
        "per_trade": per_trade,
    }


def build_report(path: str | Path) -> dict[str, Any]:
    """All report sections for one journal, as plain data."""
    con = _connect(path)
    try:
        return {
            "journal": str(path),
            "costs": costs(con),
            "decisions": decisions(con),
            "latencies": latencies(con),
            "failures": failures(con),
            "shadow": shadow_comparison(con),
        }
    finally:
        con.close()


def _table(rows: list[dict[str, Any]], title: str) -> str:
    if not rows:
        return f"{title}: none\n"
    cols = [c for c in rows[0] if c != "per_trade"]

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.6f}" if abs(v) < 1 else f"{v:.2f}"
        return "" if v is None else str(v)

    cells = [[fmt(r.get(c)) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = [title, "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines) + "\n"


def render(report: dict[str, Any]) -> str:
    """Human-readable text of :func:`build_report`'s result."""
    out = [f"Overseer journal: {report['journal']}\n"]
    out.append(_table(report["costs"], "Costs by day / tier / model (USD)"))
    total = sum(r["cost_usd"] or 0.0 for r in report["costs"])
    out.append(f"Total LLM spend: {total:.6f} USD\n")
    out.append(_table(report["decisions"], "Decisions"))
    out.append(_table(report["latencies"], "Latencies (s)"))
    out.append(_table(report["failures"], "Failures"))
    sh = report["shadow"]
    if sh.get("trades"):
        summary = {k: v for k, v in sh.items() if k != "per_trade"}
        out.append(_table([summary], "Shadow comparison (quote currency)"))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m plugins.llm_overseer.report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--journal", required=True, help="path of the overseer's SQLite journal")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    try:
        report = build_report(args.journal)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, default=str) if args.json else render(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
