"""The shape every plugin class has: a name, a settings model and hook implementations."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class NoSettings(BaseModel):
    """Settings model for a plugin that takes none: any key is an error."""

    model_config = ConfigDict(extra="forbid")


class Plugin:
    """Base class for Trading-Agent plugins (built-in and third-party alike).

    A plugin class is named by an entry point in the ``trading_agent.plugins``
    group. The manager validates the plugin's block of ``trading_agent.plugins``
    in the config against ``Settings`` (a pydantic model that should forbid extra
    keys), builds the plugin with the validated settings and registers it. Hooks
    are methods decorated with :data:`plugins.hookimpl`.
    """

    name: ClassVar[str] = ""
    Settings: ClassVar[type[BaseModel]] = NoSettings

    def __init__(self, settings: BaseModel | None = None) -> None:
        self.settings = settings if settings is not None else self.Settings()
