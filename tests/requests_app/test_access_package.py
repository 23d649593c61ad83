"""The access package a person can read (GDPR Art. 15) and take elsewhere (Art. 20)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import TestCase
from django.utils import translation

from requests_app.engine import local
from requests_app.models import AccessPackage
from tests.requests_app.engine_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

LABELS = """
  label = "Your account"
  describe = "The account you sign in with."
  category = "contact"
  [store.table.columns]
  email = { label = "E-mail address", describe = "Where we write to you." }
  username = "User name"
"""


def labelled(stores_file: Path) -> None:
    text = stores_file.read_text()
    text = text.replace(
        'name = "accounts_user"\n  match = { email = "email" }\n  provides = { user_id = "id" }',
        'name = "accounts_user"\n  match = { email = "email" }\n  provides = { user_id = "id" }' + LABELS,
        1,
    )
    text = text.replace('name = "media_photo"\n', 'name = "media_photo"\n  category = "photos"\n', 1)
    text = text.replace('kind = "files"\n', 'kind = "files"\nlabel = "Avatars and voice notes"\ncategory = "photos"\n')
    stores_file.write_text(text)


def package_of(stores_file, approved_request) -> zipfile.ZipFile:
    labelled(stores_file)
    with TestCase.captureOnCommitCallbacks(execute=True):
        request = local.run_local(approved_request("access"))
    assert request.status == "completed", request.attention_reason
    package = AccessPackage.objects.get(request=request)
    return zipfile.ZipFile(Path(django_settings.PORTAL_PRIVATE_ROOT) / package.path)


def test_every_table_comes_as_html_csv_and_json(stores_file, approved_request):
    archive = package_of(stores_file, approved_request)
    names = set(archive.namelist())
    for table in ("accounts_user", "media_photo", "forum_comment"):
        assert {f"app-db/{table}.json", f"app-db/{table}.csv", f"app-db/{table}.html"} <= names
    rows = list(csv.DictReader(io.StringIO(archive.read("app-db/media_photo.csv").decode("utf-8-sig"))))
    assert [r["Caption"] for r in rows] == ["alice photo 1", "alice photo 2", "alice photo 3"]
    assert len(json.loads(archive.read("app-db/media_photo.json"))) == 3


def test_table_pages_use_the_labels_of_the_stores_file(stores_file, approved_request):
    page = package_of(stores_file, approved_request).read("app-db/accounts_user.html").decode()
    assert "<h1>Your account</h1>" in page
    assert "The account you sign in with." in page
    assert '<th scope="col" title="email">E-mail address</th>' in page
    assert '<th scope="col" title="username">User name</th>' in page
    assert "<dt>E-mail address</dt><dd>Where we write to you.</dd>" in page
    assert "<td>alice</td>" in page


def test_index_summarises_by_category_and_shows_images_inline(stores_file, approved_request):
    index = package_of(stores_file, approved_request).read("index.html").decode()
    assert '<strong>Contact details:</strong> <a href="app-db/accounts_user.html">Your account</a> (1)' in index
    assert "<strong>Photos:</strong>" in index and "Avatars and voice notes (" in index
    assert '<img src="uploads/files/avatars/1/me.png"' in index
    assert 'href="app-db/media_photo.csv">CSV</a>' in index


def test_index_date_sentence_ends_with_one_full_stop(stores_file, approved_request):
    index = package_of(stores_file, approved_request).read("index.html").decode()
    assert ".." not in index.replace("../", "")
    assert "made on" in index


def test_spreadsheet_formulas_in_values_stay_text(stores_file, host_db, approved_request):
    with host_db.cursor() as cursor:
        cursor.execute("UPDATE media_photo SET caption = '=HYPERLINK(1)' WHERE id = 1")
    archive = package_of(stores_file, approved_request)
    rows = list(csv.DictReader(io.StringIO(archive.read("app-db/media_photo.csv").decode("utf-8-sig"))))
    assert rows[0]["Caption"] == "'=HYPERLINK(1)"
    assert json.loads(archive.read("app-db/media_photo.json"))[0]["caption"] == "=HYPERLINK(1)"


def test_labels_and_categories_are_checked():
    from requests_app.stores import registry

    text = """
[[store]]
name = "db"
kind = "sql"
url = "sqlite:///x.sqlite3"
  [[store.table]]
  name = "accounts_user"
  match = { email = "email" }
  category = "secrets"
  columns = { email = 3 }
"""
    errors = registry.parse(text, "stores.toml").errors
    assert any("\"table[0] (accounts_user).category\": 'secrets': use one of contact, photos" in e for e in errors)
    assert any('"table[0] (accounts_user).columns.email": a label, or' in e for e in errors)


def test_a_long_table_page_says_the_csv_and_json_hold_the_rest(stores_file, approved_request, monkeypatch):
    from requests_app.engine import package_readable

    monkeypatch.setattr(package_readable, "HTML_ROWS_MAX", 2)
    archive = package_of(stores_file, approved_request)
    page = archive.read("app-db/media_photo.html").decode()
    assert page.count("<tr><td>") == 2
    assert "This page shows the first 2 of 3 entries; the CSV and JSON files have all of them." in page
    assert len(list(csv.reader(io.StringIO(archive.read("app-db/media_photo.csv").decode("utf-8-sig"))))) == 4
    assert not [n for n in archive.namelist() if ".meta" in n]


def test_other_peoples_ids_are_withheld_and_the_subjects_own_ids_left_out(stores_file, approved_request):
    archive = package_of(stores_file, approved_request)
    follows = json.loads(archive.read("app-db/social_follow.json"))
    # Alice follows Bob (row 1), Bob follows Alice (row 2): her own id is left out, Bob's is withheld.
    assert follows == [
        {"id": 1, "followee_id": "another member"},
        {"id": 2, "follower_id": "another member"},
    ]
    photos = json.loads(archive.read("app-db/media_photo.json"))
    assert all("owner_id" not in photo for photo in photos)  # her own photos: no news that they are hers
    page = archive.read("app-db/social_follow.html").decode()
    assert '<th scope="col" title="follower_id">Follower</th>' in page
    assert "<td>you</td><td>another member</td>" in page
    assert 'title="id"' not in page  # the table's own internal id stays in the JSON only
    rows = list(csv.DictReader(io.StringIO(archive.read("app-db/social_follow.csv").decode("utf-8-sig"))))
    assert rows == [
        {"Follower": "you", "Followee": "another member"},
        {"Follower": "another member", "Followee": "you"},
    ]


def test_a_declared_name_column_shows_other_people_by_name(stores_file, approved_request):
    # Before labelled() adds its [store.table.columns] (whatever follows a TOML sub-table belongs to it).
    text = stores_file.read_text().replace(
        'name = "accounts_user"\n', 'name = "accounts_user"\n  shown_as = "username"\n', 1
    )
    stores_file.write_text(text)
    archive = package_of(stores_file, approved_request)
    follows = json.loads(archive.read("app-db/social_follow.json"))
    assert follows == [{"id": 1, "followee_id": "bob"}, {"id": 2, "follower_id": "bob"}]
    likes = json.loads(archive.read("app-db/media_photo_likes.json"))
    assert {like.get("user_id", "(alice)") for like in likes} == {"bob", "(alice)"}


def test_store_sections_are_titled_with_labels(stores_file, approved_request):
    index = package_of(stores_file, approved_request).read("index.html").decode()
    assert "<h2>App db</h2>" in index  # no label in the file: words made from the name
    assert "<h2>Avatars and voice notes</h2>" in index
    assert "<h2>app-db</h2>" not in index


def test_shown_as_is_checked():
    from requests_app.stores import registry

    text = """
[[store]]
name = "db"
kind = "sql"
url = "sqlite:///x.sqlite3"
label = ""
  [[store.table]]
  name = "accounts_profile"
  match = { email = "email" }
  shown_as = "display_name"
"""
    errors = registry.parse(text, "stores.toml").errors
    assert any('store "db" (sql): field "label": a short text' in e for e in errors)
    text = text.replace('label = ""\n', "")
    errors = registry.parse(text, "stores.toml").errors
    assert any('"table[0] (accounts_profile).shown_as": only a table that provides an id' in e for e in errors)


def test_sql_rows_are_written_into_json_csv_and_html_in_one_pass(stores_file, approved_request, monkeypatch):
    from requests_app.engine import package_readable

    read_back = []
    original = package_readable._records

    def spy(path):
        read_back.append(path.name)
        return original(path)

    monkeypatch.setattr(package_readable, "_records", spy)
    archive = package_of(stores_file, approved_request)
    assert read_back == []  # the SQL export declared its columns: no second pass over the JSON
    assert "<td>alice photo 1</td>" in archive.read("app-db/media_photo.html").decode()
    assert archive.read("app-db/media_photo.csv").decode("utf-8-sig").count("alice photo") == 3


def test_a_sink_that_does_not_declare_columns_gets_its_copies_from_the_json(tmp_path):
    from requests_app.engine import package_readable, package_sinks

    sink = package_sinks.StagingSink(tmp_path / "hook")  # no configured store: nothing written beside the JSON
    (tmp_path / "hook").mkdir()
    with sink.records("orders") as writer:
        writer.write({"id": 7, "item": "=SUM(A1)", "buyer_id": "another member"})
        writer.write({"id": 8, "item": "tea", "extra": "late key"})
    meta = {"label": "Your orders", "columns": {}, "people": ["buyer_id"], "hidden": ["id"]}
    with zipfile.ZipFile(tmp_path / "out.zip", "w") as archive, translation.override("en"):
        package_readable.write_readable_copies(archive, tmp_path / "hook" / "orders.json", "hook/orders", meta)
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        rows = list(csv.reader(io.StringIO(archive.read("hook/orders.csv").decode("utf-8-sig"))))
        page = archive.read("hook/orders.html").decode()
    assert rows == [["Item", "Buyer", "Extra"], ["'=SUM(A1)", "another member", ""], ["tea", "you", "late key"]]
    assert "<h1>Your orders</h1>" in page


def test_a_file_column_points_at_the_file_in_the_package_not_the_storage_path(
    stores_file, host_db, media_root, approved_request
):
    with host_db.cursor() as cursor:
        cursor.execute("UPDATE media_photo SET blob_path = 'avatars/1/me.png' WHERE id = 1")
    text = stores_file.read_text().replace(
        'name = "media_photo"\n',
        'name = "media_photo"\n  columns = { blob_path = { label = "Photo", file = "uploads" } }\n',
        1,
    )
    stores_file.write_text(text)
    archive = package_of(stores_file, approved_request)
    page = archive.read("app-db/media_photo.html").decode()
    assert '<th scope="col" title="blob_path">Photo</th>' in page
    assert '<a href="../uploads/files/avatars/1/me.png"><img src="../uploads/files/avatars/1/me.png"' in page
    assert "uploads/files/avatars/1/me.png" in archive.namelist()  # the link opens a file the ZIP carries
    rows = list(csv.DictReader(io.StringIO(archive.read("app-db/media_photo.csv").decode("utf-8-sig"))))
    assert rows[0]["Photo"] == "uploads/files/avatars/1/me.png"


def test_the_only_match_column_of_a_table_is_left_out_of_the_readable_copies(stores_file, approved_request):
    archive = package_of(stores_file, approved_request)
    header = next(csv.reader(io.StringIO(archive.read("app-db/media_photo.csv").decode("utf-8-sig"))))
    assert "Owner" not in header and "Caption" in header  # owner_id = the subject in every row
    page = archive.read("app-db/media_photo.html").decode()
    assert 'title="owner_id"' not in page
