"""Run one command (e.g. ``freqtrade backtesting``) with the local venue up beside it.

Usage::

    python -m trading_agent.launch.offline [--replay] [--port 8090] [--datadir DIR] -- CMD ...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from trading_agent.launch.processes import run_foreground, running_venue_process

OFFLINE_OVERLAY = Path(__file__).resolve().parents[2] / "user_data" / "config.offline.json"


def write_offline_overlay(path: Path, venue_url: str, **overrides: object) -> Path:
    """Write a copy of ``config.offline.json`` whose ccxt URLs point at ``venue_url``.

    Tests and benchmarks run their own venue on a free port; this keeps everything
    else identical to the committed overlay. ``overrides`` replace top-level keys.
    """
    overlay = json.loads(OFFLINE_OVERLAY.read_text())
    urls = {
        "api": {
            "spot": {"public": venue_url, "private": venue_url},
            "contract": {"public": f"{venue_url}/api/v1/contract"},
        }
    }
    overlay["exchange"]["ccxt_config"] = {"urls": urls}
    overlay["exchange"]["ccxt_async_config"] = {"urls": urls}
    overlay.update(overrides)
    path.write_text(json.dumps(overlay, indent=2))
    return path


def main(argv: list[str] | None = None) -> int:
    """Start the venue, run the command after ``--``, stop the venue, return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print(
            "usage: python -m trading_agent.launch.offline [options] -- COMMAND ...",
            file=sys.stderr,
        )
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m trading_agent.launch.offline")
    parser.add_argument("--port", type=int, default=int(os.environ.get("VENUE_PORT", "8090")))
    parser.add_argument("--datadir", default=os.environ.get("DATADIR", "../shared/data/binance"))
    parser.add_argument("--replay", action="store_true")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    if not command:
        parser.error("no command given after --")
    with running_venue_process(args.datadir, args.port, args.replay):
        return run_foreground(command)


if __name__ == "__main__":
    sys.exit(main())
