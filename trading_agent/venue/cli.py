"""``ta-venue``: serve recorded candles as a local MEXC-compatible market (spot v3, public).

ta-venue --datadir ../shared/data/binance --port 8765            # static
ta-venue --datadir ../shared/data/binance --port 8765 --replay   # replay on the wall clock
ta-venue --datadir ... --api-disabled BTCUSDT --fee 0,0.0005      # MEXC's API rules and fees
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from trading_agent.venue.clock import parse_replay_start
from trading_agent.venue.connection_guard import ConnectionLimits
from trading_agent.venue.endpoints import Venue
from trading_agent.venue.server import ServedVenue, build_venue
from trading_agent.venue.trading_rules import (
    DEFAULT_MAKER_FEE,
    DEFAULT_TAKER_FEE,
    TradingRules,
    fee_text,
    parse_fees,
    parse_symbols,
)

T = TypeVar("T")


def _replay_start(text: str) -> dt.date:
    try:
        return parse_replay_start(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _argument(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse ``type`` turning the parser's ValueError into a clean usage error."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = parse.__name__
    return convert


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options of ``ta-venue``."""
    p = argparse.ArgumentParser(
        prog="ta-venue",
        description="Local MEXC-compatible market venue serving recorded Freqtrade candles.",
    )
    p.add_argument("--datadir", required=True, help="folder of <BASE>_<QUOTE>-<tf>.feather files")
    p.add_argument("--port", type=int, default=8765, help="TCP port (0: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    p.add_argument("--replay", action="store_true", help="replay the candles on the wall clock")
    p.add_argument(
        "--replay-start",
        type=_replay_start,
        default=None,
        metavar="YYYY-MM-DD",
        help="recorded date mapped onto today (default: recording start + 60 days)",
    )
    p.add_argument(
        "--api-disabled",
        type=_argument(parse_symbols),
        default=frozenset(),
        metavar="SYMBOL[,SYMBOL...]",
        help="symbols the API may not trade (isSpotTradingAllowed false, missing from "
        "defaultSymbols, orders refused with code 10007), e.g. BTCUSDT",
    )
    p.add_argument(
        "--fee",
        type=_argument(parse_fees),
        default=(DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE),
        metavar="MAKER,TAKER",
        help="fee ratios served in exchangeInfo and tradeFee (default "
        f"{fee_text(DEFAULT_MAKER_FEE)},{fee_text(DEFAULT_TAKER_FEE)}: MEXC's documented spot "
        "fees of 2025; check them)",
    )
    defaults = ConnectionLimits()
    for flag, field, what in (
        ("--header-timeout", "header_timeout_s", "a connection has to send a request head"),
        ("--body-timeout", "body_timeout_s", "a request body has to arrive"),
        ("--idle-timeout", "idle_timeout_s", "a keep-alive connection may idle between requests"),
    ):
        default = getattr(defaults, field)
        p.add_argument(
            flag, type=float, default=default, metavar="S", help=f"seconds {what} ({default})"
        )
    p.add_argument(
        "--max-connections",
        type=int,
        default=None,
        metavar="N",
        help="client sockets open at most (default: ulimit -n minus 64, at most 4096)",
    )
    p.add_argument(
        "--faults",
        action="store_true",
        help="serve /_venue/faults to inject faults (tests only; off: 404 like any unknown path)",
    )
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = p.parse_args(argv)
    if not 0 <= args.port <= 65535:
        p.error(f"--port {args.port} is not in 0..65535")
    if args.replay_start is not None and not args.replay:
        p.error("--replay-start only applies with --replay")
    return args


async def serve(
    venue: Venue,
    host: str,
    port: int,
    limits: ConnectionLimits,
    access_log: bool,
    banner: str,
    faults: bool = False,
) -> None:
    """Serve ``venue`` until SIGINT/SIGTERM (``faults``: serve ``/_venue/faults``)."""
    logger = logging.getLogger("aiohttp.access") if access_log else None
    served = ServedVenue(venue, host, port, limits, access_log=logger, faults=faults)
    try:
        bound = await served.start()
    except BaseException:
        await served.close()
        raise
    print(f"{banner} on http://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await served.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ta-venue`` console script."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    try:
        rules = TradingRules(args.api_disabled, maker_fee=args.fee[0], taker_fee=args.fee[1])
        limits = ConnectionLimits(
            header_timeout_s=args.header_timeout,
            body_timeout_s=args.body_timeout,
            idle_timeout_s=args.idle_timeout,
            max_connections=args.max_connections,
        )
        venue = build_venue(
            args.datadir, replay=args.replay, replay_start=args.replay_start, rules=rules
        )
    except ValueError as err:
        print(f"ta-venue: {err}", file=sys.stderr)
        return 2
    state = venue.state()
    symbols = ", ".join(state["symbols"])  # type: ignore[arg-type]
    if args.replay:
        banner = (
            f"ta-venue: REPLAY of {symbols} from {state['replay_start']} "
            f"(offset {state['offset_days']} days, dataset time {state['dataset_time']})"
        )
    else:
        banner = f"ta-venue: STATIC {symbols} as of {state['dataset_time']}"
    fees = state["fees"]
    banner += f"; fees maker {fees['maker']} taker {fees['taker']}"  # type: ignore[index]
    if rules.api_disabled:
        banner += f"; API-disabled: {', '.join(sorted(rules.api_disabled))}"
    banner += f"; at most {limits.cap} connections"
    if args.faults:
        banner += "; FAULT INJECTION on (/_venue/faults)"
    try:
        asyncio.run(
            serve(venue, args.host, args.port, limits, args.access_log, banner, args.faults)
        )
    except OSError as err:
        print(f"ta-venue: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
