"""The venue's control paths: fault injection only on request, and no local paths in answers."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.freqtrade_harness import free_port
from trading_agent.launch.processes import running_venue_process
from trading_agent.venue.server import running_venue


def call(url: str, path: str, method: str = "GET", body: bytes | None = None) -> tuple[int, str]:
    headers = {"X-MEXC-APIKEY": "k", "Content-Type": "application/json"}
    req = urllib.request.Request(url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture(scope="module")
def plain_url(binance_dir: Path) -> Iterator[str]:
    with running_venue(binance_dir, replay=True) as url:
        yield url


def test_fault_control_is_absent_unless_asked_for(plain_url: str) -> None:
    fault = json.dumps({"kind": "http_error", "status": 503}).encode()
    for method, body in (("GET", None), ("POST", fault), ("DELETE", None)):
        status, text = call(plain_url, "/_venue/faults", method, body)
        assert status == 404, (method, status)
        assert json.loads(text) == {"code": 404, "msg": "Not Found: /_venue/faults"}
    assert call(plain_url, "/api/v3/ping")[0] == 200  # the POST set nothing
    state = json.loads(call(plain_url, "/_venue/state")[1])
    assert state["fault_control"] is False and state["faults"] == []


def test_console_script_serves_fault_control_when_asked(binance_dir: Path) -> None:
    with running_venue_process(binance_dir, free_port(), False, faults=True) as url:
        fault = json.dumps({"kind": "http_error", "status": 503, "endpoints": ["ping"]})
        assert call(url, "/_venue/faults", "POST", fault.encode())[0] == 200
        assert call(url, "/api/v3/ping")[0] == 503
        assert json.loads(call(url, "/_venue/state")[1])["fault_control"] is True


def signed(query: str) -> str:
    return f"{query}&timestamp={int(time.time() * 1000)}&signature=0"


def every_answer(url: str) -> list[tuple[str, int, str]]:
    """Answers of every endpoint and control path, good and bad requests alike."""
    gets = [
        "/api/v3/ping",
        "/api/v3/time",
        "/api/v3/exchangeInfo",
        "/api/v3/defaultSymbols",
        "/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=3",
        "/api/v3/klines?symbol=BTCUSDT&interval=1W",
        "/api/v3/depth?symbol=BTCUSDT&limit=5",
        "/api/v3/trades?symbol=BTCUSDT&limit=3",
        "/api/v3/aggTrades?symbol=BTCUSDT&limit=3",
        "/api/v3/ticker/24hr",
        "/api/v3/ticker/price",
        "/api/v3/ticker/bookTicker",
        "/api/v3/avgPrice?symbol=BTCUSDT",
        "/api/v3/avgPrice?symbol=NOPE",
        "/api/v1/contract/detail",
        "/api/v1/contract/ping",
        signed("/api/v3/tradeFee?symbol=BTCUSDT"),
        signed("/api/v3/capital/config/getall?x=1"),
        "/api/v3/tradeFee?symbol=BTCUSDT",
        "/nowhere",
        "/_venue/state",
        "/_venue/faults",
    ]
    answers = [(path, *call(url, path)) for path in gets]
    order = "/api/v3/order{}?symbol=ETHUSDT&side=BUY&type=MARKET&quantity=1"
    for path, method, body in [
        (signed(order.format("/test")), "POST", None),
        (signed(order.format("")), "POST", None),
        ("/_venue/faults", "POST", json.dumps({"kind": "stale", "duration_s": 1}).encode()),
        ("/_venue/faults", "POST", b"{not json"),
        ("/_venue/faults?kind=meteor", "DELETE", None),
        ("/_venue/faults", "DELETE", None),
        ("/api/v3/klines", "POST", None),
    ]:
        answers.append((f"{method} {path}", *call(url, path, method, body)))
    return answers


def test_no_answer_shows_a_local_path(binance_dir: Path) -> None:
    forbidden = {
        str(binance_dir),
        str(binance_dir.resolve()),
        str(REPO_ROOT),
        str(Path.home()),
    }
    forbidden = {p for p in forbidden if len(p) > 1}  # a home of "/" would match everything
    with running_venue(binance_dir, replay=True, faults=True) as url:
        answers = every_answer(url)
    statuses = {status for _, status, _ in answers}
    assert {200, 400, 404, 405} <= statuses  # good and bad requests were both asked
    for what, _, text in answers:
        for path in forbidden:
            assert path not in text, f"{what} shows {path}"
            assert json.dumps(path)[1:-1] not in text, f"{what} shows {path} (JSON-escaped)"
