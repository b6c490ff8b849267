"""One plugin manager for built-in and third-party plugins, and the rules combining answers.

Built-in plugins are declared as entry points of this project in the same group
(``trading_agent.plugins``) as third-party ones, so both are found, validated and
registered by the same code. Which plugins load, and their settings, come from the
``trading_agent`` block of the Freqtrade config::

    "trading_agent": {
        "enabled_plugins": ["session_manager", "patterns"],
        "plugins": {"patterns": {"swings": {"fractal_bars": 3}}}
    }

Strategies call the methods of :class:`AgentPlugins`, which combine the answers and apply
each hook's failure policy (see :mod:`trading_agent.hookspecs`). pluggy makes every call:
each plugin's implementation through its own subset hook caller, so that one plugin's
exception is caught and handled without hiding the others' answers, and pluggy's call
monitoring sees every call. ``TRADING_AGENT_TRACE_PLUGINS=1`` logs each hook call with its
plugin, duration and outcome.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from typing import Any

import pandas as pd
import pluggy
from pydantic import ValidationError

from trading_agent import hookspecs
from trading_agent.candles import AnalyzedCandles
from trading_agent.hookspecs import ENTRY_POINT_GROUP, PROJECT_NAME
from trading_agent.payloads import EntryVerdict, Notifier, RiskAdvice, TradeSnapshot
from trading_agent.plugin import Plugin
from trading_agent.safe_text import clean

logger = logging.getLogger(__name__)

CONFIG_KEY = "trading_agent"
BUILTIN_DISTRIBUTION = "trading-agent"
#: Plugins loaded when the config has no ``enabled_plugins`` list.
DEFAULT_PLUGINS = ("session_manager", "patterns", "orderbook", "llm_overseer")
_TOP_LEVEL_KEYS = {"enabled_plugins", "plugins", "risk"}
#: Environment variable that switches on the log line per hook call.
TRACE_ENV = "TRADING_AGENT_TRACE_PLUGINS"


class PluginConfigError(ValueError):
    """The ``trading_agent`` config block or a plugin's settings are invalid."""


@dataclass(frozen=True, slots=True)
class PluginSource:
    """Where an installed plugin comes from."""

    name: str
    entry_point: str
    distribution: str
    version: str

    @property
    def builtin(self) -> bool:
        """True for plugins shipped with this project."""
        return self.distribution == BUILTIN_DISTRIBUTION


@dataclass(frozen=True, slots=True)
class EntryDecision:
    """The combined answer of all plugins to one proposed entry."""

    allow: bool
    vetoes: tuple[tuple[str, str], ...] = ()
    approvals: tuple[tuple[str, str], ...] = ()

    @property
    def reason(self) -> str:
        """Human-readable summary of every veto (or approval when none)."""
        items = self.vetoes if not self.allow else self.approvals
        return "; ".join(f"{name}: {why}" for name, why in items)


@dataclass(frozen=True, slots=True)
class CombinedRisk:
    """The combined risk advice: smallest multiplier, tightest stop-loss."""

    stake_multiplier: float = 1.0
    stoploss: float | None = None
    reasons: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def discover_plugins(
    group: str = ENTRY_POINT_GROUP,
) -> dict[str, tuple[metadata.EntryPoint, PluginSource]]:
    """Return every installed plugin entry point in ``group`` by plugin name.

    Two distributions declaring the same plugin name is an error: which one would
    load would depend on install order.
    """
    found: dict[str, tuple[metadata.EntryPoint, PluginSource]] = {}
    for ep in metadata.entry_points(group=group):
        dist = ep.dist
        source = PluginSource(
            name=ep.name,
            entry_point=ep.value,
            distribution=dist.metadata["Name"] if dist is not None else "?",
            version=dist.version if dist is not None else "?",
        )
        if ep.name in found and found[ep.name][1].entry_point != ep.value:
            other = found[ep.name][1]
            raise PluginConfigError(
                f"plugin name {ep.name!r} is declared twice: by {other.distribution} "
                f"({other.entry_point}) and by {source.distribution} ({source.entry_point})"
            )
        found[ep.name] = (ep, source)
    return found


def format_validation_error(prefix: str, err: ValidationError) -> str:
    """One line per invalid value of a pydantic error, each naming its config path."""
    parts = []
    for item in err.errors():
        loc = ".".join(str(p) for p in item["loc"])
        where = prefix + (f".{loc}" if loc else "")
        if item["type"] == "extra_forbidden":
            parts.append(f"{where}: unknown setting")
        else:
            parts.append(f"{where}: {item['msg']} (got {item.get('input')!r})")
    return "; ".join(parts)


def _load_class(name: str, ep: metadata.EntryPoint, source: PluginSource) -> type[Plugin]:
    try:
        cls = ep.load()
    except Exception as exc:  # an import error names the plugin, not a stack deep in it
        raise PluginConfigError(
            f"plugin {name!r} from {source.distribution} ({source.entry_point}) failed to "
            f"import: {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Plugin)):
        raise PluginConfigError(
            f"plugin {name!r} ({source.entry_point}) is not a subclass of trading_agent.Plugin"
        )
    if cls.name != name:
        raise PluginConfigError(
            f"plugin entry point {name!r} points to a class named {cls.name!r}; they must match"
        )
    return cls


def parse_agent_config(config: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Split the ``trading_agent`` block into (enabled plugin names, raw settings by plugin).

    Raises :class:`PluginConfigError` naming the first malformed key.
    """
    block = config.get(CONFIG_KEY, {})
    if not isinstance(block, Mapping):
        raise PluginConfigError(f"{CONFIG_KEY} must be an object, got {type(block).__name__}")
    unknown = sorted(set(block) - _TOP_LEVEL_KEYS)
    if unknown:
        raise PluginConfigError(
            f"{CONFIG_KEY}.{unknown[0]}: unknown key (allowed: {sorted(_TOP_LEVEL_KEYS)})"
        )
    enabled = block.get("enabled_plugins", list(DEFAULT_PLUGINS))
    if not isinstance(enabled, list) or not all(isinstance(n, str) for n in enabled):
        raise PluginConfigError(
            f"{CONFIG_KEY}.enabled_plugins must be a list of plugin names, got {enabled!r}"
        )
    if len(set(enabled)) != len(enabled):
        raise PluginConfigError(f"{CONFIG_KEY}.enabled_plugins lists a plugin twice: {enabled!r}")
    settings = block.get("plugins", {})
    if not isinstance(settings, Mapping):
        raise PluginConfigError(f"{CONFIG_KEY}.plugins must be an object, got {settings!r}")
    for name, value in settings.items():
        if not isinstance(value, Mapping):
            raise PluginConfigError(
                f"{CONFIG_KEY}.plugins.{name} must be an object of settings, got {value!r}"
            )
    return list(enabled), dict(settings)


def with_plugin_defaults(
    config: Mapping[str, Any], defaults: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any]:
    """``config`` with ``defaults`` (plugin name -> settings) beneath the settings it gives.

    A strategy's defaults for plugins (see ``AgentStrategy.plugin_defaults``) fill in what the
    config leaves out, key by key and at any depth; every value the config sets wins. The
    config itself is not changed.
    """
    if not defaults:
        return config
    block = dict(config.get(CONFIG_KEY) or {})
    given = block.get("plugins") or {}
    if not isinstance(given, Mapping):
        return config  # invalid: parse_agent_config names it
    merged = {name: dict(value) for name, value in given.items() if isinstance(value, Mapping)}
    for name, settings in defaults.items():
        merged[name] = _merged(settings, given.get(name) or {})
    block["plugins"] = {**given, **merged}
    return {**config, CONFIG_KEY: block}


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


class AgentPlugins:
    """The loaded, validated plugins and the combining rules strategies rely on."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.sources: dict[str, PluginSource] = {}
        self._callers: dict[str, list[tuple[str, pluggy.HookCaller]]] = {}
        if os.environ.get(TRACE_ENV, "").strip() in {"1", "true", "yes"}:
            self.trace()

    # -- loading -------------------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        available: Mapping[str, tuple[metadata.EntryPoint, PluginSource]] | None = None,
    ) -> AgentPlugins:
        """Validate the ``trading_agent`` block and load every enabled plugin.

        All settings blocks are validated before any plugin is registered, so a bad
        value stops start-up with one error instead of leaving a half-configured bot.
        """
        enabled, raw_settings = parse_agent_config(config)
        available = discover_plugins() if available is None else available
        for name in [*enabled, *raw_settings]:
            if name not in available:
                raise PluginConfigError(
                    f"{CONFIG_KEY}: plugin {name!r} is not installed "
                    f"(installed: {sorted(available)})"
                )
        built: list[tuple[Plugin, PluginSource]] = []
        errors: list[str] = []
        for name in dict.fromkeys([*enabled, *raw_settings]):
            ep, source = available[name]
            plugin_cls = _load_class(name, ep, source)
            try:
                settings = plugin_cls.Settings.model_validate(dict(raw_settings.get(name, {})))
            except ValidationError as exc:
                errors.append(format_validation_error(f"{CONFIG_KEY}.plugins.{name}", exc))
                continue
            if name in enabled:
                built.append((plugin_cls(settings), source))
        if errors:
            raise PluginConfigError("invalid plugin settings: " + "; ".join(errors))
        agent = cls()
        for plugin, source in built:
            agent.register(plugin, source)
        return agent

    def register(self, plugin: Plugin, source: PluginSource | None = None) -> None:
        """Register one plugin instance (tests and embedding code use this directly).

        Refused with :class:`PluginConfigError`: a hook implementation that no spec declares
        (a misspelt hook would silently never run), one with arguments its spec does not
        have, and hook wrappers (each hook's combining rule and failure policy is the
        manager's; a wrapper around a call could change an answer after it).
        """
        try:
            self.pm.register(plugin, name=plugin.name)
        except pluggy.PluginValidationError as exc:
            raise PluginConfigError(f"plugin {plugin.name!r}: {exc}") from None
        problem = None
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is None:
                problem = f"implements {caller.name!r}, which is not a Trading-Agent hook"
                break
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                    problem = f"hook wrapper {caller.name!r} is not supported"
        if problem:
            self.pm.unregister(plugin)
            raise PluginConfigError(f"plugin {plugin.name!r}: {problem}")
        self._callers.clear()
        self.sources[plugin.name] = source or PluginSource(
            plugin.name, f"{type(plugin).__module__}:{type(plugin).__qualname__}", "(direct)", ""
        )

    def trace(self) -> None:
        """Log every hook call: plugin, hook, duration and outcome (``TRACE_ENV``).

        Uses pluggy's own call monitoring, so it sees exactly the calls pluggy makes.
        """
        started: list[float] = []

        def before(hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
            started.append(time.perf_counter())

        def after(
            outcome: pluggy.Result,
            hook_name: str,
            hook_impls: Sequence[Any],
            kwargs: Mapping[str, Any],
        ) -> None:
            elapsed_ms = (time.perf_counter() - started.pop()) * 1000
            names = ",".join(impl.plugin_name for impl in hook_impls) or "(none)"
            if outcome.exception is not None:
                result = f"raised {type(outcome.exception).__name__}"
            else:
                result = f"returned {_summary(outcome.get_result())}"
            logger.info("plugin call %s %s: %.3f ms, %s", names, hook_name, elapsed_ms, result)

        self.pm.add_hookcall_monitoring(before, after)

    @property
    def names(self) -> list[str]:
        """Names of the registered plugins, in registration order."""
        return list(self.sources)

    def implements(self, hook: str) -> bool:
        """True when at least one registered plugin implements ``hook``."""
        return bool(getattr(self.pm.hook, hook).get_hookimpls())

    def hooks_of(self, name: str) -> list[str]:
        """The hook names a registered plugin implements."""
        plugin = self.pm.get_plugin(name)
        callers = self.pm.get_hookcallers(plugin) or []
        return sorted(caller.name for caller in callers)

    # -- calling ---------------------------------------------------------------------------

    def _callers_of(self, hook: str) -> list[tuple[str, pluggy.HookCaller]]:
        """One pluggy hook caller per plugin implementing ``hook``, in pluggy's call order.

        Where a single plugin implements the hook, that is the hook's own caller.
        """
        found = self._callers.get(hook)
        if found is None:
            caller = getattr(self.pm.hook, hook)
            names = [impl.plugin_name for impl in reversed(caller.get_hookimpls())]
            if len(names) == 1:
                found = [(names[0], caller)]
            else:
                plugins = {name: self.pm.get_plugin(name) for name in names}
                found = [
                    (
                        name,
                        self.pm.subset_hook_caller(
                            hook, [p for other, p in plugins.items() if other != name]
                        ),
                    )
                    for name in names
                ]
            self._callers[hook] = found
        return found

    def _call_each(self, hook: str, kwargs: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
        """Have pluggy call each plugin's implementation of ``hook`` separately.

        Yields ``(plugin name, answer)`` (``None`` for no answer); a raised exception is
        logged and yielded as the answer, so that each caller applies its own policy.
        """
        for name, caller in self._callers_of(hook):
            try:
                results = caller(**kwargs)
            except Exception as exc:
                logger.exception("plugin %s failed in %s", name, hook)
                yield name, exc
                continue
            yield name, results[0] if results else None

    def _notify_all(self, hook: str, **kwargs: Any) -> None:
        for _name, _result in self._call_each(hook, kwargs):
            pass

    def bot_start(self, config: Mapping[str, Any], runmode: str, notify: Notifier) -> None:
        """Start every plugin; any failure stops the start (no half-started bot)."""
        for name, result in self._call_each(
            "bot_start", {"config": config, "runmode": runmode, "notify": notify}
        ):
            if isinstance(result, Exception):
                raise RuntimeError(f"plugin {name!r} failed to start: {result}") from result

    def bot_loop(
        self,
        current_time: datetime,
        analyzed: Mapping[str, AnalyzedCandles],
        open_trades: Sequence[TradeSnapshot],
    ) -> None:
        """Run every plugin's per-iteration work; failures are logged, the loop goes on."""
        self._notify_all(
            "bot_loop", current_time=current_time, analyzed=analyzed, open_trades=open_trades
        )

    def bot_stop(self) -> None:
        """Stop every plugin; failures are logged."""
        self._notify_all("bot_stop")

    def trade_filled(self, **kwargs: Any) -> None:
        """Tell every plugin of a fill (see the ``trade_filled`` spec); failures are logged."""
        self._notify_all("trade_filled", **kwargs)

    def trade_closed(self, trade: TradeSnapshot, current_time: datetime) -> None:
        """Tell every plugin of a closed trade; failures are logged."""
        self._notify_all("trade_closed", trade=trade, current_time=current_time)

    def add_indicators(
        self, dataframe: pd.DataFrame, pair: str, timeframe: str, runmode: str
    ) -> pd.DataFrame:
        """Return ``dataframe`` joined with every plugin's new columns.

        A plugin that fails, returns a frame with another index, or adds a column that
        already exists raises: a strategy must not trade on half its indicators.
        """
        parts: list[pd.DataFrame] = []
        seen = set(dataframe.columns)
        for name, result in self._call_each(
            "add_indicators",
            {"dataframe": dataframe, "pair": pair, "timeframe": timeframe, "runmode": runmode},
        ):
            if isinstance(result, Exception):
                raise RuntimeError(
                    f"plugin {name!r} failed to add indicators: {result}"
                ) from result
            if result is None:
                continue
            if not isinstance(result, pd.DataFrame) or not result.index.equals(dataframe.index):
                raise RuntimeError(
                    f"plugin {name!r} must return a DataFrame with the input's index"
                )
            clash = seen.intersection(result.columns)
            if clash:
                raise RuntimeError(f"plugin {name!r} adds existing columns {sorted(clash)}")
            seen.update(result.columns)
            parts.append(result)
        if not parts:
            return dataframe
        return pd.concat([dataframe, *parts], axis=1)

    def approve_entry(self, **kwargs: Any) -> EntryDecision:
        """Combine entry verdicts: any veto wins; a plugin error is a veto (fail closed).

        Every reason is made safe to show (:func:`trading_agent.safe_text.clean`), as are the
        reasons of :meth:`risk_advice` and :meth:`exit_advice`: plugins relay model and
        exchange text.
        """
        vetoes: list[tuple[str, str]] = []
        approvals: list[tuple[str, str]] = []
        for name, result in self._call_each("approve_entry", kwargs):
            if isinstance(result, Exception):
                vetoes.append((name, clean(f"error: {result}")))
            elif isinstance(result, EntryVerdict):
                (approvals if result.allow else vetoes).append((name, clean(result.reason)))
            elif result is not None:
                vetoes.append((name, clean(f"invalid answer {result!r}")))
        return EntryDecision(not vetoes, tuple(vetoes), tuple(approvals))

    def risk_advice(self, **kwargs: Any) -> CombinedRisk:
        """Combine risk advice: smallest stake multiplier, tightest stop-loss.

        A plugin error or an invalid answer counts as multiplier 0 (no new risk).
        """
        multiplier = 1.0
        stoploss: float | None = None
        reasons: list[tuple[str, str]] = []
        for name, result in self._call_each("risk_advice", kwargs):
            if result is None:
                continue
            if isinstance(result, Exception) or not isinstance(result, RiskAdvice):
                multiplier = 0.0
                reasons.append((name, clean(f"error: {result!r}")))
                continue
            mult = result.stake_multiplier
            if not (isinstance(mult, int | float) and math.isfinite(mult) and mult >= 0):
                multiplier = 0.0
                reasons.append((name, clean(f"invalid stake multiplier {mult!r}")))
                continue
            multiplier = min(multiplier, float(mult))
            sl = result.stoploss
            if sl is not None:
                if isinstance(sl, int | float) and math.isfinite(sl) and sl < 0:
                    stoploss = float(sl) if stoploss is None else max(stoploss, float(sl))
                else:
                    reasons.append((name, clean(f"ignored invalid stoploss {sl!r}")))
            if result.reason:
                reasons.append((name, clean(result.reason)))
        return CombinedRisk(multiplier, stoploss, tuple(reasons))

    def exit_advice(self, **kwargs: Any) -> str | None:
        """Return the first exit request (prefixed with the plugin name), or ``None``.

        Errors are logged and count as no request: exits are never blocked by an error.
        """
        for name, result in self._call_each("exit_advice", kwargs):
            if isinstance(result, str) and result:
                return f"{name}: {clean(result, limit=100)}"
        return None


def describe(agent: AgentPlugins) -> list[dict[str, Any]]:
    """A plain description of the loaded plugins, for the CLI and for logs."""
    rows = []
    for name in agent.names:
        source = agent.sources[name]
        rows.append(
            {
                "name": name,
                "builtin": source.builtin,
                "distribution": f"{source.distribution} {source.version}".strip(),
                "entry_point": source.entry_point,
                "hooks": agent.hooks_of(name),
            }
        )
    return rows


def _summary(result: Any) -> str:
    """A short description of a hook call's result for the trace log (never its data)."""
    if isinstance(result, list):
        return "[" + ", ".join(type(r).__name__ for r in result) + "]"
    return type(result).__name__
