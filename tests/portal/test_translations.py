"""German and French are complete, consistent with English, compiled, and used for pages and e-mails."""

import gettext
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings

from portal import mail
from portal.translations import compile_catalogue

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ["de", "fr"]
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdif]|%[sdif]")


def _catalog(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_no_untranslated_or_fuzzy_entries(language):
    catalog = _catalog(language)
    assert len(catalog) > 100
    untranslated = [e.msgid for e in catalog.untranslated_entries()]
    fuzzy = [e.msgid for e in catalog.fuzzy_entries()]
    assert not untranslated, f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:3]}"
    assert not fuzzy, f"{language}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:3]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    wrong = []
    for entry in _catalog(language).translated_entries():
        if entry.msgid_plural:
            pairs = [(entry.msgid, entry.msgstr_plural[0]), (entry.msgid_plural, entry.msgstr_plural[1])]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, translated in pairs:
            if _placeholders(source) != _placeholders(translated):
                wrong.append((source, translated))
    assert not wrong, f"{language}: placeholders differ in {len(wrong)} entries, e.g. {wrong[:2]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_matches_the_po_file(language):
    po = _catalog(language)
    mo_path = LOCALE / language / "LC_MESSAGES" / "django.mo"
    assert mo_path.exists(), f"run manage.py compile_translations ({mo_path} missing)"
    compiled = {e.msgid: e.msgstr for e in polib.mofile(str(mo_path)) if not e.msgid_plural}
    stale = [e.msgid for e in po.translated_entries() if not e.msgid_plural and compiled.get(e.msgid) != e.msgstr]
    assert not stale, f"{language}: .mo is older than .po for {len(stale)} entries; run compile_translations"


@pytest.mark.parametrize("language", LANGUAGES)
def test_pure_python_fallback_compiles_what_msgfmt_compiles(language, tmp_path):
    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext (msgfmt) not installed: nothing to compare the fallback with")
    catalogs = {}
    for tool in ("msgfmt", "polib"):
        po = tmp_path / tool / "django.po"
        po.parent.mkdir()
        shutil.copy(LOCALE / language / "LC_MESSAGES" / "django.po", po)
        assert compile_catalogue(po, use_msgfmt=tool == "msgfmt") == tool
        with open(po.with_suffix(".mo"), "rb") as mo:
            catalogs[tool] = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    # the header differs only in which dates msgfmt keeps; the plural rule must survive
    assert "Plural-Forms: nplurals=2" in catalogs["polib"].pop("")
    catalogs["msgfmt"].pop("")
    assert catalogs["polib"] == catalogs["msgfmt"]


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "phrase"), [("de", "Meine Daten löschen"), ("fr", "Supprimer mes données")])
def test_home_page_in_the_browser_language(client, language, phrase):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert phrase in html
    assert "using Microsoft Cognitive Services" in html  # the attribution stays word for word


@pytest.mark.parametrize(("language", "phrase"), [("de", "Guten Tag,"), ("fr", "Bonjour,")])
def test_emails_render_in_the_requesters_language(language, phrase):
    subject, text, html = mail.render(
        "request_received",
        {
            "kind": "deletion",
            "reference": "PR-TEST-0001",
            "verify_hours": 72,
            "verify_url": "https://portal.example/v",
            "status_url": "https://portal.example/s",
        },
        language,
    )
    assert phrase in text
    assert "PR-TEST-0001" in subject
    assert "Please confirm" not in subject
