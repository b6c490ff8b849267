"""The venue under abuse: read timeouts, the connection cap, and slowloris under ``ulimit -n 1024``.

Raw sockets on loopback play the attacker; probes are plain ``GET /api/v3/ping`` requests on
fresh connections, timed from connect to the end of the answer.
"""

from __future__ import annotations

import contextlib
import json
import resource
import select
import socket
import statistics
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.freqtrade_harness import free_port
from trading_agent.launch.processes import stop_process, venue_command, wait_until_up
from trading_agent.venue.cli import parse_args
from trading_agent.venue.connection_guard import FD_HEADROOM, ConnectionLimits
from trading_agent.venue.server import running_venue

HALF_SENT = b"GET /api/v3/ping HTTP/1.1\r\nHost: venue\r\nX-Slow: "
PING = b"GET /api/v3/ping HTTP/1.1\r\nHost: venue\r\nConnection: close\r\n\r\n"


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def probe(addr: tuple[str, int], timeout: float = 3.0) -> float | None:
    """Seconds a ping on a new connection takes, None when it gets no 200 in time."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(addr, timeout=timeout) as sock:
            sock.sendall(PING)
            answer = sock.recv(4096)
    except OSError:
        return None
    return time.monotonic() - t0 if answer.startswith(b"HTTP/1.1 200") else None


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and the seconds that took."""
    sock.settimeout(timeout)
    t0 = time.monotonic()
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        pytest.fail(f"the venue kept the connection open for {timeout} s")
    except ConnectionResetError:
        pass
    return data, time.monotonic() - t0


def state(url: str) -> dict:
    with urllib.request.urlopen(url + "/_venue/state", timeout=10) as resp:
        return json.load(resp)


@pytest.fixture(scope="module")
def quick_url(binance_dir: Path) -> Iterator[str]:
    limits = ConnectionLimits(
        header_timeout_s=0.6, body_timeout_s=0.6, idle_timeout_s=1.5, max_connections=12
    )
    with running_venue(binance_dir, limits=limits) as url:
        yield url


def test_half_sent_request_head_is_answered_408_and_closed(quick_url: str) -> None:
    with socket.create_connection(address(quick_url)) as sock:
        sock.sendall(HALF_SENT)
        data, waited = read_until_closed(sock, timeout=5)
    assert data.startswith(b"HTTP/1.1 408 ")
    assert 0.5 <= waited < 2.0
    with socket.create_connection(address(quick_url)) as silent:  # sends nothing at all
        data, waited = read_until_closed(silent, timeout=5)
    assert data == b"" and waited < 2.0


def test_idle_keep_alive_outlives_the_header_timeout_then_closes(quick_url: str) -> None:
    with socket.create_connection(address(quick_url)) as sock:
        sock.sendall(b"GET /api/v3/ping HTTP/1.1\r\nHost: venue\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(0.9)  # past the header timeout: an idle connection is not a slow request
        sock.sendall(b"GET /api/v3/time HTTP/1.1\r\nHost: venue\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        data, waited = read_until_closed(sock, timeout=5)
    assert data == b"" and 1.2 <= waited < 3.0


def test_slow_body_is_answered_408(quick_url: str) -> None:
    head = (
        b"POST /api/v3/order/test HTTP/1.1\r\nHost: venue\r\nX-MEXC-APIKEY: k\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
    )
    with socket.create_connection(address(quick_url)) as sock:
        sock.sendall(head + b"symbol=ETH")
        data, waited = read_until_closed(sock, timeout=5)
    assert data.startswith(b"HTTP/1.1 408 ") and b"body read timeout" in data
    assert 0.5 <= waited < 2.5  # the answer at 0.6 s, the close at most 1 s later


def test_cap_evicts_the_longest_waiting_and_never_a_request_in_progress(
    quick_url: str,
) -> None:
    addr = address(quick_url)
    cap = state(quick_url)["connections"]["max_connections"]
    attackers = [socket.create_connection(addr) for _ in range(cap)]
    try:
        for sock in attackers:
            sock.sendall(HALF_SENT)
        time.sleep(0.1)
        assert probe(addr) is not None  # room was made for it
        first, _ = read_until_closed(attackers[0], timeout=1)  # the oldest went
        assert first == b""
        counts = state(quick_url)["connections"]
        assert counts["evicted"] >= 1 and counts["open"] <= cap
    finally:
        for sock in attackers:
            sock.close()
    time.sleep(0.8)  # let the header timeouts clear what is left
    # Requests being answered are never evicted: fill the cap with POSTs whose bodies are
    # still coming (their handlers are running), then a newcomer is turned away.
    head = (
        b"POST /api/v3/order/test HTTP/1.1\r\nHost: venue\r\nX-MEXC-APIKEY: k\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n\r\n"
    )
    busy = [socket.create_connection(addr) for _ in range(cap)]
    try:
        for sock in busy:
            sock.sendall(head)
        time.sleep(0.1)
        assert probe(addr, timeout=0.4) is None
        for sock in busy:
            sock.sendall(b"a=b&")  # the bodies complete: each request is answered
        answers = [sock.recv(4096) for sock in busy]
        assert all(a.startswith(b"HTTP/1.1 400 ") for a in answers)  # no symbol: MEXC error
    finally:
        for sock in busy:
            sock.close()
    assert state(quick_url)["connections"]["refused"] >= 1


def test_limit_options_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(["--datadir", "d", "--header-timeout", "3", "--max-connections", "50"])
    assert (args.header_timeout, args.max_connections) == (3.0, 50)
    with pytest.raises(ValueError, match="header_timeout_s 0"):
        ConnectionLimits(header_timeout_s=0)
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    with pytest.raises(ValueError, match="raise ulimit -n"):
        ConnectionLimits(max_connections=soft)
    assert ConnectionLimits().cap <= soft - FD_HEADROOM


def _raise_own_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"the attacker needs {needed} descriptors; the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def _venue_under_ulimit_1024() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))


class Slowloris:
    """Holds ``count`` half-sent requests open; with ``reopen``, reopens every one closed."""

    def __init__(self, addr: tuple[str, int], count: int, reopen: bool) -> None:
        self.addr = addr
        self.socks: dict[int, socket.socket] = {}
        self.poll = select.poll()
        self.reopened = 0
        self._stop = threading.Event()
        for _ in range(count):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(addr)
            self.socks[sock.fileno()] = sock
        pending = dict(self.socks)
        writable = select.poll()
        for fd in pending:
            writable.register(fd, select.POLLOUT)
        deadline = time.monotonic() + 10
        while pending and time.monotonic() < deadline:
            for fd, _ in writable.poll(200):
                writable.unregister(fd)
                sock = pending.pop(fd)
                with contextlib.suppress(OSError):
                    sock.send(HALF_SENT)
        for fd in self.socks:
            self.poll.register(fd, select.POLLIN)
        self._thread = threading.Thread(target=self._hold, daemon=True)
        if reopen:
            self._thread.start()

    def _hold(self) -> None:
        while not self._stop.is_set():
            for fd, _ in self.poll.poll(100):
                self.poll.unregister(fd)
                self.socks.pop(fd).close()
                sock = socket.socket()
                sock.settimeout(1)
                try:
                    sock.connect(self.addr)
                    sock.sendall(HALF_SENT)
                except OSError:
                    sock.close()
                    continue
                self.reopened += 1
                self.socks[sock.fileno()] = sock
                self.poll.register(sock.fileno(), select.POLLIN)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for sock in self.socks.values():
            sock.close()


@pytest.mark.parametrize("reopen", [False, True], ids=["hold", "reopen"])
def test_slowloris_under_ulimit_1024_still_answers_probes(binance_dir: Path, reopen: bool) -> None:
    _raise_own_fd_limit(1100 + 400)
    port = free_port()
    proc = subprocess.Popen(
        venue_command(binance_dir, port, False),
        preexec_fn=_venue_under_ulimit_1024,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    attack = None
    try:
        wait_until_up(url + "/api/v3/ping", proc=proc)
        attack = Slowloris(("127.0.0.1", port), 1100, reopen)
        latencies = []
        for _ in range(20):
            latencies.append(probe(("127.0.0.1", port)))
            time.sleep(0.2)
        counts = state(url)["connections"]
    finally:
        if attack is not None:
            attack.close()
        stop_process(proc, grace=5)
    stderr = proc.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
    answered = [x for x in latencies if x is not None]
    kind = "reopening" if reopen else "held"
    print(
        f"slowloris 1100 ({kind}) under ulimit -n 1024: "
        f"{len(answered)}/{len(latencies)} probes answered, "
        f"median {statistics.median(answered) * 1000:.1f} ms, max {max(answered) * 1000:.1f} ms; "
        f"attack sockets reopened {attack.reopened if attack else 0}; venue {counts}"
    )
    assert "Too many open files" not in stderr
    assert len(answered) == len(latencies)  # every probe answered
    assert max(answered) < 1.5
    assert statistics.median(answered) < 0.25
    assert counts["evicted"] > 0 and counts["open"] <= counts["max_connections"] < 1024
