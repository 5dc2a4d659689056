"""Text from strangers, made harmless wherever it is shown: a terminal, a pipe, a log line, JSON.

A sender name or subject can carry an ESC sequence (it moves the cursor, rewrites the screen,
sets a terminal title), a bidi override (U+202E shows "fdp.exe" as "exe.pdf"), a line or
paragraph separator (U+2028 ends a line in JavaScript and in some viewers, so one log line looks
like two), C1 controls (U+0080-U+009F: 8-bit escape sequences on some terminals) or a lone
surrogate (cannot even be printed in UTF-8). Those are shown as escapes: ``\\u202e``. What is
escaped: the Unicode categories Cc (controls, but tab and, where lines are allowed, newline),
Cf (format: bidi marks and overrides, zero-width characters), Zl, Zp and Cs. Letters, accents
and spaces in every script stay as they are. JSON escapes only C0 controls itself, so ``json``
output passes through here too (the escapes are valid JSON).
"""

from __future__ import annotations

import json
import unicodedata

_UNSAFE = ("Cc", "Cf", "Zl", "Zp", "Cs")


def _escape(c: str) -> str:
    return f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"


def text(value: str, keep: str = "\n\t") -> str:
    """``value`` with every unsafe character but those in ``keep`` shown as an escape."""
    return "".join(_escape(c) if c not in keep and unicodedata.category(c) in _UNSAFE else c
                   for c in value)


def line(value: str) -> str:
    """One line: newlines are escaped too (a log line that a stranger cannot split)."""
    return text(value, keep="\t")


def dumps(data, **kwargs) -> str:
    """``json.dumps`` readable (é stays é) with every unsafe character as a JSON escape (raw
    newlines and tabs are only ever ``indent``'s, outside strings)."""
    return "".join(json.dumps(c)[1:-1] if c not in "\n\t" and unicodedata.category(c) in _UNSAFE
                   else c
                   for c in json.dumps(data, ensure_ascii=False, **kwargs))
