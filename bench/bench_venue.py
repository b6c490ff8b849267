"""Benchmark: the local venue's latency and throughput over real HTTP on loopback.

Starts ``ta-venue --replay`` in a separate process (the console script), then times sequential
keep-alive requests from one ``http.client`` connection: ``depth`` (limit 100) and ``klines``
(limit 1000, 5m). Bounded in count and in time (about 20 s in all).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MAX_SECONDS_PER_CASE = 8.0
KLINES = "/api/v3/klines?interval=5m&limit=1000"
RECORDING_START = 1_704_067_200_000  # 2024-01-01T00:00Z


def _datadir() -> Path:
    env = os.environ.get("TA_SHARED_DATA")
    base = Path(env) if env else REPO.parent / "shared" / "data"
    return base / "binance"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_up(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ta-venue exited early with code {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v3/ping")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"ta-venue on port {port} did not answer within {timeout} s")


def _offset_ms(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/_venue/state")
    state = json.loads(conn.getresponse().read())
    conn.close()
    return int(state["offset_ms"])


def _time_requests(port: int, paths: list[str], count: int, warmup: int = 20) -> np.ndarray:
    """Latencies in ms of up to ``count`` sequential GETs cycling through ``paths``.

    Stops after the time bound. ``warmup`` requests (of the first path) are not timed.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(warmup):
        conn.request("GET", paths[0])
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{paths[0]} answered {resp.status}")
    out = []
    stop = time.perf_counter() + MAX_SECONDS_PER_CASE
    for i in range(count):
        path = paths[i % len(paths)]
        t0 = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        out.append((time.perf_counter() - t0) * 1000.0)
        if resp.status != 200 or len(body) < 3:
            raise RuntimeError(f"{path} answered {resp.status} with {len(body)} bytes")
        if t0 > stop:
            break
    conn.close()
    return np.asarray(out)


def _rows(name: str, lat: np.ndarray, p99_target: str, note: str) -> list[dict]:
    total_s = lat.sum() / 1000.0
    return [
        {
            "name": f"venue {name} throughput",
            "value": round(len(lat) / total_s, 1),
            "unit": "req/s",
            "target": "",
            "note": f"{len(lat)} sequential keep-alive requests; {note}",
        },
        {
            "name": f"venue {name} p50",
            "value": round(float(np.percentile(lat, 50)), 3),
            "unit": "ms",
            "target": "",
            "note": note,
        },
        {
            "name": f"venue {name} p99",
            "value": round(float(np.percentile(lat, 99)), 3),
            "unit": "ms",
            "target": p99_target,
            "note": note,
        },
    ]


def run() -> list[dict]:
    """Start ``ta-venue --replay`` as a subprocess and measure depth and klines over HTTP."""
    datadir = _datadir()
    if not datadir.is_dir():
        return [
            {
                "name": "venue benchmark",
                "value": float("nan"),
                "unit": "",
                "target": "",
                "note": f"skipped: recorded data not found in {datadir}",
            }
        ]
    exe = shutil.which("ta-venue", path=str(Path(sys.executable).parent)) or "ta-venue"
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--datadir", str(datadir), "--port", str(port), "--replay"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_up(port, proc)
        depth = _time_requests(port, ["/api/v3/depth?symbol=BTCUSDT&limit=100"], 3000)
        # Uncached: every limit is new, so the book is modelled and rendered anew each time.
        depth_cold = _time_requests(
            port,
            [f"/api/v3/depth?symbol=ETHUSDT&limit={n}" for n in range(101, 401)],
            300,
            warmup=0,
        )
        klines = _time_requests(port, [KLINES + "&symbol=BTCUSDT"], 1000)
        # Cold: every request asks for 1000 candles that no earlier request rendered.
        offset = _offset_ms(port)  # request times are served (shifted) times
        cold_paths = [  # 1000-candle windows of the 60 days replayed before D
            f"{KLINES}&symbol={symbol}&startTime={offset + RECORDING_START + k * 300_000_000}"
            for symbol in ("ETHUSDT", "SOLUSDT")
            for k in range(15)
        ]
        cold = _time_requests(port, cold_paths, len(cold_paths), warmup=0)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return (
        _rows("depth(limit=100)", depth, "< 20 ms", "BTCUSDT, replay mode")
        + _rows("depth uncached(101-400)", depth_cold, "< 20 ms", "ETHUSDT, book modelled anew")
        + _rows("klines(5m, limit=1000)", klines, "", "BTCUSDT, replay, rows already rendered")
        + _rows("klines cold(5m, 1000)", cold, "", "ETH/SOL history, every row rendered anew")
    )


if __name__ == "__main__":
    for row in run():
        head = f"{row['name']:<36} {row['value']:>9} {row['unit']:<6} {row['target']:<8}"
        print(head, row["note"])
