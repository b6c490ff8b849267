"""The launchers behind ``make demo/backtest/hyperopt/plot/venue``: data folder, ports, errors.

A missing or empty data folder, or a venue that cannot start, ends a run with one line naming
the cause and what to do (exit code 2), never a traceback. Every run writes its own offline
overlay for its venue port; the demo prints the REST API's real URL and says when it answers.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.freqtrade_harness import REPO, Api, free_port
from tests.make_harness import make_env, run_make
from trading_agent.launch.demo import DEFAULT_STRATEGY, api_address, api_base_url
from trading_agent.launch.offline import OFFLINE_OVERLAY

PYTHON = sys.executable


def one_line_refusal(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """Assert a run was refused with exit code 2 in one line holding ``words``; return it."""
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    lines = [
        line
        for line in proc.stderr.splitlines()
        if line.strip() and not line.startswith("make: ***")  # make's own exit line
    ]
    assert len(lines) == 1, lines
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("module", ["offline", "demo"])
@pytest.mark.parametrize("kind", ["missing", "empty", "port"])
def test_launchers_refuse_a_bad_data_folder_or_port_in_one_line(
    module: str, kind: str, tmp_path: Path
) -> None:
    folder = tmp_path / "data"
    if kind == "empty":
        folder.mkdir()
    args = ["--port", "70000"] if kind == "port" else ["--datadir", str(folder)]
    args += ["--", "true"] if module == "offline" else []
    proc = subprocess.run(
        [PYTHON, "-m", f"trading_agent.launch.{module}", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if kind == "port":
        one_line_refusal(proc, "venue port 70000", "VENUE_PORT")
    else:
        one_line_refusal(proc, str(folder), "make data", "sample")


@pytest.mark.parametrize("target", ["demo", "backtest", "hyperopt", "plot", "venue"])
def test_every_make_target_refuses_a_missing_datadir_in_one_line(
    target: str, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere"
    proc = run_make(target, f"DATADIR={missing}", timeout=120)
    one_line_refusal(proc, str(missing))


def test_a_venue_that_cannot_start_is_one_line_with_its_reason(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [PYTHON, "-m", "trading_agent.launch.offline", "--port", str(port), "--", "true"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    line = one_line_refusal(proc, f"port {port}", "did not start")
    assert "address" in line.lower(), line  # the venue's own reason: the address is in use


def test_offline_runner_writes_the_overlay_of_its_own_port(tmp_path: Path) -> None:
    """The command reaches the venue through the overlay written for this run's port."""
    port = free_port()
    overlay = tmp_path / "run" / "overlay.json"
    probe = (
        "import json, sys, urllib.request\n"
        "o = json.load(open(sys.argv[1]))\n"
        "url = o['exchange']['ccxt_config']['urls']['api']['spot']['public']\n"
        "assert url == o['exchange']['ccxt_async_config']['urls']['api']['spot']['public']\n"
        "print(url, urllib.request.urlopen(url + '/api/v3/ping').read().decode())\n"
    )
    proc = subprocess.run(
        [
            PYTHON,
            "-m",
            "trading_agent.launch.offline",
            "--port",
            str(port),
            "--overlay",
            str(overlay),
            "--",
            PYTHON,
            "-c",
            probe,
            str(overlay),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"http://127.0.0.1:{port} {{}}" in proc.stdout
    written = json.loads(overlay.read_text())
    committed = json.loads(OFFLINE_OVERLAY.read_text())
    assert written["exchange"]["pair_whitelist"] == committed["exchange"]["pair_whitelist"]
    assert "8090" in json.dumps(committed["exchange"]["ccxt_config"])  # the documented default
    assert "8090" not in json.dumps(written["exchange"]) or port == 8090


def test_make_passes_the_ports_to_every_target() -> None:
    venue, api = "18201", "18202"
    demo = run_make("-n", "demo", f"VENUE_PORT={venue}", f"API_PORT={api}", timeout=60).stdout
    assert f"VENUE_PORT={venue}" in demo and f"FREQTRADE__API_SERVER__LISTEN_PORT={api}" in demo
    env = make_env(FREQTRADE__API_SERVER__LISTEN_PORT="18203")
    demo = run_make("-n", "demo", timeout=60, env=env).stdout
    assert "FREQTRADE__API_SERVER__LISTEN_PORT=18203" in demo
    for target in ("backtest", "hyperopt", "plot"):
        out = run_make("-n", target, f"VENUE_PORT={venue}", timeout=60).stdout
        overlay = f"user_data/run/config.offline-{venue}.json"
        assert f"--port {venue} --overlay {overlay}" in out, out
        assert f"-c {overlay}" in out and "config.offline.json" not in out, out
    venue_cmd = run_make("-n", "venue", f"VENUE_PORT={venue}", timeout=60).stdout
    assert f"--port {venue}" in venue_cmd


def test_api_address_reads_the_environment_over_the_config() -> None:
    config = {"api_server": {"listen_ip_address": "127.0.0.1", "listen_port": 8080}}
    assert api_address({}, config) == ("127.0.0.1", 8080)
    env = {
        "FREQTRADE__API_SERVER__LISTEN_PORT": "18080",
        "FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS": "0.0.0.0",
    }
    host, port = api_address(env, config)
    assert (host, port) == ("0.0.0.0", 18080)
    assert api_base_url(host, port) == "http://127.0.0.1:18080"
    with pytest.raises(ValueError, match="'80a'"):
        api_address({"FREQTRADE__API_SERVER__LISTEN_PORT": "80a"}, config)
    with pytest.raises(ValueError, match="70000"):
        api_address({"FREQTRADE__API_SERVER__LISTEN_PORT": "70000"}, config)


@pytest.mark.slow
def test_demo_on_other_ports_serves_the_api_it_prints(tmp_path: Path, binance_dir: Path) -> None:
    """``make demo`` as run by the Makefile, on two free ports instead of 8090 and 8080.

    With ``API_DISABLED=BTCUSDT`` (the venue marks it not tradable through the API), so the
    start-up check has something to say.
    """
    venue_port, api_port = free_port(), free_port()
    env = make_env(
        DATADIR=str(binance_dir),
        VENUE_PORT=str(venue_port),
        FREQTRADE__API_SERVER__LISTEN_PORT=str(api_port),
        API_DISABLED="BTCUSDT",
        FREQTRADE__API_SERVER__USERNAME="demo-test",
        FREQTRADE__API_SERVER__PASSWORD="demo-test-password",
    )
    overlay = tmp_path / "overlay.json"
    demo = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "trading_agent.launch.demo",
            "--db-url",
            f"sqlite:///{tmp_path / 'demo.sqlite'}",
            "--overlay",
            str(overlay),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # Ctrl-C reaches the whole group, as in a terminal
        # and SIGINT is not ignored, as in a terminal: a job that a non-interactive shell starts
        # with `&` (a CI runner's, say) inherits SIGINT ignored, and Ctrl-C never reaches it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = demo.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("REST API "):
                break
        url = f"http://127.0.0.1:{api_port}"
        assert any(line.startswith(f"demo: FreqUI / REST API: {url} ") for line in lines), lines
        venue = f"demo: the venue (http://127.0.0.1:{venue_port}) replays BTC/USDT, ETH/USDT"
        assert any(x.startswith(venue) and "from 2024-08-05 mapped" in x for x in lines), lines
        assert any(f"{url}/api/v1/forceenter" in x for x in lines), lines  # the curl command
        up = re.match(rf"REST API up at {re.escape(url)} with (\w+) \((\d+) s\)", lines[-1])
        assert up and up.group(1) == DEFAULT_STRATEGY == "RegimeStrategy", lines
        with urllib.request.urlopen(f"{url}/api/v1/ping", timeout=10) as resp:
            assert json.load(resp) == {"status": "pong"}
        api = Api(api_port, "demo-test", "demo-test-password")
        # API_DISABLED reached the venue: MEXC's API "may not trade" BTC/USDT, Freqtrade drops it
        assert api("/whitelist")["whitelist"] == ["ETH/USDT"]
        with urllib.request.urlopen(
            f"http://127.0.0.1:{venue_port}/_venue/state", timeout=10
        ) as resp:
            assert json.load(resp)["replay_start"] == "2024-08-05"
        assert str(venue_port) in overlay.read_text()
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        code = demo.wait(timeout=120)  # Freqtrade's orderly shutdown is slow on a busy machine
    assert code == 0  # Ctrl-C is an orderly end of the demo
