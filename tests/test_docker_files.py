"""The Docker files stay valid, safe and identical in intent to the tested commands.

No Docker engine runs here, so the image is not built: the Dockerfile and compose files are
checked (and parsed by ``docker-compose config`` where that client is installed), and the
image's entry point, a POSIX shell script, is run with a stand-in ``freqtrade``.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"
LOGIN = (
    "FREQTRADE__API_SERVER__USERNAME",
    "FREQTRADE__API_SERVER__PASSWORD",
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY",
)


def project_requirements() -> list[Requirement]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return [Requirement(d.split("#")[0]) for d in deps]


def freqtrade_pin() -> str:
    (pin,) = [str(r.specifier) for r in project_requirements() if r.name == "freqtrade"]
    return pin.removeprefix("==")


def installed_closure(name: str, extras: tuple[str, ...]) -> set[str]:
    """Every distribution ``name[extras]`` needs, from the installed packages' metadata."""
    seen: set[tuple[str, tuple[str, ...]]] = set()
    todo = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        key = (canonicalize_name(current), wanted)
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = md.distribution(current).requires or []
        except md.PackageNotFoundError:
            continue
        for text in requires:
            req = Requirement(text)
            markers = [{"extra": extra} for extra in (wanted or ("",))]
            if req.marker is None or any(req.marker.evaluate(m) for m in markers):
                todo.append((req.name, tuple(sorted(req.extras))))
    return {name for name, _ in seen}


def compose(name: str = "docker-compose.yml") -> dict:
    return yaml.safe_load((REPO / name).read_text())


def env_example() -> dict[str, str]:
    lines = [
        ln
        for ln in (REPO / ".env.example").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    return dict(ln.split("=", 1) for ln in lines)


# -- the image ------------------------------------------------------------------------------


def test_dockerfile_uses_the_tested_freqtrade_image() -> None:
    first = (REPO / "Dockerfile").read_text().split("FROM ", 1)[1].split()[0]
    assert first == f"freqtradeorg/freqtrade:{freqtrade_pin()}"


def test_the_image_gets_only_what_freqtrade_lacks_and_keeps_its_own_packages() -> None:
    """The official image holds Freqtrade with its requirements and hyperopt's (its Dockerfile
    installs requirements-hyperopt.txt); our package is installed with --no-deps and only the
    project's requirements outside that set are added, at our pins, with every package the
    image has as a constraint."""
    dockerfile = (REPO / "Dockerfile").read_text()
    runs = " ".join(dockerfile.replace("\\\n", " ").split("\nRUN ")[1:])
    added = dict(re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', runs))
    image_has = installed_closure("freqtrade", ("hyperopt",))
    ours = {canonicalize_name(r.name): r for r in project_requirements()}
    lacking = {name for name in ours if name not in image_has and name != "freqtrade"}
    # as Freqtrade 2026.9's metadata says today (matplotlib: the walk-forward report's chart)
    assert lacking == {"openai", "pluggy", "matplotlib"}
    assert {canonicalize_name(n) for n in added} == lacking
    for name, version in added.items():
        assert str(ours[canonicalize_name(name)].specifier) == f"=={version}", name
    assert "pip freeze --exclude-editable > /tmp/image-constraints.txt" in runs
    assert "-c /tmp/image-constraints.txt" in runs
    assert "pip install --user --no-cache-dir --no-deps ." in runs
    for folder in ("trading_agent", "plugins"):
        assert f"COPY --chown=ftuser:ftuser {folder} ./{folder}" in dockerfile
    for name in ("venue", "launch"):  # moved into trading_agent/
        assert f" {name} ./{name}" not in dockerfile
    assert 'ENTRYPOINT ["/freqtrade/trading-agent/docker/entrypoint.sh"]' in dockerfile
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".env", ".git", "user_data"} <= set(ignored)


# -- the entry point ------------------------------------------------------------------------


@pytest.fixture
def fake_freqtrade(tmp_path: Path) -> Path:
    """A ``freqtrade`` that prints its arguments and the environment it was given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "freqtrade"
    script.write_text(
        '#!/bin/sh\nprintf "args:%s\\n" "$*"\nenv | grep -E \'^(FREQTRADE__|OPENROUTER_)\' | sort\n'
    )
    script.chmod(0o755)
    return bin_dir


def entrypoint(bin_dir: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **env}
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args], env=base, capture_output=True, text=True, timeout=30
    )


def test_a_missing_login_stops_at_once_with_one_line(fake_freqtrade: Path) -> None:
    result = entrypoint(
        fake_freqtrade,
        ["trade", "--dry-run"],
        FREQTRADE__API_SERVER__USERNAME="freqtrader",
        FREQTRADE__API_SERVER__PASSWORD="",  # blank, as copied from .env.example
    )
    assert result.returncode == 78, result
    assert result.stdout == ""  # freqtrade never ran
    (line,) = result.stderr.splitlines()
    assert "FREQTRADE__API_SERVER__PASSWORD FREQTRADE__API_SERVER__JWT_SECRET_KEY in .env" in line
    assert "FREQTRADE__API_SERVER__USERNAME" not in line


def test_a_set_login_runs_freqtrade_without_the_blank_settings(fake_freqtrade: Path) -> None:
    login = {name: f"value-of-{name.lower()}-with-32-characters" for name in LOGIN}
    result = entrypoint(
        fake_freqtrade,
        ["trade", "--dry-run", "-c", "user_data/config.json"],
        **login,
        FREQTRADE__TELEGRAM__TOKEN="",
        OPENROUTER_API_KEY="",
        FREQTRADE__TELEGRAM__ENABLED="false",
    )
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == "args:trade --dry-run -c user_data/config.json"
    names = {line.split("=", 1)[0] for line in lines[1:]}
    assert names == {*LOGIN, "FREQTRADE__TELEGRAM__ENABLED"}  # blanks removed


def test_commands_other_than_trade_need_no_login(fake_freqtrade: Path) -> None:
    result = entrypoint(fake_freqtrade, ["backtesting", "--help"])
    assert result.returncode == 0 and result.stdout.startswith("args:backtesting --help")


# -- compose --------------------------------------------------------------------------------


def test_compose_service_is_locked_down_and_runs_the_tested_command() -> None:
    (service,) = compose()["services"].values()
    assert service["build"] == "."
    assert service["image"].endswith(f":{freqtrade_pin()}")
    assert service["ports"] == ["127.0.0.1:8080:8080"]  # host loopback only
    assert "env_file" not in service  # valid without .env: compose reads it when it exists
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


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.offline.yml"])
def test_no_restart_loop_and_every_secret_from_the_environment(name: str) -> None:
    for service_name, service in compose(name)["services"].items():
        policy = service["restart"]
        assert re.fullmatch(r"on-failure:[1-3]", policy), (service_name, policy)
        environment = service.get("environment", {})
        for key, value in environment.items():
            if key in env_example():
                assert value == f"${{{key}:-{env_example()[key]}}}", (service_name, key)
    (main,) = compose()["services"].values()
    assert set(env_example()) <= set(main["environment"])
    assert set(LOGIN) <= set(
        compose("docker-compose.offline.yml")["services"]["demo"]["environment"]
    )


def test_env_example_names_every_secret_without_values() -> None:
    values = env_example()
    assert {
        "FREQTRADE__API_SERVER__PASSWORD",
        "FREQTRADE__API_SERVER__JWT_SECRET_KEY",
        "FREQTRADE__TELEGRAM__TOKEN",
        "OPENROUTER_API_KEY",
    } <= set(values)
    assert all(v in ("", "false") for v in values.values())


def test_the_offline_demo_is_the_venue_and_the_bot_on_its_network() -> None:
    services = compose("docker-compose.offline.yml")["services"]
    venue, demo = services["venue"], services["demo"]
    assert venue["entrypoint"] == ["ta-venue"]
    args = venue["command"]
    assert "--replay" in args and args[args.index("--datadir") + 1] == "/data"
    port = args[args.index("--port") + 1]
    # the embedded sample by default: a Docker user needs nothing beside the clone
    assert venue["volumes"] == ["${TA_DEMO_DATA:-./user_data/data/sample/binance}:/data:ro"]
    assert (REPO / "user_data" / "data" / "sample" / "binance" / "BTC_USDT-5m.feather").exists()
    assert args[args.index("--replay-start") + 1] == "${TA_DEMO_REPLAY_START:-2024-08-05}"
    assert venue["ports"] == ["127.0.0.1:8080:8080"]  # the bot's API, on the shared network
    assert "api/v3/ping" in " ".join(venue["healthcheck"]["test"])
    assert demo["network_mode"] == "service:venue"
    assert demo["depends_on"] == {"venue": {"condition": "service_healthy"}}
    command = shlex.split(demo["command"])
    configs = [command[i + 1] for i, arg in enumerate(command) if arg == "-c"]
    assert configs == ["user_data/config.json", "user_data/config.offline.json"]
    overlay = json.loads((REPO / "user_data" / "config.offline.json").read_text())
    urls = overlay["exchange"]["ccxt_config"]["urls"]["api"]["spot"]
    assert urls["public"] == f"http://127.0.0.1:{port}"


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.offline.yml"])
def test_docker_compose_accepts_the_files_without_an_env_file(tmp_path: Path, name: str) -> None:
    for file in ("Dockerfile", "docker-compose.yml", "docker-compose.offline.yml"):
        shutil.copy2(REPO / file, tmp_path / file)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FREQTRADE__", "TA_DEMO"))}
    result = subprocess.run(
        ["docker-compose", "-f", name, "config"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "FREQTRADE__API_SERVER__PASSWORD: ''" in result.stdout
