"""Renders every mail template in nl, fr and it to files, and screenshots them where Chromium is
installed, so a reviewer can look at every mail before merging.

    python tools/render_mails.py OUT_DIR [--only SUBSTRING] [--no-screenshots] [--dark] [--eml]

For each sample of ``mailbot.outbound.samples`` it writes ``NAME[.LABEL].LOCALE.html`` and
``.txt`` (subject on the first line), and with Chromium ``...600.png`` and ``...375.png``: the
width of the mail's wrapper table and of a small phone (``--dark`` adds ``...600.dark.png``, the
page as a client in dark mode shows it). ``--eml`` also writes ``...eml``, the whole message with
its headers as compose builds it, to score with ``spamassassin -L -t < FILE``. The app is a real
one on a temporary database, so every link is a real signed address.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mailbot import config as config_mod
from mailbot import wiring
from mailbot.outbound import samples
from mailbot.outbound.render import LOCALES

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars")
WIDTHS = (600, 375)


def screenshot(chromium: str, html: Path, png: Path, width: int, dark: bool = False) -> None:
    extra = ("--force-dark-mode", "--blink-settings=preferredColorScheme=0") if dark else ()
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *CHROMIUM_FLAGS, *extra, f"--user-data-dir={profile}",
                        f"--window-size={width},1800", f"--screenshot={png}", html.as_uri()],
                       check=True, capture_output=True, timeout=60)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--only", default="", help="render only samples whose file name has this")
    ap.add_argument("--no-screenshots", action="store_true")
    ap.add_argument("--dark", action="store_true", help="also a 600 px shot in dark mode")
    ap.add_argument("--eml", action="store_true", help="also the whole message, headers included")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = None if args.no_screenshots else shutil.which("chromium")
    with tempfile.TemporaryDirectory() as tmp:
        config = config_mod.from_dict({
            # A brand, help centre, legal line and PLUS page as a live config has them, so the
            # previews show every part of a mail.
            "bot": {"domain": "bot.example", "timezone": "Europe/Amsterdam", "brand": "Trustmark",
                    "help_url": "https://help.trustmark.example/",
                    "legal_footer": "Trustmark B.V. · Herengracht 1 · 1015 BA Amsterdam",
                    "upgrade_url": "https://trustmark.example/plus"},
            "storage": {"database": f"{tmp}/mailbot.db", "attachments": f"{tmp}/files"},
            "operators": {"addresses": ["team@service.example"], "locale": "nl",
                          "decision_days": 10}})
        app = wiring.build(config)
        count = shots = 0
        for locale in LOCALES:
            for sample, ctx in samples.contexts(app, app.db(), locale):
                stem = ".".join(p for p in (sample.name, sample.label, locale) if p)
                if args.only not in stem:
                    continue
                out = app.renderer.render(sample.name, locale, ctx)
                html = args.out / f"{stem}.html"
                html.write_text(out.html, encoding="utf-8")
                (args.out / f"{stem}.txt").write_text(
                    f"{out.subject}\n\n{out.text}", encoding="utf-8")
                count += 1
                if args.eml:
                    (args.out / f"{stem}.eml").write_bytes(
                        samples.message(app, sample, out, locale))
                for width in WIDTHS if chromium else ():
                    screenshot(chromium, html, args.out / f"{stem}.{width}.png", width)
                    shots += 1
                if chromium and args.dark:
                    screenshot(chromium, html, args.out / f"{stem}.600.dark.png", 600, dark=True)
                    shots += 1
    print(f"{count} mails, {shots} screenshots in {args.out}"
          + ("" if chromium or args.no_screenshots else " (no chromium: no screenshots)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
