"""Hypothesis on the parsers and validators that read untrusted or operator input.

Each either accepts its input or refuses it with the error type its callers
turn into a message for people (never any other exception, never a 500).
"""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls

from requests_app.stores import registry

FUZZ = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# --- The stores file ---------------------------------------------------------------------------------

_scalars = st.one_of(
    st.text(max_size=20), st.integers(-5, 10**6), st.booleans(), st.lists(st.text(max_size=10), max_size=3)
)
_field_names = st.sampled_from(
    [
        "url",
        "root",
        "paths",
        "container",
        "connection_string",
        "endpoint",
        "key",
        "blobs",
        "person_groups",
        "match",
        "provides",
        "erase",
        "table",
        "timeout",
        "name",
        "kind",
        "x",
    ]
)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)  # a JSON string is a valid TOML basic string


@st.composite
def stores_files(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        lines.append("[[store]]")
        name = draw(st.one_of(st.sampled_from(["app-db", "uploads", "face", "blobs"]), st.text(max_size=12)))
        lines.append(f"name = {_toml_value(name)}")
        lines.append(f"kind = {_toml_value(draw(st.sampled_from([*registry.KINDS, 'nosql', ''])))}")
        for field, value in draw(
            st.dictionaries(_field_names.filter(lambda f: f not in ("name", "kind")), _scalars, max_size=5)
        ).items():
            lines.append(f"{field} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


@FUZZ
@given(stores_files())
def test_stores_file_parse_never_raises_and_names_the_file(text):
    loaded = registry.parse(text, "stores.toml")
    assert all(error.startswith("stores.toml") for error in loaded.errors)
    assert all(store.name for store in loaded.stores)


@FUZZ
@given(st.text(max_size=300))
@example("[store]\nname='x'")
@example("[[store]]\nname = 1\n")
@example('[[store]]\nname = "a"\nkind = "sql"\nurl = "${NOPE}"\n')
def test_stores_file_parse_survives_arbitrary_text(text):
    loaded = registry.parse(text, "stores.toml")
    assert isinstance(loaded.errors, list)


# --- Abuse report locations ----------------------------------------------------------------------------

targets = pytest.importorskip("abuse_app.targets")


@FUZZ
@given(urls())
def test_normalised_url_is_stable(url):
    try:
        once = targets.normalise_url(url)
    except ValueError:
        return
    assert targets.normalise_url(once) == once
    assert once.startswith(("http://", "https://")) and "#" not in once


@FUZZ
@given(st.text(max_size=200))
@example("http://[::1")
@example("https://example.com:99999/")
@example("https://exa mple.com/%zz")
@example("HTTPS://Example.com:443/p/1/?utm_source=x#top")
def test_normalise_url_refuses_with_value_error_only(text):
    try:
        targets.normalise_url(text)
    except ValueError:
        pass


@FUZZ
@given(st.one_of(st.text(max_size=400), st.lists(st.text(max_size=80), max_size=25)))
@example(["https://example.com/a", "HTTPS://EXAMPLE.com:443/a/#x"])
def test_parse_locations_gives_targets_or_a_validation_error(raw):
    try:
        found = targets.parse_locations(raw)
    except ValidationError as exc:
        assert exc.messages and all(m.strip() for m in exc.messages)
        return
    assert 1 <= len(found) <= targets.MAX_LOCATIONS
    assert len({t.key for t in found}) == len(found)


# --- Evidence type sniffing ------------------------------------------------------------------------------

evidence = pytest.importorskip("abuse_app.evidence")


@FUZZ
@given(st.binary(max_size=256))
def test_sniff_returns_a_known_type_or_none(head):
    assert evidence.sniff(head) in {None, *evidence.TYPE_LABELS}


@FUZZ
@given(st.binary(max_size=200))
def test_png_magic_is_recognised_whatever_follows(tail):
    assert evidence.sniff(b"\x89PNG\r\n\x1a\n" + tail) == "image/png"


@FUZZ
@given(st.sampled_from([b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe"]), st.binary(max_size=100))
@example(b"\x7fELF", b"mdat")  # sniff() alone calls this QuickTime; check_file must still refuse it
def test_programs_are_refused_whatever_else_their_bytes_look_like(magic, tail):
    with pytest.raises(ValidationError, match="program"):
        evidence.check_file(SimpleUploadedFile("photo.jpg", magic + tail, content_type="image/jpeg"))


@FUZZ
@given(st.binary(max_size=4096), st.text(max_size=60))
def test_check_file_accepts_or_refuses_with_validation_error(content, name):
    # Django's multipart parser hands views only base names; "a/" or ".." never reach check_file.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    upload = SimpleUploadedFile(name if name not in {"", ".", ".."} else "x", content, content_type="image/jpeg")
    try:
        checked = evidence.check_file(upload)
    except ValidationError as exc:
        assert exc.messages
        return
    assert checked.content_type in evidence.allowed_types()
    assert checked.size == len(content)
