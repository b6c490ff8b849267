"""HTTP layer of the venue (aiohttp): routing, fault injection, MEXC-shaped errors.

Paths served:

- ``GET /api/v3/{ping,time,exchangeInfo,defaultSymbols,klines,depth,trades,aggTrades,
  avgPrice}``, ``GET /api/v3/ticker/{24hr,price,bookTicker}`` (ccxt's
  ``urls.api.spot.public`` is the base URL);
- SIGNED (ccxt's ``urls.api.spot.private``, the same base URL): ``GET /api/v3/tradeFee``,
  ``GET /api/v3/capital/config/getall``, ``POST /api/v3/order`` and ``/api/v3/order/test`` (see
  :mod:`trading_agent.venue.signed_requests` and :mod:`trading_agent.venue.orders`);
- ``/api/v1/contract/{detail,ping}`` (``urls.api.contract.public`` is ``<base>/api/v1/contract``);
- control: ``GET /_venue/state``; ``GET|POST|DELETE /_venue/faults`` only when started with
  fault control on (``ta-venue --faults``; see :mod:`trading_agent.venue.faults`), else 404
  like any unknown path.

For tests, :func:`running_venue` starts the server in a background thread on a free port and
yields its base URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import logging
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from http import HTTPStatus
from pathlib import Path

from aiohttp import web
from pydantic import ValidationError

from trading_agent.venue.book_model import BookModelParams
from trading_agent.venue.clock import default_replay_start, make_clock, wall_clock_ms
from trading_agent.venue.connection_guard import (
    ConnectionGuard,
    ConnectionLimits,
    GuardedListener,
    read_body,
)
from trading_agent.venue.data import MarketData, load_market_data
from trading_agent.venue.endpoints import Venue
from trading_agent.venue.errors import VenueError, invalid_param, method_not_allowed, not_found
from trading_agent.venue.faults import FaultSpec
from trading_agent.venue.trading_rules import TradingRules

log = logging.getLogger(__name__)

SPOT_PREFIX = "/api/v3/"
CONTRACT_PREFIX = "/api/v1/"
JSON = "application/json"
#: Header carrying the API key of SIGNED requests.
API_KEY_HEADER = "X-MEXC-APIKEY"
#: Largest request body accepted (aiohttp answers 413 above it).
MAX_BODY_BYTES = 64 * 1024
#: Seconds aiohttp keeps reading (and dropping) a body the venue did not read, after answering,
#: before it closes the connection (aiohttp's default is 10).
LINGERING_TIME_S = 1.0
#: Seconds in-flight requests (e.g. ones held by a ``delay`` fault) get when the server stops.
SHUTDOWN_TIMEOUT_S = 2.0


@functools.lru_cache(maxsize=4)
def _load_cached(resolved: str, fingerprint: tuple) -> MarketData:
    return load_market_data(resolved)


def _fingerprint(folder: Path) -> tuple:
    """Names, sizes and modification times of the folder's feather files."""
    if not folder.is_dir():
        return ()
    return tuple(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.feather"))
    )


def build_venue(
    datadir: str | Path,
    *,
    replay: bool = False,
    replay_start: dt.date | None = None,
    now_ms: Callable[[], int] | None = None,
    book_params: BookModelParams | None = None,
    rules: TradingRules | None = None,
) -> Venue:
    """Load ``datadir`` and build a static or replay :class:`Venue`.

    Loaded data is cached per folder while its files stay unchanged, so tests can start many
    venues cheaply.

    ``now_ms`` replaces the wall clock (a test hook: it drives dataset time and expiry-free
    timestamps; fault durations still use the monotonic clock). ``rules`` set the
    API-disabled symbols and the fees (default: every symbol tradable, MEXC's 2025 fees);
    ValueError when they name a symbol the folder does not hold.
    """
    folder = Path(datadir).resolve()
    data = _load_cached(str(folder), _fingerprint(folder))
    clock = make_clock(
        replay=replay,
        dataset_first_ms=data.first_ms,
        dataset_end_ms=data.end_ms,
        replay_start=replay_start,
        now_ms=now_ms or wall_clock_ms,
    )
    if replay and replay_start is None:
        replay_start = default_replay_start(data.first_ms)
    return Venue(data, clock, book_params=book_params, replay_start=replay_start, rules=rules)


def _error_response(err: VenueError) -> web.Response:
    body = json.dumps(err.body(), separators=(",", ":"))
    return web.Response(status=err.status, text=body, content_type=JSON)


def _timeout_response() -> web.Response:
    resp = web.Response(
        status=408, text='{"code":408,"msg":"Request body read timeout"}', content_type=JSON
    )
    resp.force_close()
    return resp


def make_app(
    venue: Venue, guard: ConnectionGuard | None = None, faults: bool = False
) -> web.Application:
    """The aiohttp application serving ``venue``.

    With a ``guard``, the guard tracks which connections are being answered, its body
    timeout bounds reading request bodies, and ``/_venue/state`` reports its counters.
    ``/_venue/faults`` exists only with ``faults`` (fault injection is for tests).
    """
    body_timeout_s = (guard.limits if guard else ConnectionLimits()).body_timeout_s
    routes: dict[str, str] = {}
    for name in venue.endpoints:
        if name.startswith("contract/"):
            routes[CONTRACT_PREFIX + name] = name
        else:
            routes[SPOT_PREFIX + name] = name

    async def dispatch(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/_venue/"):
            return await control(request, path)
        endpoint = routes.get(path)
        if endpoint is None:
            return _error_response(not_found(path))
        if request.method not in venue.methods(endpoint):
            return _error_response(method_not_allowed(request.method))
        active = venue.faults.active(endpoint)
        if active:
            delay = active.get("delay")
            if delay is not None:
                await asyncio.sleep(delay.spec.delay_s)
            failing = active.get("http_error")
            if failing is not None:
                status = failing.spec.status
                return web.Response(
                    status=status,
                    text=f"{status} {_reason(status)} (venue fault injection)",
                    content_type="text/plain",
                )
        try:
            params = (
                await _request_params(request, body_timeout_s)
                if request.method == "POST"
                else request.query
            )
            body = venue.handle(endpoint, params, request.headers.get(API_KEY_HEADER))
        except VenueError as err:
            return _error_response(err)
        except TimeoutError:
            return _timeout_response()
        except Exception:
            log.exception("error answering %s", request.path_qs[:200])
            return web.Response(
                status=500,
                text=json.dumps({"code": 500, "msg": "Internal error"}),
                content_type=JSON,
            )
        return web.Response(text=body, content_type=JSON)

    async def control(request: web.Request, path: str) -> web.Response:
        if path == "/_venue/state":
            if request.method != "GET":
                return _error_response(method_not_allowed(request.method))
            state = venue.state()
            state["fault_control"] = faults
            if guard is not None:
                state["connections"] = guard.describe()
            return web.json_response(state)
        if path != "/_venue/faults" or not faults:
            return _error_response(not_found(path))
        if request.method == "GET":
            return web.json_response({"faults": venue.faults.describe()})
        if request.method == "DELETE":
            kind = request.query.get("kind")
            try:
                cleared = venue.faults.clear(kind)
            except ValueError as err:
                return web.json_response({"code": 400, "msg": str(err)}, status=400)
            return web.json_response({"cleared": cleared, "faults": venue.faults.describe()})
        if request.method == "POST":
            try:
                raw = await read_body(request, body_timeout_s)
            except TimeoutError:
                return _timeout_response()
            try:
                spec = FaultSpec.model_validate_json(raw)
            except ValidationError as err:
                msg = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                    for e in err.errors()
                )
                return web.json_response({"code": 400, "msg": f"bad fault: {msg}"}, status=400)
            venue.faults.set(spec, venue.clock.dataset_time())
            return web.json_response({"faults": venue.faults.describe()})
        return _error_response(method_not_allowed(request.method))

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_route("*", "/{tail:.*}", guard.tracked(dispatch) if guard else dispatch)
    return app


async def _request_params(request: web.Request, body_timeout_s: float) -> Mapping[str, str]:
    """A POST request's parameters: the query string, over those of the body (as MEXC).

    A body is JSON (an object of scalars) when its content type says so, else form-encoded.
    ``TimeoutError`` when the body is not in within ``body_timeout_s``.
    """
    if not request.can_read_body:
        return request.query
    raw = await read_body(request, body_timeout_s)
    if not raw.strip():
        return request.query
    params: dict[str, str] = {}
    if request.content_type == JSON:
        try:
            decoded = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise invalid_param("Request body is not valid JSON.") from None
        if not isinstance(decoded, dict) or not all(
            isinstance(v, str | int | float | bool) for v in decoded.values()
        ):
            raise invalid_param("Request body must be a JSON object of plain values.")
        params = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in decoded.items()}
    else:
        text = raw.decode("utf-8", errors="replace")
        params = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
    params.update(request.query)
    return params


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ServedVenue:
    """A venue served on ``host:port`` behind a :class:`ConnectionGuard` (in a running loop).

    The one way the venue listens, for ``ta-venue`` and :class:`VenueServer` alike: aiohttp's
    low-level server handles HTTP, the guard applies the read timeouts and the connection cap.
    """

    def __init__(
        self,
        venue: Venue,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: ConnectionLimits | None = None,
        access_log: logging.Logger | None = None,
        faults: bool = False,
    ) -> None:
        self.guard = ConnectionGuard(limits)
        self.host = host
        self.port = port
        self._runner = web.AppRunner(
            make_app(venue, self.guard, faults),
            access_log=access_log,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            lingering_time=LINGERING_TIME_S,
        )
        self._listener: GuardedListener | None = None

    async def start(self) -> int:
        """Bind and start serving; returns the port bound."""
        await self._runner.setup()
        server = self._runner.server
        if server is None:  # pragma: no cover - setup() always makes one
            raise RuntimeError("aiohttp runner has no server after setup")
        self._listener = GuardedListener(
            self.guard, self.guard.protocol_factory(server), self.host, self.port
        )
        self._listener.start()
        self.guard.start()
        self.port = self._listener.port
        return self.port

    async def close(self) -> None:
        """Stop listening, let requests in flight finish (briefly), close every connection."""
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        await self._runner.cleanup()
        await self.guard.stop()


class VenueServer:
    """Runs a :class:`ServedVenue` in a background thread with its own event loop."""

    def __init__(self, served: ServedVenue) -> None:
        self.served = served
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """Base URL (``http://127.0.0.1:PORT``): ccxt's ``urls.api.spot.public``."""
        return f"http://{self.served.host}:{self.served.port}"

    def start(self, timeout: float = 30.0) -> str:
        """Start serving; returns the base URL once the socket is bound."""
        self._thread = threading.Thread(target=self._run, name="ta-venue", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"venue did not start within {timeout} s")
        if self._error is not None:
            raise RuntimeError(f"venue failed to start: {self._error}") from self._error
        return self.url

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        served = self.served
        try:
            loop.run_until_complete(served.start())
        except BaseException as err:
            self._error = err
            self._ready.set()
            loop.run_until_complete(served.close())
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(served.close())
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)


@contextlib.contextmanager
def running_venue(
    datadir: str | Path,
    *,
    replay: bool = False,
    replay_start: dt.date | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    now_ms: Callable[[], int] | None = None,
    book_params: BookModelParams | None = None,
    rules: TradingRules | None = None,
    limits: ConnectionLimits | None = None,
    faults: bool = False,
) -> Iterator[str]:
    """Serve ``datadir`` in-process (background thread) and yield the base URL.

    ``port=0`` picks a free port. Shut down cleanly when the block exits. ``rules``: see
    :func:`build_venue`; ``limits``: read timeouts and connection cap (defaults when None);
    ``faults``: serve ``/_venue/faults`` (tests that inject faults).
    """
    venue = build_venue(
        datadir,
        replay=replay,
        replay_start=replay_start,
        now_ms=now_ms,
        book_params=book_params,
        rules=rules,
    )
    server = VenueServer(ServedVenue(venue, host, port, limits, faults=faults))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def ccxt_overrides(base_url: str) -> dict[str, object]:
    """ccxt ``urls`` override pointing ``ccxt.mexc`` at a venue (for ccxt_config too).

    The spot private URL points at the venue as well, so SIGNED calls (``fetch_trading_fee``,
    ``create_order``...) reach the venue, never the real MEXC.
    """
    base = base_url.rstrip("/")
    return {
        "urls": {
            "api": {
                "spot": {"public": base, "private": base},
                "contract": {"public": base + "/api/v1/contract"},
            }
        }
    }
