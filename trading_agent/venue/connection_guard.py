"""Per-connection read timeouts and a cap on open connections, in front of aiohttp.

aiohttp's server has no header-read timeout, so a client that sends half a request and waits
(slowloris) holds a file descriptor for as long as it likes; enough of them and the process
runs out of descriptors and stops accepting anyone. The guard sits between the listening
socket and aiohttp's protocol (the public low-level ``web.Server``) and keeps the venue
answering:

- **header timeout**: a connection must deliver a complete request head within
  ``header_timeout_s`` of connecting, or of the first byte after an idle keep-alive spell.
  A half-sent request is answered ``408 Request Timeout`` and closed; a connection that sent
  nothing is closed;
- **body timeout**: a body the handler reads must arrive within ``body_timeout_s``
  (:func:`read_body`), else ``408``;
- **idle timeout**: a keep-alive connection between requests is closed after
  ``idle_timeout_s``;
- **connection cap**: at most ``max_connections`` client sockets at once (accepted, open or
  being closed), below the process's descriptor limit. :class:`GuardedListener` accepts
  connections itself and only while there is room; at the cap it evicts the connections
  waiting longest for their request (never one whose request is being answered) and accepts
  again once their sockets are closed, so a new, well-behaved client always gets in. Only
  when every connection is being answered is a newcomer turned away (accepted and closed).
  Connections wait in the kernel's listen queue meanwhile, never in the process's descriptors.

Requests are tracked by wrapping the application's handler (:meth:`ConnectionGuard.tracked`):
from the moment aiohttp hands a request to the application until the handler returns, the
connection is *busy* and no header or idle timeout applies to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger(__name__)

#: The kernel's listen queue: connections wait there while the guard makes room.
LISTEN_BACKLOG = 1024
#: Descriptors kept free below ``ulimit -n`` for the process's own (listener, event loop,
#: standard streams, data files while loading).
FD_HEADROOM = 64
#: Connections accepted per readable event of the listening socket.
ACCEPT_BATCH = 32
#: Connections evicted at once when the cap is reached.
EVICT_BATCH = 8
#: Seconds accepting pauses after the system refuses a descriptor (EMFILE, ENFILE, ENOBUFS).
ACCEPT_RETRY_S = 0.1
#: Highest connection cap derived from the descriptor limit when none is given.
DEFAULT_MAX_CONNECTIONS = 4096
#: How often expired connections are looked for.
SWEEP_INTERVAL_S = 0.25
_TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
    b"Content-Length: 41\r\nConnection: close\r\n\r\n"
    b'{"code":408,"msg":"Request read timeout"}'
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def descriptor_limit() -> int:
    """The process's soft limit on open file descriptors (``ulimit -n``)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return DEFAULT_MAX_CONNECTIONS * 4 if soft == resource.RLIM_INFINITY else int(soft)


def default_max_connections() -> int:
    """A cap that leaves :data:`FD_HEADROOM` descriptors free under the current limit."""
    return max(8, min(DEFAULT_MAX_CONNECTIONS, descriptor_limit() - FD_HEADROOM))


@dataclass(frozen=True)
class ConnectionLimits:
    """Timeouts (seconds) and the connection cap (None: derived from ``ulimit -n``)."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    idle_timeout_s: float = 60.0
    max_connections: int | None = None

    def __post_init__(self) -> None:
        for name in ("header_timeout_s", "body_timeout_s", "idle_timeout_s"):
            value = getattr(self, name)
            if not 0 < value <= 3600:
                raise ValueError(f"{name} {value!r} is not in (0, 3600] seconds")
        cap = self.max_connections
        if cap is not None:
            room = descriptor_limit() - FD_HEADROOM
            if not 1 <= cap <= room:
                raise ValueError(
                    f"max_connections {cap} is not in 1..{room} "
                    f"(the descriptor limit is {descriptor_limit()}; raise ulimit -n first)"
                )

    @property
    def cap(self) -> int:
        """The connection cap in force."""
        return self.max_connections or default_max_connections()


class _Connection:
    """What the guard knows of one connection."""

    __slots__ = ("bytes_while_busy", "sent_bytes")

    def __init__(self) -> None:
        self.sent_bytes = False  # any byte of the request awaited
        self.bytes_while_busy = False


class ConnectionGuard:
    """Enforces :class:`ConnectionLimits` on the connections of one listening socket."""

    def __init__(
        self,
        limits: ConnectionLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or ConnectionLimits()
        self.cap = self.limits.cap
        self._now = monotonic
        # Both ordered by the time the connection entered the state, oldest first.
        self._awaiting: OrderedDict[asyncio.Transport, tuple[_Connection, float]] = OrderedDict()
        self._idle: OrderedDict[asyncio.Transport, tuple[_Connection, float]] = OrderedDict()
        self._busy: dict[asyncio.Transport, _Connection] = {}
        self._closing: set[asyncio.Transport] = set()
        self.pending = 0  # accepted sockets whose transport is not made yet
        self.counts = {"evicted": 0, "refused": 0, "header_timeouts": 0, "idle_timeouts": 0}
        self._sweeper: asyncio.Task | None = None
        self.on_room: Callable[[], None] | None = None  # called when closed sockets made room

    # ------------------------------------------------------------------ state

    @property
    def open_connections(self) -> int:
        """Connections open now (not counting those being closed)."""
        return len(self._awaiting) + len(self._idle) + len(self._busy)

    @property
    def sockets_in_use(self) -> int:
        """Client sockets holding a descriptor: accepted, open or being closed."""
        return self.pending + self.open_connections + len(self._closing)

    def has_room(self) -> bool:
        """True when one more connection fits under the cap."""
        return self.sockets_in_use < self.cap

    def room_coming(self) -> bool:
        """True while sockets are being closed or accepted ones are not admitted yet."""
        return bool(self._closing) or self.pending > 0

    def make_room(self) -> int:
        """Evict up to :data:`EVICT_BATCH` of the connections waiting longest; how many.

        Their descriptors are free once their ``connection_lost`` runs (then ``on_room``).
        """
        evicted = 0
        while evicted < EVICT_BATCH:
            victim = self._oldest_waiting()
            if victim is None:
                break
            self._forget(victim)
            self._closing.add(victim)
            victim.abort()
            evicted += 1
        self.counts["evicted"] += evicted
        return evicted

    def describe(self) -> dict[str, object]:
        """JSON-friendly view for ``GET /_venue/state``."""
        return {
            "open": self.open_connections,
            "busy": len(self._busy),
            "closing": len(self._closing),
            "max_connections": self.cap,
            "header_timeout_s": self.limits.header_timeout_s,
            "body_timeout_s": self.limits.body_timeout_s,
            "idle_timeout_s": self.limits.idle_timeout_s,
            **self.counts,
        }

    def _forget(self, transport: asyncio.Transport) -> _Connection | None:
        entry = self._awaiting.pop(transport, None) or self._idle.pop(transport, None)
        if entry is not None:
            return entry[0]
        return self._busy.pop(transport, None)

    # ------------------------------------------------------------------ events

    def admit(self, transport: asyncio.Transport) -> None:
        """An accepted connection's transport is made: its header clock starts."""
        self.pending = max(0, self.pending - 1)
        self._awaiting[transport] = (_Connection(), self._now())
        if self.on_room is not None and not self.has_room():
            self.on_room()  # a paused listener may evict now that there is someone to evict

    def _oldest_waiting(self) -> asyncio.Transport | None:
        first_awaiting = next(iter(self._awaiting.items()), None)
        first_idle = next(iter(self._idle.items()), None)
        if first_awaiting is None or first_idle is None:
            chosen = first_awaiting or first_idle
        else:
            chosen = first_awaiting if first_awaiting[1][1] <= first_idle[1][1] else first_idle
        return None if chosen is None else chosen[0]

    def data_received(self, transport: asyncio.Transport) -> None:
        """Bytes arrived: an idle connection starts a request (its header clock starts)."""
        busy = self._busy.get(transport)
        if busy is not None:
            busy.bytes_while_busy = True
            return
        entry = self._awaiting.get(transport)
        if entry is not None:
            entry[0].sent_bytes = True
            return
        idle = self._idle.pop(transport, None)
        if idle is not None:
            idle[0].sent_bytes = True
            self._awaiting[transport] = (idle[0], self._now())

    def request_started(self, transport: asyncio.Transport) -> None:
        """aiohttp parsed a request head on ``transport``: no header/idle timeout until done."""
        conn = self._forget(transport)
        if conn is not None:
            conn.bytes_while_busy = False
            self._busy[transport] = conn

    def request_done(self, transport: asyncio.Transport) -> None:
        """The handler returned: the connection waits for its next request."""
        conn = self._busy.pop(transport, None)
        if conn is None:
            return
        if conn.bytes_while_busy:  # the next request has begun already
            conn.sent_bytes = True
            self._awaiting[transport] = (conn, self._now())
        else:
            conn.sent_bytes = False
            self._idle[transport] = (conn, self._now())

    def connection_lost(self, transport: asyncio.Transport) -> None:
        """The connection closed, for whatever reason: its descriptor is free."""
        self._forget(transport)
        self._closing.discard(transport)
        if self.on_room is not None and self.has_room():
            self.on_room()

    def _close(self, transport: asyncio.Transport, answer: bytes | None = None) -> None:
        self._closing.add(transport)
        if answer is None:
            transport.abort()
            return
        with contextlib.suppress(Exception):
            transport.write(answer)
        transport.close()

    # ------------------------------------------------------------------ timeouts

    def sweep(self) -> int:
        """Close the connections past their header or idle deadline; return how many."""
        now = self._now()
        late = self._expired(self._awaiting, now - self.limits.header_timeout_s)
        for transport, conn in late:
            self._close(transport, _TIMEOUT_ANSWER if conn.sent_bytes else None)
        idle = self._expired(self._idle, now - self.limits.idle_timeout_s)
        for transport, _ in idle:
            self._close(transport, b"")
        self.counts["header_timeouts"] += len(late)
        self.counts["idle_timeouts"] += len(idle)
        return len(late) + len(idle)

    @staticmethod
    def _expired(
        queue: OrderedDict[asyncio.Transport, tuple[_Connection, float]], cutoff: float
    ) -> list[tuple[asyncio.Transport, _Connection]]:
        """Take the entries of ``queue`` (oldest first) that entered it at or before ``cutoff``."""
        out = []
        while queue:
            transport, (conn, since) = next(iter(queue.items()))
            if since > cutoff:
                break
            del queue[transport]
            out.append((transport, conn))
        return out

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            self.sweep()

    def start(self) -> None:
        """Start the periodic sweep (inside the running event loop)."""
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        """Stop the sweep and close every connection still open."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        self.on_room = None
        for transport in [*self._awaiting, *self._idle, *self._busy]:
            transport.abort()
        self._awaiting.clear()
        self._idle.clear()
        self._busy.clear()
        self._closing.clear()

    # ------------------------------------------------------------------ aiohttp glue

    def tracked(self, handler: Handler) -> Handler:
        """``handler``, marking the request's connection busy while it answers."""

        async def tracked_handler(request: web.Request) -> web.StreamResponse:
            transport = request.transport
            if transport is None:
                return await handler(request)
            self.request_started(transport)  # type: ignore[arg-type]
            try:
                return await handler(request)
            finally:
                self.request_done(transport)  # type: ignore[arg-type]

        return tracked_handler

    def protocol_factory(self, server: web.Server) -> Callable[[], asyncio.Protocol]:
        """A factory of aiohttp's protocol behind this guard (for :class:`GuardedListener`)."""
        return lambda: _GuardedProtocol(self, server)


class _GuardedProtocol(asyncio.Protocol):
    """Forwards every event to aiohttp's protocol and tells the guard what happened."""

    def __init__(self, guard: ConnectionGuard, server: web.Server) -> None:
        self._guard = guard
        self._inner: asyncio.Protocol = server()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._guard.admit(self._transport)  # type: ignore[arg-type]
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._transport is not None:
            self._guard.data_received(self._transport)
        self._inner.data_received(data)  # type: ignore[attr-defined]

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()  # type: ignore[attr-defined]

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._guard.connection_lost(self._transport)
        self._inner.connection_lost(exc)


class GuardedListener:
    """A listening socket that accepts only while the guard has room (see the module text)."""

    def __init__(
        self,
        guard: ConnectionGuard,
        protocol_factory: Callable[[], asyncio.Protocol],
        host: str,
        port: int,
    ) -> None:
        self.guard = guard
        self._factory = protocol_factory
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        self._sock = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
        self._sock.setblocking(False)
        self.port = int(self._sock.getsockname()[1])
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reading = False
        self._tasks: set[asyncio.Task] = set()

    def start(self) -> None:
        """Start accepting (inside the running event loop)."""
        self._loop = asyncio.get_running_loop()
        self.guard.on_room = self._resume
        self._resume()

    def _resume(self) -> None:
        if not self._reading and self._loop is not None and self._sock.fileno() >= 0:
            self._loop.add_reader(self._sock.fileno(), self._accept)
            self._reading = True

    def _pause(self) -> None:
        if self._reading and self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
            self._reading = False

    def _accept(self) -> None:
        assert self._loop is not None
        for _ in range(ACCEPT_BATCH):
            if not self.guard.has_room():
                if self.guard.room_coming() or self.guard.make_room():
                    self._pause()  # resumed when sockets close, or new ones can be evicted
                    return
                self._refuse_one()
                return
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as err:  # out of descriptors or buffers: wait a little
                log.warning("accept failed (%s); pausing %.1f s", err, ACCEPT_RETRY_S)
                self._pause()
                self._loop.call_later(ACCEPT_RETRY_S, self._resume)
                return
            conn.setblocking(False)
            self.guard.pending += 1
            task = self._loop.create_task(self._connect(conn))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _refuse_one(self) -> None:
        """Every connection is being answered: accept one newcomer and close it at once."""
        try:
            conn, _ = self._sock.accept()
        except OSError:
            return
        conn.close()
        self.guard.counts["refused"] += 1

    async def _connect(self, conn: socket.socket) -> None:
        assert self._loop is not None
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except (OSError, RuntimeError):
            self.guard.pending = max(0, self.guard.pending - 1)
            conn.close()

    async def close(self) -> None:
        """Stop accepting and close the listening socket."""
        self._pause()
        self.guard.on_room = None
        for task in list(self._tasks):
            task.cancel()
        self._sock.close()


async def read_body(request: web.Request, timeout_s: float) -> bytes:
    """The request body, or ``asyncio.TimeoutError`` when it is not in within ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        return await request.read()
