"""``make demo``: replay venue + ``freqtrade trade --dry-run`` with the REST API, until Ctrl-C.

The venue replays the recorded candles on the wall clock (``ta-venue --replay``), from
:data:`DEFAULT_REPLAY_START` (the 5 August 2024 sell-off) unless told otherwise; Freqtrade
trades them in dry-run through ccxt's MEXC client, pointed at the venue by an offline overlay
written for this run's venue port. The REST API listens where ``FREQTRADE__API_SERVER__*``
(or ``user_data/config.json``) says; the demo's introduction (:mod:`demo_intro`) gives that URL,
and a last line says when it answers. Both processes stop cleanly on Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from trading_agent.launch.datadir import candle_dir
from trading_agent.launch.demo_intro import intro_lines, offline_pairs, venue_state
from trading_agent.launch.offline import (
    USAGE_EXIT,
    data_note,
    start_problem,
    venue_url,
    write_offline_overlay,
)
from trading_agent.launch.processes import VenueStartError, run_foreground, running_venue_process

BASE_CONFIG = Path("user_data/config.json")
#: Recorded date the replay maps onto today: the 5 August 2024 sell-off, in the sample too.
DEFAULT_REPLAY_START = "2024-08-05"
#: The strategy the demo runs unless told otherwise: the one whose walk-forward results meet
#: the goal of docs/regime.md (README "What to expect").
DEFAULT_STRATEGY = "RegimeStrategy"
#: How long the demo waits for the REST API before it stops saying it will.
API_WAIT_S = 300.0


def api_credentials(env: dict[str, str]) -> dict[str, str]:
    """Fill in missing REST API credentials with fresh random ones (never written to disk)."""
    filled = dict(env)
    filled.setdefault("FREQTRADE__API_SERVER__USERNAME", "freqtrader")
    for key in ("PASSWORD", "JWT_SECRET_KEY", "WS_TOKEN"):
        filled.setdefault(f"FREQTRADE__API_SERVER__{key}", secrets.token_urlsafe(24))
    return filled


def api_address(env: Mapping[str, str], config: Mapping) -> tuple[str, int]:
    """Where Freqtrade's REST API will listen: the environment over ``config``'s api_server."""
    server = config.get("api_server") or {}
    host = env.get("FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS") or server.get(
        "listen_ip_address", "127.0.0.1"
    )
    port = env.get("FREQTRADE__API_SERVER__LISTEN_PORT") or server.get("listen_port", 8080)
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"API port must be a number, got {port!r}") from None
    if not 1 <= number <= 65535:
        raise ValueError(f"API port {number} is not in 1..65535")
    return str(host), number


def api_base_url(host: str, port: int) -> str:
    """The URL a browser on this machine opens for an API listening on ``host:port``."""
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{reachable}:{port}"


def freqtrade_command(strategy: str, strategy_path: str, db_url: str, overlay: Path) -> list[str]:
    """The ``freqtrade trade --dry-run`` command of the demo."""
    exe = str(Path(sys.executable).parent / "freqtrade")
    return [
        exe,
        "trade",
        "--dry-run",
        "-c",
        str(BASE_CONFIG),
        "-c",
        str(overlay),
        "--strategy",
        strategy,
        "--strategy-path",
        strategy_path,
        "--db-url",
        db_url,
    ]


def running_strategy(url: str, user: str, password: str) -> str | None:
    """The strategy the REST API at ``url`` reports, or None while it does not answer."""
    request = urllib.request.Request(f"{url}/api/v1/show_config")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=2) as resp:
            return json.loads(resp.read()).get("strategy")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def announce_when_up(
    url: str, user: str, password: str, stop: threading.Event, started: float
) -> None:
    """Print one line when the REST API answers with its strategy (or say it did not).

    ``started`` is the demo's start on the monotonic clock: the line gives the time since.
    """
    deadline = started + API_WAIT_S
    while not stop.is_set() and time.monotonic() < deadline:
        strategy = running_strategy(url, user, password)
        if strategy:
            elapsed = time.monotonic() - started
            print(f"REST API up at {url} with {strategy} ({elapsed:.0f} s)", flush=True)
            return
        stop.wait(1.0)
    if not stop.is_set():
        print(f"REST API at {url} did not answer within {API_WAIT_S:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the demo until Ctrl-C; return Freqtrade's exit code (2: it could not start)."""
    parser = argparse.ArgumentParser(
        prog="python -m trading_agent.launch.demo", description=__doc__
    )
    parser.add_argument("--strategy", default=os.environ.get("STRATEGY") or DEFAULT_STRATEGY)
    parser.add_argument(
        "--strategy-path", default=os.environ.get("STRATEGY_PATH", "user_data/strategies")
    )
    parser.add_argument("--datadir", default=os.environ.get("DATADIR") or str(candle_dir()))
    parser.add_argument("--port", type=int, default=int(os.environ.get("VENUE_PORT", "8090")))
    parser.add_argument(
        "--replay-start",
        default=os.environ.get("REPLAY_START") or DEFAULT_REPLAY_START,
        metavar="YYYY-MM-DD",
        help="recorded date mapped onto today (default %(default)s)",
    )
    parser.add_argument(
        "--api-disabled",
        default=os.environ.get("API_DISABLED", ""),
        metavar="SYMBOL[,SYMBOL...]",
        help="symbols the venue says the API may not trade (e.g. BTCUSDT): the start-up check",
    )
    parser.add_argument("--db-url", default="sqlite:///user_data/tradesv3.offline.sqlite")
    parser.add_argument(
        "--overlay", type=Path, help="where to write this run's offline overlay (default: per port)"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    problem = start_problem(args.port, args.datadir)
    if problem:
        print(f"demo: {problem}", file=sys.stderr)
        return USAGE_EXIT
    env = api_credentials(dict(os.environ))
    try:
        host, api_port = api_address(env, json.loads(BASE_CONFIG.read_text()))
    except ValueError as err:
        print(f"demo: {err} (FREQTRADE__API_SERVER__LISTEN_PORT / API_PORT)", file=sys.stderr)
        return USAGE_EXIT
    env["FREQTRADE__API_SERVER__LISTEN_PORT"] = str(api_port)
    overlay = args.overlay or Path(f"user_data/run/config.offline-{args.port}.json")
    write_offline_overlay(overlay, venue_url(args.port))
    user, password = env["FREQTRADE__API_SERVER__USERNAME"], env["FREQTRADE__API_SERVER__PASSWORD"]
    generated = "FREQTRADE__API_SERVER__PASSWORD" not in os.environ
    url = api_base_url(host, api_port)
    Path("user_data/logs").mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    try:
        with running_venue_process(
            args.datadir,
            args.port,
            replay=True,
            replay_start=args.replay_start,
            log=Path("user_data/logs/venue.log"),
            api_disabled=[x for x in args.api_disabled.split(",") if x.strip()],
        ) as venue:
            for line in intro_lines(
                venue_state(venue),
                venue,
                data_note(args.datadir),
                args.strategy,
                url,
                user,
                password if generated else None,
                offline_pairs(),
            ):
                print(line, flush=True)
            announcer = threading.Thread(
                target=announce_when_up,
                args=(url, user, password, stop, started),
                daemon=True,
            )
            announcer.start()
            try:
                return run_foreground(
                    freqtrade_command(args.strategy, args.strategy_path, args.db_url, overlay),
                    env=env,
                )
            finally:
                stop.set()
    except VenueStartError as err:
        print(f"demo: {err}", file=sys.stderr)
        return USAGE_EXIT


if __name__ == "__main__":
    sys.exit(main())
