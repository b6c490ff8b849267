"""LLM strategic overseer: tiered, budgeted, non-blocking, bounded, auditable, testable.

The plugin class is :class:`plugins.llm_overseer.plugin.OverseerPlugin`; see docs/overseer.md.
"""
