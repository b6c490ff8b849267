"""``make demo``: replay venue + ``freqtrade trade --dry-run`` with the REST API, until Ctrl-C.

The venue replays the recorded candles on the wall clock (``ta-venue --replay``);
Freqtrade trades them in dry-run through ccxt's MEXC client pointed at the venue by
``user_data/config.offline.json``. Both stop cleanly on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from trading_agent.launch.demo_intro import intro_lines, offline_pairs, venue_state
from trading_agent.launch.processes import run_foreground, running_venue_process

CONFIGS = ["-c", "user_data/config.json", "-c", "user_data/config.offline.json"]


def api_credentials(env: dict[str, str]) -> dict[str, str]:
    """Fill in missing REST API credentials with fresh random ones (never written to disk)."""
    filled = dict(env)
    filled.setdefault("FREQTRADE__API_SERVER__USERNAME", "freqtrader")
    for key in ("PASSWORD", "JWT_SECRET_KEY", "WS_TOKEN"):
        filled.setdefault(f"FREQTRADE__API_SERVER__{key}", secrets.token_urlsafe(24))
    return filled


def freqtrade_command(strategy: str, strategy_path: str, db_url: str) -> list[str]:
    """The ``freqtrade trade --dry-run`` command of the demo."""
    exe = str(Path(sys.executable).parent / "freqtrade")
    return [
        exe,
        "trade",
        "--dry-run",
        *CONFIGS,
        "--strategy",
        strategy,
        "--strategy-path",
        strategy_path,
        "--db-url",
        db_url,
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the demo until Ctrl-C; return Freqtrade's exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m trading_agent.launch.demo", description=__doc__
    )
    parser.add_argument("--strategy", default=os.environ.get("STRATEGY", "EnhancedFlashStrategy"))
    parser.add_argument(
        "--strategy-path", default=os.environ.get("STRATEGY_PATH", "user_data/strategies")
    )
    parser.add_argument("--datadir", default=os.environ.get("DATADIR", "../shared/data/binance"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("VENUE_PORT", "8090")))
    parser.add_argument("--db-url", default="sqlite:///user_data/tradesv3.offline.sqlite")
    args = parser.parse_args(argv)

    env = api_credentials(dict(os.environ))
    generated = "FREQTRADE__API_SERVER__PASSWORD" not in os.environ
    Path("user_data/logs").mkdir(parents=True, exist_ok=True)
    with running_venue_process(
        args.datadir, args.port, replay=True, log=Path("user_data/logs/venue.log")
    ) as venue_url:
        for line in intro_lines(
            venue_state(venue_url),
            venue_url,
            args.datadir,
            args.strategy,
            "http://127.0.0.1:8080",
            env["FREQTRADE__API_SERVER__USERNAME"],
            env["FREQTRADE__API_SERVER__PASSWORD"] if generated else None,
            offline_pairs(),
        ):
            print(line, flush=True)
        return run_foreground(
            freqtrade_command(args.strategy, args.strategy_path, args.db_url), env=env
        )


if __name__ == "__main__":
    sys.exit(main())
