"""docker-compose.yml and the Dockerfile stay valid and identical in intent to the tested
commands (no Docker engine runs here, so the files are checked, not run)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def freqtrade_pin() -> str:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = next(d for d in deps if d.startswith("freqtrade"))
    return pin.split("==")[1].split()[0]


def test_dockerfile_uses_the_tested_freqtrade_image() -> None:
    first = (REPO / "Dockerfile").read_text().split("FROM ", 1)[1].split()[0]
    assert first == f"freqtradeorg/freqtrade:{freqtrade_pin()}"


def test_compose_service_is_locked_down_and_runs_the_tested_command() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    (service,) = compose["services"].values()
    assert service["build"] == "."
    assert service["image"].endswith(f":{freqtrade_pin()}")
    assert service["ports"] == ["127.0.0.1:8080:8080"]  # host loopback only
    assert service["env_file"] == [".env"]
    assert ".env" in (REPO / ".gitignore").read_text().split()
    assert "./user_data:/freqtrade/user_data" in service["volumes"]
    assert "api/v1/ping" in " ".join(service["healthcheck"]["test"])
    command = shlex.split(service["command"])
    assert command[:2] == ["trade", "--dry-run"]
    assert command[command.index("-c") + 1] == "user_data/config.json"
    strategy = command[command.index("--strategy") + 1]
    assert (REPO / "user_data" / "strategies" / f"{strategy}.py").exists()
    readme = (REPO / "README.md").read_text()
    tested = f"freqtrade trade --dry-run -c user_data/config.json --strategy {strategy}"
    assert tested in re.sub(r"\s*\\\n\s*", " ", readme)


def test_env_example_names_every_secret_without_values() -> None:
    lines = [
        ln
        for ln in (REPO / ".env.example").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    values = dict(ln.split("=", 1) for ln in lines)
    assert {
        "FREQTRADE__API_SERVER__PASSWORD",
        "FREQTRADE__API_SERVER__JWT_SECRET_KEY",
        "FREQTRADE__TELEGRAM__TOKEN",
        "OPENROUTER_API_KEY",
    } <= set(values)
    assert all(v in ("", "false") for v in values.values())
