"""The built-in Trading-Agent plugins, one package each (see docs/plugin-guide.md)."""
