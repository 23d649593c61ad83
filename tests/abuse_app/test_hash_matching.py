"""Hash matching: PDQ within distance 31 and exact MD5, banks from CSV and from reported cases."""

from __future__ import annotations

import io
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image, ImageDraw
from rest_framework.test import APIClient

from abuse_app.hashmatch.index import PdqIndex, brute_force
from abuse_app.hashmatch.models import BankedHash, HashBank
from abuse_app.models import Case, Evidence
from abuse_app.services import hash_matching

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_index():
    hash_matching.forget_index()
    yield
    hash_matching.forget_index()


def picture(seed: int, size: int = 512) -> Image.Image:
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        r = int(rng.integers(20, 120))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return image


def encoded(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kw)
    return out.getvalue()


def distance(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def test_reencoded_resized_copy_matches_and_an_unrelated_image_does_not():
    original = hash_matching.pdq_of_image(encoded(picture(1)))
    copy = hash_matching.pdq_of_image(encoded(picture(1).resize((300, 300)), "JPEG", quality=60))
    other = hash_matching.pdq_of_image(encoded(picture(2)))
    assert original and copy and other
    assert distance(original, copy) <= 31
    assert distance(original, other) > 31
    hash_matching.bank_import_csv(name="known", text=f"kind,hash\npdq,{original}\n")
    assert [m["bank"] for m in hash_matching.find_matches(pdq=copy)] == ["known"]
    assert hash_matching.find_matches(pdq=other) == []


def test_index_finds_exactly_what_brute_force_finds():
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 256, (5000, 32), dtype=np.uint8)
    index = PdqIndex(hashes)
    for _ in range(200):
        query = hashes[rng.integers(5000)].copy()
        for bit in rng.choice(256, int(rng.integers(0, 40)), replace=False):
            query[bit // 8] ^= 1 << (bit % 8)
        expected = brute_force(hashes, query.tobytes(), 31)
        assert sorted(h.position for h in index.search(query.tobytes(), 31)) == expected


def test_csv_import_keeps_good_lines_and_names_bad_ones(tmp_path):
    good_pdq, good_md5 = "f" * 64, "0123456789abcdef0123456789abcdef"
    path = tmp_path / "bank.csv"
    path.write_text(
        f"signal_type,signal,label\npdq,{good_pdq},A1\nvideo_md5,{good_md5.upper()},\npdq,not-hex,\nsha1,abc,\n"
    )
    out, err = StringIO(), StringIO()
    call_command("import_hash_bank", "ncmec", str(path), stdout=out, stderr=err)
    assert "2 added, 0 already there, 2 refused" in out.getvalue()
    assert "line 4: pdq: must be 64 hexadecimal characters" in err.getvalue()
    assert "line 5: kind “sha1”" in err.getvalue()
    assert set(BankedHash.objects.values_list("kind", "value")) == {("pdq", good_pdq), ("md5", good_md5)}


@pytest.fixture
def host(api_key):
    _key, raw = api_key("abuse:write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_api_match_opens_a_child_safety_case_and_keeps_no_image(host):
    known = hash_matching.pdq_of_image(encoded(picture(3)))
    hash_matching.bank_import_csv(name="known", text=f"kind,hash,label\npdq,{known},A2\n")
    near = hash_matching.pdq_of_image(encoded(picture(3).resize((256, 256)), "JPEG", quality=70))
    response = host.post(
        "/api/v1/media-checks/", {"pdq": near, "content_id": "photo-991", "target_account_id": "user-7"}, format="json"
    )
    assert response.status_code == 200 and response.json()["match"] is True
    [match] = response.json()["matches"]
    assert match["bank"] == "known" and match["label"] == "A2" and match["distance"] <= 31
    case = Case.objects.get(reference__in=response.json()["cases"])
    assert case.is_child_safety and case.priority == 1 and case.target_account_id == "user-7"
    assert case.legal_hold_until is not None
    assert not Evidence.objects.exists()


def test_api_no_match_opens_nothing(host):
    hash_matching.bank_import_csv(name="known", text="kind,hash\nmd5,0123456789abcdef0123456789abcdef\n")
    response = host.post("/api/v1/media-checks/", {"md5": "f" * 32, "pdq": "0" * 64}, format="json")
    assert response.json() == {"match": False, "matches": []}
    assert not Case.objects.exists()
    exact = host.post("/api/v1/media-checks/", {"md5": "0123456789ABCDEF0123456789ABCDEF"}, format="json")
    assert exact.json()["match"] is True and exact.json()["matches"][0]["distance"] == 0


def test_api_refuses_bad_input_and_keys_without_scope(host, api_key):
    assert APIClient().post("/api/v1/media-checks/", {"md5": "f" * 32}, format="json").status_code == 401
    _key, raw = api_key("requests:write")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert other.post("/api/v1/media-checks/", {"md5": "f" * 32}, format="json").status_code == 403
    bad = host.post("/api/v1/media-checks/", {"pdq": "xyz", "content_id": "a b"}, format="json")
    assert bad.status_code == 400
    body = bad.json()
    assert "64 hexadecimal" in str(body) and "content_id" in str(body)
    assert host.post("/api/v1/media-checks/", {}, format="json").status_code == 400


def test_inactive_bank_is_not_matched():
    hash_matching.bank_import_csv(name="old", text="kind,hash\nmd5,0123456789abcdef0123456789abcdef\n")
    HashBank.objects.update(active=False)
    assert hash_matching.find_matches(md5="0123456789abcdef0123456789abcdef") == []


def test_switching_a_bank_off_in_admin_stops_its_matches(cs_moderator):
    from tests.abuse_app.test_child_safety_access import logged_in

    hash_matching.bank_import_csv(name="known", text="kind,hash\nmd5,0123456789abcdef0123456789abcdef\n")
    assert hash_matching.find_matches(md5="0123456789abcdef0123456789abcdef")
    bank = HashBank.objects.get()
    browser = logged_in(cs_moderator)
    assert '<td class="field-hash_count">1</td>' in browser.get("/admin/abuse_app/hashbank/").content.decode()
    browser.post("/admin/abuse_app/hashbank/", {"action": "switch_off", "_selected_action": [bank.pk]})
    hash_matching.forget_index()  # another process would notice within PORTAL_HASH_INDEX_REFRESH_SECONDS
    assert hash_matching.find_matches(md5="0123456789abcdef0123456789abcdef") == []
