"""Where the installed package finds its templates and gettext catalogs.

``templates/`` and ``locales/`` sit at the top of the repository and are shipped inside the
package as ``mailbot.templates`` and ``mailbot.locales`` (pyproject's package-dir), so an
installed ``mailbot`` finds them wherever it runs from.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def templates() -> Path:
    return Path(str(files("mailbot.templates")))


def locales() -> Path:
    return Path(str(files("mailbot.locales")))
