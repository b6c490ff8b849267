"""Cache of backtest results, keyed by a hash of everything that determines a run.

The key covers what Freqtrade is given: the command's arguments (strategy, timerange,
timeframe, fee, protections, data folder; the run's own folders as placeholders), the strategy
file's contents and the parameter file beside it, the configuration files as passed (the
offline overlay without the venue's URL, which changes from run to run), the Freqtrade
settings in the environment (``FREQTRADE__*``, secrets left out), the candle files' names,
sizes and modification times, the Freqtrade version, and the sources of the project code a
backtest runs (``trading_agent`` outside ``launch`` and ``evaluation``, and ``plugins``: the
strategy kit, the plugins, the venue). Changing a report writer, a metric or the harness
leaves every key as it was, so the report can be rebuilt without repeating identical
backtests; changing the strategy kit, a plugin, or what a run is given repeats them.

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
#: Harness code that only builds runs and reads results: left out of the key.
HARNESS_SOURCES = ("trading_agent/launch", "trading_agent/evaluation")
#: Words in the name of an environment variable that holds a secret (never in a key).
SECRET_WORDS = ("KEY", "SECRET", "PASSWORD", "TOKEN", "USERNAME")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def sources_digest(repo: Path = REPO) -> str:
    """SHA-256 over the project's Python sources that a backtest runs (paths and bytes)."""
    digest = hashlib.sha256()
    for top in PROJECT_SOURCES:
        for path in sorted((repo / top).rglob("*.py")):
            relative = path.relative_to(repo).as_posix()
            if any(relative.startswith(f"{h}/") for h in HARNESS_SOURCES):
                continue
            digest.update(relative.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def config_digests(paths: Iterable[str | Path]) -> list[str]:
    """SHA-256 of each configuration file as Freqtrade reads it, minus ccxt's URLs.

    The offline overlay of a run points ccxt at the venue on a free port; the URLs are taken
    out so that the same configuration on another port has the same digest.
    """
    digests = []
    for path in paths:
        config = json.loads(Path(path).read_text())
        for section in ("ccxt_config", "ccxt_async_config"):
            config.get("exchange", {}).get(section, {}).pop("urls", None)
        digests.append(hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest())
    return digests


def freqtrade_settings(env: Mapping[str, str]) -> dict[str, str]:
    """The ``FREQTRADE__*`` settings of an environment, without any that hold a secret."""
    return {
        name: value
        for name, value in sorted(env.items())
        if name.startswith("FREQTRADE__") and not any(w in name for w in SECRET_WORDS)
    }


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
