"""``make bench``: run every ``bench/bench_*.py`` and print one table.

Each benchmark module exposes ``run() -> list[dict]`` with rows of ``name``,
``value``, ``unit``, ``target`` and ``note``. A failing benchmark is reported
as a row and makes the command exit non-zero; the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def discover(only: list[str] | None = None) -> list[str]:
    """Module names of the benchmarks, optionally filtered by substring."""
    names = sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))
    if only:
        names = [n for n in names if any(o in n for o in only)]
    return names


def format_value(value: float) -> str:
    """A compact, readable number."""
    if value == 0 or 0.01 <= abs(value) < 100_000:
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the table (and JSON with ``--json``)."""
    parser = argparse.ArgumentParser(prog="python -m bench.run_all")
    parser.add_argument("only", nargs="*", help="run only benchmarks whose name contains this")
    parser.add_argument("--json", type=Path, help="also write all rows to this JSON file")
    args = parser.parse_args(argv)
    rows: list[dict] = []
    failed = False
    for name in discover(args.only):
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            result = module.run()
        except Exception:
            failed = True
            traceback.print_exc()
            result = [
                {
                    "name": f"{name}: FAILED",
                    "value": float("nan"),
                    "unit": "",
                    "target": "",
                    "note": "see traceback above",
                }
            ]
        for row in result:
            rows.append({"bench": name.removeprefix("bench_"), **row})
        print(f"[{name} took {time.perf_counter() - started:.1f} s]", file=sys.stderr)
    header = ("bench", "name", "value", "unit", "target", "note")
    table = [
        [
            str(r.get("bench", "")),
            str(r["name"]),
            format_value(float(r["value"])),
            str(r.get("unit", "")),
            str(r.get("target", "")),
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
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
