"""Run one command (e.g. ``freqtrade backtesting``) with the local venue up beside it.

Usage: ``python -m launch.offline [--replay] [--port 8090] [--datadir DIR] -- CMD ...``
"""

from __future__ import annotations

import argparse
import os
import sys

from launch.processes import run_foreground, running_venue_process


def main(argv: list[str] | None = None) -> int:
    """Start the venue, run the command after ``--``, stop the venue, return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print("usage: python -m launch.offline [options] -- COMMAND ...", file=sys.stderr)
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m launch.offline")
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
