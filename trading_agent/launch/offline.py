"""Run one command (e.g. ``freqtrade backtesting``) with the local venue up beside it.

Usage::

    python -m trading_agent.launch.offline [--replay] [--port 8090] [--datadir DIR] \
        [--overlay PATH] -- CMD ...

``--overlay PATH`` writes the offline overlay for this run's venue (its port) to ``PATH``
before the command starts, so the command can read it with ``-c PATH``: the committed
``user_data/config.offline.json`` names the default port 8090 only. A missing or empty data
folder, or a venue that does not come up, ends the run with one line and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from trading_agent.launch.datadir import candle_dir, candle_dir_problem, is_sample
from trading_agent.launch.processes import VenueStartError, run_foreground, running_venue_process
from trading_agent.launch.sample_data import FIVE_MINUTE_SPAN

OFFLINE_OVERLAY = Path(__file__).resolve().parents[2] / "user_data" / "config.offline.json"
#: Exit code of a run refused before it started (bad data folder, venue down).
USAGE_EXIT = 2


def write_offline_overlay(path: Path, venue_url: str, **overrides: object) -> Path:
    """Write a copy of ``config.offline.json`` whose ccxt URLs point at ``venue_url``.

    Every run of the venue on a port of its own (tests, benchmarks, ``make`` targets with
    ``VENUE_PORT``) gets its overlay this way; everything else stays identical to the
    committed overlay. ``overrides`` replace top-level keys. Creates ``path``'s folder.
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
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(overlay, indent=2))
    return path


def venue_url(port: int) -> str:
    """The loopback URL of a venue listening on ``port``."""
    return f"http://127.0.0.1:{port}"


def data_note(datadir: str | Path) -> str:
    """What the venue serves, said once at start (the sample is a stand-in, and partial)."""
    if is_sample(datadir):
        start, end = FIVE_MINUTE_SPAN
        return (
            f"{datadir}: the embedded sample (Binance USDT candles standing in for MEXC's USDC "
            f"pairs; 5m candles from {start} until {end})"
        )
    return str(datadir)


def start_problem(port: int, datadir: str | Path) -> str | None:
    """Why a launcher cannot start the venue on ``port`` with ``datadir``, in one line."""
    if not 1 <= port <= 65535:
        return f"venue port {port} is not in 1..65535 (VENUE_PORT)"
    return candle_dir_problem(datadir)


def main(argv: list[str] | None = None) -> int:
    """Start the venue, run the command after ``--``, stop the venue, return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print(
            "usage: python -m trading_agent.launch.offline [options] -- COMMAND ...",
            file=sys.stderr,
        )
        return USAGE_EXIT
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="python -m trading_agent.launch.offline")
    parser.add_argument("--port", type=int, default=int(os.environ.get("VENUE_PORT", "8090")))
    parser.add_argument("--datadir", default=os.environ.get("DATADIR") or str(candle_dir()))
    parser.add_argument("--replay", action="store_true")
    parser.add_argument("--overlay", type=Path, help="write this run's offline overlay here")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1 :]
    if not command:
        parser.error("no command given after --")
    problem = start_problem(args.port, args.datadir)
    if problem:
        print(f"offline: {problem}", file=sys.stderr)
        return USAGE_EXIT
    if args.overlay:
        write_offline_overlay(args.overlay, venue_url(args.port))
    mode = "replaying" if args.replay else "serving"
    print(f"venue: {mode} {data_note(args.datadir)} on {venue_url(args.port)}", flush=True)
    try:
        with running_venue_process(args.datadir, args.port, args.replay):
            return run_foreground(command)
    except VenueStartError as err:
        print(f"offline: {err}", file=sys.stderr)
        return USAGE_EXIT


if __name__ == "__main__":
    sys.exit(main())
