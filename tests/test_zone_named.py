"""The operators' mails name the time zone as people say it (CLDR's generic name), with the IANA
id the config holds; a zone CLDR has no name for (UTC) is named by its id alone."""
import pytest

from conftest import make_config
from mailbot import wiring
from mailbot.outbound import samples

SAID = {
    "Europe/Amsterdam": {"nl": "Alle tijden zijn in Midden-Europese tijd (Europe/Amsterdam).",
                         "fr": "Toutes les heures sont exprimées en heure d’Europe centrale "
                               "(Europe/Amsterdam).",
                         "it": "Tutti gli orari sono espressi nell’ora dell’Europa centrale "
                               "(Europe/Amsterdam)."},
    "UTC": {"nl": "Alle tijden staan in de tijdzone UTC.",
            "fr": "UTC", "it": "UTC"},
}


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "UTC"])
@pytest.mark.parametrize("locale", ["nl", "fr", "it"])
def test_the_digest_names_its_time_zone(tmp_path, zone, locale):
    app = wiring.build(make_config(tmp_path, bot={"domain": "bot.example", "timezone": zone}))
    try:
        s, ctx = next((s, c) for s, c in samples.contexts(app, app.db(), locale)
                      if s.name == "operator.digest")
        text = app.renderer.render(s.name, locale, ctx).text
    finally:
        app.close()
    assert SAID[zone][locale] in text
    assert all(w not in text for w in ("onbekend gebied", "région inconnue", "Regione sconosciuta"))
