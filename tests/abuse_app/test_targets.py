import pytest
from django.core.exceptions import ValidationError

from abuse_app.targets import normalise_url, parse_location, parse_locations


@pytest.mark.parametrize(
    "raw",
    [
        "https://example.com/p/1",
        "HTTPS://Example.COM:443/p/1/",
        "https://example.com/p/1?utm_source=x&utm_medium=y#comments",
        "https://example.com/p/./1/?fbclid=abc",
    ],
)
def test_normalise_url_variants_collapse_to_one(raw):
    assert normalise_url(raw) == "https://example.com/p/1"


def test_normalise_url_keeps_meaningful_query_sorted():
    assert normalise_url("http://example.com:8080/v?b=2&a=1&gclid=z") == "http://example.com:8080/v?a=1&b=2"


def test_parse_location_content_id_kept():
    assert parse_location("  photo:12345 ").key == "content:photo:12345"


def test_parse_location_www_gets_https():
    assert parse_location("www.example.com/x/").key == "url:https://www.example.com/x"


def test_parse_locations_duplicates_merged():
    targets = parse_locations("https://example.com/a\nhttps://EXAMPLE.com/a/#x\nvideo-9")
    assert [t.key for t in targets] == ["url:https://example.com/a", "content:video-9"]


@pytest.mark.parametrize("raw", ["ftp://example.com/x", "https://", "hello world", ""])
def test_parse_locations_bad_input_refused_with_message(raw):
    with pytest.raises(ValidationError) as exc:
        parse_locations(raw)
    assert exc.value.messages[0]
