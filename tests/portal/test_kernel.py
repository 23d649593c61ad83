"""The shared kernel: references and the API error envelope."""

from __future__ import annotations

import re

from portal.api_errors import api_error
from portal.references import REFERENCE_ALPHABET, new_reference


def test_reference_has_prefix_and_two_groups_of_the_readable_alphabet():
    reference = new_reference("AR")
    assert re.fullmatch(rf"AR-[{REFERENCE_ALPHABET}]{{4}}-[{REFERENCE_ALPHABET}]{{4}}", reference)
    assert not set("01OIL") & set(REFERENCE_ALPHABET)


def test_api_error_envelope_with_retry_after_sets_the_header():
    response = api_error("too_many", "Slow down.", status=429, retry_after=30)
    assert response.status_code == 429
    assert response.data == {"error": {"code": "too_many", "message": "Slow down.", "retry_after": 30}}
    assert response.headers["Retry-After"] == "30"


def test_api_error_names_fields_only_when_given():
    assert "fields" not in api_error("invalid", "No.").data["error"]
    assert api_error("invalid", "No.", fields={"email": ["Enter one."]}).data["error"]["fields"] == {
        "email": ["Enter one."]
    }
