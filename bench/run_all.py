"""``make bench``: run every ``bench/bench_*.py`` (or the one named) and print one table.

Each benchmark module exposes ``run() -> list[dict]`` with rows of ``name``,
``value``, ``unit``, ``target`` and ``note`` (the target's format: :mod:`bench.verdicts`).
Every row is marked against its target (met, MISSED, or ``-`` without one) and a summary
line ends the table. A failing benchmark is reported as a row; the others still run. The
command exits non-zero when a benchmark failed or a target was missed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

from bench.verdicts import FAILING, summary, verdict

BENCH_DIR = Path(__file__).resolve().parent


def discover(only: list[str] | None = None) -> list[str]:
    """Module names of the benchmarks: all of them, or those named in ``only`` (``sessions``
    or ``bench_sessions`` for ``bench/bench_sessions.py``).

    Raises ``ValueError`` naming an unknown benchmark and the known ones.
    """
    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if not only:
        return names
    chosen = []
    for wanted in only:
        name = wanted if wanted.startswith("bench_") else f"bench_{wanted}"
        if name not in names:
            known = ", ".join(n.removeprefix("bench_") for n in names)
            raise ValueError(f"no benchmark {wanted!r} (bench/{name}.py); known: {known}")
        chosen.append(name)
    return list(dict.fromkeys(chosen))


def format_value(value: float) -> str:
    """A compact, readable number."""
    if value == 0 or 0.01 <= abs(value) < 100_000:
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the table (and JSON with ``--json``)."""
    parser = argparse.ArgumentParser(prog="python -m bench.run_all")
    parser.add_argument("only", nargs="*", help="run only these benchmarks (e.g. sessions)")
    parser.add_argument("--json", type=Path, help="also write all rows to this JSON file")
    args = parser.parse_args(argv)
    try:
        names = discover(args.only)
    except ValueError as err:
        print(f"bench: {err}", file=sys.stderr)
        return 2
    rows: list[dict] = []
    began = time.perf_counter()
    for name in names:
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            result = module.run()
        except Exception:
            traceback.print_exc()
            result = [
                {
                    "name": f"{name}: FAILED",
                    "value": float("nan"),
                    "unit": "",
                    "target": "",
                    "note": "see traceback above",
                    "failed": True,
                }
            ]
        for row in result:
            rows.append({"bench": name.removeprefix("bench_"), **row, "verdict": verdict(row)})
        print(f"[{name} took {time.perf_counter() - started:.1f} s]", file=sys.stderr)
    print_table(rows)
    verdicts = [r["verdict"] for r in rows]
    print(summary(verdicts, time.perf_counter() - began))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 1 if any(v in FAILING for v in verdicts) else 0


def print_table(rows: list[dict]) -> None:
    """The rows as one aligned table, each marked with its verdict."""
    header = ("bench", "name", "value", "unit", "target", "verdict", "note")
    table = [
        [
            str(r.get("bench", "")),
            str(r["name"]),
            format_value(float(r["value"])),
            str(r.get("unit", "")),
            str(r.get("target", "")),
            str(r.get("verdict", "")),
            str(r.get("note", "")),
        ]
        for r in rows
    ]
    widths = [
        max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(header)
    ]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in table:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
