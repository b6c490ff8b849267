"""Cache of backtest results, keyed by a hash of everything that determines a run.

The key covers the strategy file's contents, its parameters, the timerange, timeframe, fee and
protections, the candle files' names, sizes and modification times, the Freqtrade version, the
committed configuration files, the sources of the project packages a strategy runs on
(``trading_agent`` outside ``launch`` and ``evaluation``, and ``plugins``) and of the launch
modules that build a run (its strategy folder, parameter file, command line and offline
overlay). Changing a report writer or a metric leaves every key as it was, so the report can
be rebuilt without repeating identical backtests; changing the strategy kit, a plugin or how
a run is built repeats them.

Each entry is a folder ``<cache>/<key>/`` holding the run's strategy folder (the strategy file
and its parameter file, which the logged command points at) and ``result.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: Bump when the stored result's layout changes: old entries are then ignored.
CACHE_FORMAT = 1
RESULT_FILE = "result.json"

REPO = Path(__file__).resolve().parents[2]
#: Project code a backtest runs (the strategy kit, plugins, venue): part of every key.
PROJECT_SOURCES = ("trading_agent", "plugins")
#: Harness code that only reads results: left out of the key...
HARNESS_SOURCES = ("trading_agent/launch", "trading_agent/evaluation")
#: ... except the launch modules that build a run, which are in it.
RUN_BUILDERS = (
    "trading_agent/launch/backtest_runs.py",
    "trading_agent/launch/backtest_cache.py",
    "trading_agent/launch/strategy_grid.py",
    "trading_agent/launch/evaluate_strategies.py",
    "trading_agent/launch/offline.py",
)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sources_digest(repo: Path = REPO) -> str:
    """SHA-256 over the project's Python sources that a backtest runs (paths and bytes)."""
    digest = hashlib.sha256()
    for top in PROJECT_SOURCES:
        for path in sorted((repo / top).rglob("*.py")):
            relative = path.relative_to(repo).as_posix()
            harness = any(relative.startswith(f"{h}/") for h in HARNESS_SOURCES)
            if harness and relative not in RUN_BUILDERS:
                continue
            digest.update(relative.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def run_key(payload: Mapping[str, Any]) -> str:
    """The cache key of a run: SHA-256 of its canonical JSON description (first 20 hex)."""
    text = json.dumps({"cache_format": CACHE_FORMAT, **payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def load_result(folder: Path) -> dict[str, Any] | None:
    """The stored result in ``folder``, or None when there is none (or it is unreadable)."""
    path = Path(folder) / RESULT_FILE
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return result if result.get("cache_format") == CACHE_FORMAT else None


def store_result(folder: Path, result: Mapping[str, Any]) -> None:
    """Write ``result`` into ``folder`` atomically (a reader never sees half a file)."""
    path = Path(folder) / RESULT_FILE
    partial = path.with_suffix(f".partial-{os.getpid()}")
    partial.write_text(json.dumps({"cache_format": CACHE_FORMAT, **result}, default=str))
    partial.replace(path)


def digests(paths: Iterable[Path]) -> dict[str, str]:
    """File name to SHA-256 for each path (configuration files in a key)."""
    return {Path(p).name: file_digest(Path(p)) for p in paths}
