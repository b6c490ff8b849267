"""Text from outside (model answers, exchange and venue messages) made safe to show.

External text is data: it must never forge a log line, carry a clickable link into a user's
Telegram, break Freqtrade's Markdown, or hide characters that read differently from what
they are. Two steps, applied at two places:

- :func:`clean` wherever external text is put into a log line or a message: one line,
  no control or invisible formatting characters, links neutralised, length capped;
- :func:`markdown_escape` once, at the edge where a message leaves for Telegram (the
  strategy's ``notify``): Freqtrade sends strategy messages with Telegram's Markdown, in
  which a lone ``_``, ``*``, a backtick or ``[`` would start an entity.
"""

from __future__ import annotations

import re
import unicodedata

#: Characters a cleaned text keeps at most by default (a model's reason is 300 at most).
DEFAULT_LIMIT = 300
ELLIPSIS = "..."

_URL = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://|www\.)\S*")
# Bare domains (``evil.example/login``): a dotted name ending in a letters-only label.
_DOMAIN = re.compile(r"(?i)\b((?:[a-z0-9-]+\.)+)([a-z]{2,})\b")
_SPACES = re.compile(r"\s+")
_MARKDOWN = re.compile(r"([_*`\[])")


def _visible(char: str) -> str:
    """The character itself, or a space for line breaks and tabs, or nothing for the rest of
    Unicode's control (Cc), format (Cf: zero-width, bidirectional overrides), surrogate,
    private-use and unassigned characters and line/paragraph separators."""
    category = unicodedata.category(char)
    if category in {"Zl", "Zp"} or char in "\n\r\t\v\f":
        return " "
    if category[0] == "C":
        return ""
    return char


def _defang_domain(match: re.Match[str]) -> str:
    labels, tld = match.group(1), match.group(2)
    return labels[:-1].replace(".", "[.]") + "[.]" + tld


def clean(text: object, limit: int = DEFAULT_LIMIT) -> str:
    """``text`` as one safe line of at most ``limit`` characters.

    Line breaks and tabs become spaces and runs of white space one space; other control and
    invisible formatting characters are dropped; ``scheme://...`` and ``www....`` links are
    replaced by ``(link removed)`` and bare domains are defanged (``evil[.]example``), so no
    client turns them into links. Anything that is not a string is shown through ``str``.
    """
    if limit < len(ELLIPSIS) + 1:
        raise ValueError(f"limit must be at least {len(ELLIPSIS) + 1}, got {limit!r}")
    raw = text if isinstance(text, str) else str(text)
    # Cap early: a 10 MB answer must not cost a pass over 10 MB of Unicode lookups.
    raw = raw[: limit * 4]
    visible = "".join(_visible(c) for c in unicodedata.normalize("NFKC", raw))
    visible = _URL.sub("(link removed)", visible)
    visible = _DOMAIN.sub(_defang_domain, visible)
    line = _SPACES.sub(" ", visible).strip()
    if len(line) > limit:
        line = line[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return line


def markdown_escape(text: str) -> str:
    """``text`` with Telegram Markdown's entity characters (``_ * ` [``) escaped."""
    return _MARKDOWN.sub(r"\\\1", text)
