"""No English in de/fr: every text in code and templates is in the catalogues, and pages and e-mails use it.

The first test extracts the msgids exactly as ``makemessages`` does, in a temporary copy of the tree, so a
string added without running ``makemessages`` (and translating) fails here, not in front of a German user.
The others render the public pages and the e-mails in de and fr and look for English sentences of the
catalogue in the text a person reads. Text inside an element marked ``lang="en"`` is English on purpose
(the attribution Microsoft's Code of Conduct requires word for word).
"""

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from portal import mail
from tests.conftest import service_unavailable
from tests.portal.policy import ensure_default_policy

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ["de", "fr"]
# The same list docs/site.md ("After changing or adding texts") gives to makemessages.
IGNORED = [".venv", "node_modules", "var", "docs", "bench", "tests", "clients"]
MAKEMESSAGES = ".venv/bin/python manage.py makemessages -l de -l fr --no-obsolete " + " ".join(
    f"--ignore {name}" for name in IGNORED
)
HOW_TO_FIX = (
    f"Run\n    {MAKEMESSAGES}\nthen translate these entries (and remove their '#, fuzzy' line) in "
    "locale/de/LC_MESSAGES/django.po and locale/fr/LC_MESSAGES/django.po, then run\n"
    "    .venv/bin/python manage.py compile_translations\n"
    "(see docs/site.md, 'After changing or adding texts')"
)
SOURCE_SUFFIXES = {".py", ".html", ".txt"}  # what makemessages reads (its default extensions: html, txt, py)
LONG_ENOUGH = 20  # shorter msgids ("Status", "E-mail") may well be the same word in German or French


def _copy_sources(target: Path) -> None:
    """The files makemessages reads, and the catalogues; nothing else (fast: no .venv, no .git)."""

    def ignore(directory: str, names: list[str]) -> list[str]:
        top = Path(directory) == ROOT
        return [
            name
            for name in names
            if name.startswith(".")
            or name == "__pycache__"
            or (top and name in IGNORED)
            or (Path(directory, name).is_file() and Path(name).suffix not in SOURCE_SUFFIXES | {".po"})
        ]

    shutil.copytree(ROOT, target, ignore=ignore)


def _fresh_catalogues(tmp_path: Path) -> dict[str, polib.POFile]:
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        service_unavailable("GNU gettext (xgettext, msgmerge: apt-get install gettext)")
    tree = tmp_path / "tree"
    _copy_sources(tree)
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        with override_settings(LOCALE_PATHS=[str(tree / "locale")]):
            call_command("makemessages", locale=LANGUAGES, ignore_patterns=IGNORED, no_obsolete=True, verbosity=0)
    finally:
        os.chdir(cwd)
    return {
        language: polib.pofile(str(tree / "locale" / language / "LC_MESSAGES" / "django.po")) for language in LANGUAGES
    }


def test_every_text_in_code_and_templates_is_translated(tmp_path):
    fresh = _fresh_catalogues(tmp_path)
    problems = []
    for language, catalogue in fresh.items():
        committed = {
            (e.msgctxt, e.msgid) for e in polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))
        }
        for entry in catalogue:
            if entry.obsolete:
                continue
            if (entry.msgctxt, entry.msgid) not in committed:
                why = "missing from the catalogue"
            elif "fuzzy" in entry.flags:
                why = "fuzzy"
            elif not entry.translated():
                why = "untranslated"
            else:
                continue
            where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
            problems.append(f"  {language}: {why}: {entry.msgid!r} ({where})")
    assert not problems, (
        f"{len(problems)} catalogue entries are not ready:\n"
        + "\n".join(problems[:60])
        + ("\n  …" if len(problems) > 60 else "")
        + "\n"
        + HOW_TO_FIX
    )


class _ReadableText(HTMLParser):
    """The text a person reads or hears: content and labels, without scripts, styles and lang="en" parts."""

    SKIPPED = {"script", "style"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    SPOKEN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        self._stack: list[bool] = []  # per open element: does it start a skipped part?

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        # <html lang> is the page's own language (checked apart); lang="en" inside it marks English on purpose
        skip = tag in self.SKIPPED or (tag != "html" and (values.get("lang") or "").lower().startswith("en"))
        if not skip and not self._skip_depth:
            self.parts.extend(values[name] or "" for name in self.SPOKEN_ATTRIBUTES if name in values)
            if tag == "input" and values.get("type") in ("submit", "button"):
                self.parts.append(values.get("value") or "")
        if tag in self.VOID:
            return
        self._stack.append(skip)
        self._skip_depth += skip

    def handle_endtag(self, tag):
        if tag in self.VOID or not self._stack:
            return
        self._skip_depth -= self._stack.pop()

    def handle_data(self, data):
        if not self._skip_depth:
            self.parts.append(data)


def _readable(html: str) -> str:
    parser = _ReadableText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


_SPLIT = re.compile(r"%\([^)]+\)[sdif]|%[sdif]|<[^>]+>|\{\{[^}]*\}\}|\n")


def _english_sentences(language: str) -> list[str]:
    """Stretches of English from msgids, long enough to be a sentence, that their translation does not keep.

    An untranslated or fuzzy entry renders its msgid, so its English counts as well.
    """
    catalogue = polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))
    sentences = set()
    for entry in catalogue:
        if entry.obsolete:
            continue
        translations = (
            []
            if not entry.translated()
            else (list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr])
        )
        for source in filter(None, (entry.msgid, entry.msgid_plural)):
            for piece in _SPLIT.split(source):
                piece = " ".join(piece.split()).strip(" .,:;")
                if len(piece) > LONG_ENOUGH and not any(piece in t for t in translations):
                    sentences.add(piece)
    return sorted(sentences)


def _assert_no_english(language: str, texts: dict[str, str]) -> None:
    sentences = _english_sentences(language)
    found: dict[str, list[str]] = {}
    for where, text in texts.items():
        for sentence in sentences:
            if sentence in text:
                found.setdefault(sentence, []).append(where)
    lines = [
        f"  {sentence!r} on {', '.join(places[:3])}{' …' if len(places) > 3 else ''}"
        for sentence, places in found.items()
    ]
    assert not found, (
        f"{language}: {len(found)} English texts left:\n" + "\n".join(lines) + "\n"
        "Is the text wrapped in {% translate %}/gettext, and its entry translated and compiled? " + HOW_TO_FIX
    )


PUBLIC_PAGES = [
    ("home", "/"),
    ("access request", "/requests/new/access/"),
    ("deletion request", "/requests/new/deletion/"),
    ("find my request", "/requests/find/"),
    ("consent overview", "/consent/"),
    ("report form", "/report/"),
    ("report form, child-safety lane", "/report/?lane=child-safety"),
    ("receipt check", "/receipts/verify/"),
    ("transparency report", "/transparency/"),
    ("privacy policy", "/privacy/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_public_pages_have_no_english_left(client, language):
    ensure_default_policy()
    texts = {}
    for name, path in PUBLIC_PAGES:
        response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, f"{name} ({path}): HTTP {response.status_code}"
        assert response.headers.get("Content-Language") == language, f"{name} ({path}) is not in {language}"
        texts[f"{name} ({path})"] = _readable(response.content.decode())
    # the receipt check with an answer: the result texts are the ones left English before
    response = client.post(reverse("receipt-verify"), {"receipt": "{}"}, HTTP_ACCEPT_LANGUAGE=language)
    texts["receipt check, answered"] = _readable(response.content.decode())
    _assert_no_english(language, texts)


# Everything any request or abuse e-mail template asks for; a value the template does not use is ignored.
EMAIL_CONTEXT = {
    "kind": "deletion",
    "kind_label": "deletion",
    "reference": "PR-TEST-0001",
    "verify_hours": 72,
    "verify_url": "https://portal.example/v",
    "status_url": "https://portal.example/s",
    "download_url": "https://portal.example/d",
    "receipt_url": "https://portal.example/r",
    "verify_receipt_url": "https://portal.example/receipts/verify/",
    "consent_url": "https://portal.example/c",
    "hours": 48,
    "minutes": 15,
    "max_downloads": 5,
    "code": "123456",
    "code_minutes": 15,
    "due_at": "2027-01-06",
    "deadline": "2027-01-06",
    "days": 30,
    "extended_until": "2027-03-06",
    "reason": "Unclear identity",
    "links": [("PR-TEST-0001", "https://portal.example/s")],
    "requests": [],
    "found_nothing": False,
    "expires_at": "2027-01-13",
    "case": "AC-TEST-0001",
    "case_reference": "AR-TEST-0001",
    "notice_reference": "AR-TEST-0001",
    "decision": "removed",
    "appeal_url": "https://portal.example/a",
    "content_url": "https://snapster.example/p/1",
}


def _email_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".subject.txt")
        for p in (ROOT / "templates" / "email").glob("*.subject.txt")
        if p.name.startswith(("request_", "abuse_", "consent_")) and "oncall" not in p.name
    )


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_request_and_abuse_emails_have_no_english_left(language):
    texts = {}
    for name in _email_names():
        subject, text, html = mail.render(name, EMAIL_CONTEXT, language)
        texts[f"{name} (subject)"] = subject
        texts[f"{name} (text)"] = " ".join(text.split())
        texts[f"{name} (html)"] = _readable(html)
    assert len(texts) > 30
    _assert_no_english(language, texts)


def _completed(kind: str, found: int, email: str):
    from requests_app.models import PrivacyRequest, StoreTask
    from tests.requests_app.intake_helpers import verified

    request = verified(email=email, kind=kind)
    PrivacyRequest.objects.filter(pk=request.pk).update(status="completed")
    StoreTask.objects.create(
        request=request, store="app-db", store_kind="sql", phase="discover", status="succeeded", found_count=found
    )
    return request


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_status_download_and_receipt_pages_have_no_english_left(client, language):
    """The pages a requester reaches from the e-mails: status (open, with the download, with the receipt),
    the download-code step, the readable receipt and the receipt check accepting it."""
    from datetime import timedelta

    from django.utils import timezone

    from requests_app.engine import receipt
    from requests_app.models import AccessPackage, PrivacyRequest
    from requests_app.services.links import issue_status_token

    def page(name: str, path: str, method: str = "get", **data) -> None:
        response = getattr(client, method)(path, data or None, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, f"{name} ({path}): HTTP {response.status_code}"
        texts[name] = _readable(response.content.decode())

    texts: dict[str, str] = {}
    open_deletion = _completed("deletion", 2, "running@example.com")
    PrivacyRequest.objects.filter(pk=open_deletion.pk).update(status="running")
    page("status, deletion running", f"/requests/status/{issue_status_token(open_deletion)}/")

    access = _completed("access", 3, "access@example.com")
    AccessPackage.objects.create(
        request=access, path="x.zip", download_token_hash="h", expires_at=timezone.now() + timedelta(days=1)
    )
    status = f"/requests/status/{issue_status_token(access)}/"
    page("status, access completed", status)
    page("download-code step", f"{status}download/")

    deletion = _completed("deletion", 2, "deleted@example.com")
    document, signature = receipt.sign({"reference": deletion.reference, "stores": []})
    PrivacyRequest.objects.filter(pk=deletion.pk).update(receipt=document, receipt_signature=signature)
    status = f"/requests/status/{issue_status_token(deletion)}/"
    page("status, deletion completed", status)
    page("receipt (HTML)", f"{status}receipt.html")
    signed = client.get(f"{status}receipt.json").content.decode()
    page("receipt check, genuine", reverse("receipt-verify"), "post", receipt=signed)
    assert "PR-" in texts["receipt check, genuine"]
    _assert_no_english(language, texts)


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_child_safety_report_receipt_and_status_have_no_english_left(client, language):
    """The reporter's pages after sending a report in the child-safety lane (the INHOPE pointer)."""
    response = client.post(
        "/report/?lane=child-safety",
        {
            "lane": "child-safety",
            "category": "minors",
            "locations": "https://app.example.com/v/9",
            "explanation": "A video exploiting a child.",
            "good_faith": "on",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 302, "the child-safety report was not accepted"
    received = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE=language).content.decode()
    status = re.search(r'/report/status/[^/"]+/', received)
    assert status, "the receipt page links to no status page"
    texts = {
        "report received (child safety)": _readable(received),
        "report status (child safety)": _readable(
            client.get(status.group(0), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        ),
    }
    assert "INHOPE" in texts["report received (child safety)"], "the hotline pointer is missing"
    _assert_no_english(language, texts)


ATTRIBUTION = (
    '<a lang="en" href="https://azure.microsoft.com/products/ai-services/">using Microsoft Cognitive Services</a>'
)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_attribution_keeps_the_required_linked_words_in_every_language(client, language):
    """Microsoft's Code of Conduct: the attribution reads "using Microsoft Cognitive Services", linked.
    A translation builds its own sentence around the quoted words but must keep them and the link."""
    from django.template import loader
    from django.utils import translation

    home = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    with translation.override(language):
        error_page = loader.get_template("500.html").render()
    for name, html in (("footer of every page", home), ("500 page", error_page)):
        assert html.count(ATTRIBUTION) == 1, f"{language}, {name}: the attribution link is missing or changed"
