"""The Makefile: ``make help`` lists everything, and a hyperopt parameter file is announced.

The strategy targets run here with a stand-in ``python`` (``BIN`` points at it and ``VENV`` at
a set-up marker), so the real recipes run, in order, without starting Freqtrade.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAKEFILE = (REPO / "Makefile").read_text()
STRATEGY_TARGETS = ("demo", "backtest", "hyperopt", "plot")


def make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_make_help_lists_every_target_and_variable_with_a_description() -> None:
    result = make("help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    targets = re.findall(r"^([a-z][a-z0-9-]*):(?!=)", MAKEFILE, flags=re.M)
    variables = re.findall(r"^([A-Z_][A-Z0-9_]*) *\?=", MAKEFILE, flags=re.M)
    assert {"lint", "format", "clean", "reset-params", "bench"} <= set(targets)
    assert {"PAIR", "DATADIR", "VENUE_PORT", "PLOT_TIMERANGE", "BENCH"} <= set(variables)
    for target in targets:
        assert re.search(rf"^  make {re.escape(target)} +\S", out, flags=re.M), target
    for variable in variables:
        line = re.search(rf"^  {variable} +(.+) \[(.*)\]$", out, flags=re.M)
        assert line and line.group(1).strip(), variable
    assert re.search(r"^  VENUE_PORT +.+ \[8090\]$", out, flags=re.M)  # the value in force
    assert re.search(r"^  PAIR +.+ \[BTC/USDT\]$", make("help", "PAIR=BTC/USDT").stdout, re.M)


@pytest.fixture
def stand_in(tmp_path: Path) -> dict[str, str]:
    """``BIN`` with a ``python`` that prints its arguments, and a set-up ``VENV``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = bin_dir / "python"
    python.write_text('#!/bin/sh\necho "ran: $*"\n')
    python.chmod(0o755)
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".installed").touch()
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    return {"BIN": str(bin_dir), "VENV": str(venv), "STRATEGY_PATH": str(strategies)}


def run_target(target: str, stand_in: dict[str, str]) -> list[str]:
    result = make(target, *(f"{k}={v}" for k, v in stand_in.items()), "STRATEGY=FlashStrategy")
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if not line.startswith(("  ", "\t"))]


@pytest.mark.parametrize("target", STRATEGY_TARGETS)
def test_a_parameter_file_in_use_is_said_first(target: str, stand_in: dict[str, str]) -> None:
    quiet = run_target(target, stand_in)
    assert not any("hyperopt parameters" in line for line in quiet)
    params = Path(stand_in["STRATEGY_PATH"]) / "FlashStrategy.json"
    params.write_text('{"strategy_name": "FlashStrategy", "params": {}}')
    lines = run_target(target, stand_in)
    assert lines[0].startswith(
        f"make {target}: FlashStrategy runs with the hyperopt parameters in {params} (written "
    )
    assert lines[0].endswith(
        "not the defaults in its code; make reset-params STRATEGY=FlashStrategy removes them"
    )
    assert any(line.startswith("ran: -m trading_agent.launch.") for line in lines[1:])


def test_reset_params_removes_the_file_and_says_so(stand_in: dict[str, str]) -> None:
    params = Path(stand_in["STRATEGY_PATH"]) / "FlashStrategy.json"
    params.write_text("{}")
    (removed,) = run_target("reset-params", stand_in)
    assert removed == f"removed {params}: FlashStrategy runs on the defaults in its code"
    assert not params.exists()
    (again,) = run_target("reset-params", stand_in)
    assert again.startswith(f"no parameter file {params}: FlashStrategy already runs")


def test_bench_takes_one_benchmark_by_name(stand_in: dict[str, str]) -> None:
    lines = run_target("bench", {**stand_in, "BENCH": "sessions"})
    assert lines[-1] == "ran: -m bench.run_all sessions"


def _strategy_of(target: str, stand_in: dict[str, str], *args: str, **env: str) -> str:
    """The strategy ``make -n TARGET`` would run (the recipe's ``STRATEGY=`` or
    ``--strategy``)."""
    given = {k: v for k, v in stand_in.items() if k != "STRATEGY_PATH"}
    result = make("-n", target, *(f"{k}={v}" for k, v in given.items()), *args, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"(?:STRATEGY=|--strategy )([A-Za-z]+)", result.stdout)
    assert found, result.stdout
    return found.group(1)


@pytest.mark.parametrize("target", ["demo", "walkforward"])
def test_demo_and_walkforward_run_the_main_strategy_unless_told(
    target: str, stand_in: dict[str, str]
) -> None:
    clean = {k: v for k, v in os.environ.items() if k != "STRATEGY"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "environ", clean)
        assert _strategy_of(target, stand_in) == "RegimeStrategy"
        assert _strategy_of(target, stand_in, "STRATEGY=FlashStrategy") == "FlashStrategy"
        assert _strategy_of(target, stand_in, STRATEGY="SampleStrategy") == "SampleStrategy"
        assert _strategy_of(target, stand_in, "MAIN_STRATEGY=FlashStrategy") == "FlashStrategy"
        # the 5m jobs keep their own default
        assert _strategy_of("backtest", stand_in) == "EnhancedFlashStrategy"


@pytest.mark.parametrize("target", ["backtest", "hyperopt", "plot"])
def test_the_strategy_declares_its_own_timeframe(target: str, stand_in: dict[str, str]) -> None:
    """No ``--timeframe`` forced on Freqtrade: RegimeStrategy runs on 1h, the flash ones 5m."""
    result = make("-n", target, *(f"{k}={v}" for k, v in stand_in.items()))
    assert result.returncode == 0, result.stderr
    assert "--timeframe" not in result.stdout and "--strategy " in result.stdout
