"""A strategy's walk-forward grid: which hyperoptable parameters to try, and at what values.

A tunable strategy declares ``walk_forward_grid: ClassVar[dict[str, list]]``: names of its
Freqtrade hyperoptable parameters (``IntParameter``, ``DecimalParameter``, ...) and the values to
try. A grid given on the command line replaces it; a strategy with neither is run with its
defaults. The class is loaded as Freqtrade loads it (its resolver, from the strategy folder),
so each parameter's space is known, and a chosen point reaches Freqtrade the way Freqtrade
reads parameters: a parameter file beside the strategy file, named like the file with
``.json`` (``FlashStrategy.json``, ``sample_strategy.json``), as hyperopt exports it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GRID_ATTRIBUTE = "walk_forward_grid"


@dataclass(frozen=True)
class LoadedStrategy:
    """A strategy class found in a folder, with the file that defines it."""

    name: str
    cls: type
    source: Path

    @property
    def timeframe(self) -> str:
        """The strategy's base timeframe (its ``timeframe`` attribute)."""
        return str(self.cls.timeframe)


def strategies_in(strategy_path: Path) -> list[LoadedStrategy]:
    """Every strategy class defined in the folder's files, found by Freqtrade's resolver.

    Raises ``ValueError`` when the folder does not exist.
    """
    from freqtrade.resolvers.strategy_resolver import StrategyResolver

    folder = Path(strategy_path).resolve()
    if not folder.is_dir():
        raise ValueError(f"strategy folder {str(folder)!r} does not exist")
    # user_data_dir only feeds the resolver's default <user_data>/strategies search path;
    # pointing it at the folder keeps the search to the folder itself.
    config = {"strategy_path": str(folder), "user_data_dir": folder}
    return [
        LoadedStrategy(name=entry["name"], cls=entry["class"], source=location)
        for entry in StrategyResolver.search_all_objects(config, enum_failed=False)
        if (location := Path(entry["location"]).resolve()).parent == folder
    ]


def load_strategy(name: str, strategy_path: Path) -> LoadedStrategy:
    """Find the class ``name`` in ``strategy_path`` with Freqtrade's strategy resolver.

    Raises ``ValueError`` naming the folder and the strategies it holds when it is not there.
    """
    found = strategies_in(strategy_path)
    for strategy in found:
        if strategy.name == name:
            return strategy
    names = sorted(s.name for s in found)
    raise ValueError(f"no strategy {name!r} in {Path(strategy_path).resolve()} (it holds {names})")


@dataclass(frozen=True)
class Grid:
    """Values to try per parameter (in the order given) and each parameter's space."""

    values: dict[str, list[Any]]
    spaces: dict[str, str]

    @property
    def size(self) -> int:
        """Number of parameter sets (1 for an empty grid: the defaults)."""
        size = 1
        for options in self.values.values():
            size *= len(options)
        return size

    def points(self) -> list[dict[str, Any]]:
        """Every parameter set, in a fixed order (the last parameter varies fastest)."""
        names = list(self.values)
        return [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*self.values.values())
        ]


def _check_value(strategy: str, name: str, parameter: Any, value: Any) -> None:
    from freqtrade.strategy.parameters import CategoricalParameter, IntParameter, NumericParameter

    where = f"{strategy}.{name}"
    if isinstance(parameter, CategoricalParameter):
        if value not in parameter.opt_range:
            raise ValueError(f"{where}: {value!r} is not one of {list(parameter.opt_range)}")
        return
    if isinstance(parameter, NumericParameter):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: {value!r} is not a number")
        if isinstance(parameter, IntParameter) and not float(value).is_integer():
            raise ValueError(f"{where}: {value!r} is not a whole number")
        if not parameter.low <= value <= parameter.high:
            raise ValueError(
                f"{where}: {value!r} is outside its range [{parameter.low}, {parameter.high}]"
            )


def strategy_grid(strategy: LoadedStrategy, override: Mapping[str, Any] | None = None) -> Grid:
    """The grid to search: ``override`` if given, else the class's ``walk_forward_grid``.

    Every name must be a hyperoptable parameter of the strategy that loads from a parameter
    file, with a non-empty list of distinct values inside its range (or among its categories).
    Raises ``ValueError`` naming the parameter or value that is wrong.
    """
    from freqtrade.strategy.hyper import detect_all_parameters

    raw = getattr(strategy.cls, GRID_ATTRIBUTE, None) if override is None else override
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise ValueError(f"{strategy.name} grid must map parameter names to lists, got {raw!r}")
    parameters = {
        name: (space, parameter)
        for space, by_name in detect_all_parameters(strategy.cls).items()
        for name, parameter in by_name.items()
    }
    values: dict[str, list[Any]] = {}
    spaces: dict[str, str] = {}
    for name, options in raw.items():
        if name not in parameters:
            raise ValueError(
                f"{strategy.name} has no hyperoptable parameter {name!r} "
                f"(it has {sorted(parameters)})"
            )
        if not isinstance(options, list) or not options:
            raise ValueError(f"{strategy.name}.{name}: give a non-empty list, got {options!r}")
        if len({json.dumps(o) for o in options}) != len(options):
            raise ValueError(f"{strategy.name}.{name}: values repeat in {options!r}")
        space, parameter = parameters[name]
        if not parameter.load:
            raise ValueError(
                f"{strategy.name}.{name} has load=False: a parameter file cannot set it"
            )
        for option in options:
            _check_value(strategy.name, name, parameter, option)
        values[name] = list(options)
        spaces[name] = space
    return Grid(values=values, spaces=spaces)


def parameter_file(strategy: str, params: Mapping[str, Any], spaces: Mapping[str, str]) -> dict:
    """The content of Freqtrade's parameter file setting ``params`` (grouped by space)."""
    grouped: dict[str, dict[str, Any]] = {}
    for name, value in params.items():
        if name not in spaces:
            raise ValueError(f"{strategy}.{name}: no space known for this parameter")
        grouped.setdefault(spaces[name], {})[name] = value
    return {"strategy_name": strategy, "params": grouped, "ft_stratparam_v": 1}
