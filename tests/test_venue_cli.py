"""The ``ta-venue`` console script: arguments, start-up banner, clean shutdown."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from trading_agent.venue.cli import main, parse_args


def test_arguments_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(["--datadir", "d", "--replay", "--replay-start", "2024-05-01"])
    assert (args.port, args.host, args.replay, str(args.replay_start)) == (
        8765,
        "127.0.0.1",
        True,
        "2024-05-01",
    )
    with pytest.raises(SystemExit):
        parse_args(["--datadir", "d", "--replay", "--replay-start", "01.05.2024"])
    assert "'01.05.2024' is not a date" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--datadir", "d", "--replay-start", "2024-05-01"])  # needs --replay
    with pytest.raises(SystemExit):
        parse_args(["--datadir", "d", "--port", "70000"])
    assert main(["--datadir", str(tmp_path)]) == 2
    assert "holds no" in capsys.readouterr().err


def test_console_script_serves_and_stops_cleanly(binance_dir: Path) -> None:
    exe = shutil.which("ta-venue", path=str(Path(sys.executable).parent))
    assert exe, "the ta-venue console script is not installed"
    proc = subprocess.Popen(
        [exe, "--datadir", str(binance_dir), "--port", "0", "--replay"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = proc.stdout.readline()  # type: ignore[union-attr]
        assert "REPLAY of BTCUSDT, ETHUSDT, SOLUSDT from 2024-03-01" in banner
        url = banner.rsplit(" on ", 1)[1].strip()
        with urllib.request.urlopen(url + "/_venue/state", timeout=10) as resp:
            state = json.load(resp)
        assert state["mode"] == "replay" and state["fault_control"] is False
        with pytest.raises(urllib.error.HTTPError) as no_faults:  # started without --faults
            urllib.request.urlopen(url + "/_venue/faults", timeout=10)
        assert no_faults.value.code == 404
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=15)
    assert code == 0
