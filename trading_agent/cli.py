"""``python -m plugins`` / ``ta-plugins``: inspect the plugins a config loads."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from trading_agent.manager import AgentPlugins, PluginConfigError, describe, discover_plugins


def _read_configs(paths: list[str]) -> dict[str, Any]:
    """Merge Freqtrade-style JSON configs, later files overriding earlier ones (shallowly
    for the ``trading_agent`` block, which is all this command reads)."""
    merged: dict[str, Any] = {}
    for path in paths:
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise PluginConfigError(f"config file not found: {path}") from None
        except json.JSONDecodeError as exc:
            raise PluginConfigError(f"config file {path} is not valid JSON: {exc}") from None
        block = data.get("trading_agent")
        if block is not None:
            current = merged.setdefault("trading_agent", {})
            for key, value in block.items():
                if key == "plugins" and isinstance(value, dict):
                    current.setdefault("plugins", {}).update(value)
                else:
                    current[key] = value
    return merged


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``list`` prints loaded plugins, their origin and hooks."""
    parser = argparse.ArgumentParser(prog="python -m plugins", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="print the loaded plugins, where each came from, its hooks")
    lst.add_argument(
        "-c",
        "--config",
        action="append",
        default=[],
        help="Freqtrade config file(s); default: user_data/config.json if present",
    )
    lst.add_argument("--json", action="store_true", help="print JSON instead of a table")
    lst.add_argument(
        "--installed", action="store_true", help="list every installed plugin, enabled or not"
    )
    args = parser.parse_args(argv)

    configs = args.config or (
        ["user_data/config.json"] if Path("user_data/config.json").exists() else []
    )
    try:
        config = _read_configs(configs)
        if args.installed:
            names = sorted(discover_plugins())
            config = {
                "trading_agent": {**config.get("trading_agent", {}), "enabled_plugins": names}
            }
        agent = AgentPlugins.from_config(config)
    except PluginConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = describe(agent)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no plugins enabled")
    for row in rows:
        origin = "built-in" if row["builtin"] else "third-party"
        print(f"{row['name']}  [{origin}: {row['distribution']}, {row['entry_point']}]")
        print(f"    hooks: {', '.join(row['hooks']) or '(none)'}")
    return 0
