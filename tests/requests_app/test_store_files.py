"""The files store kind on a real folder."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from requests_app.stores import registry
from requests_app.stores.base import PermanentStoreError, Subject
from requests_app.stores.files import FilesStore


def store(root, paths=("avatars/{user_id}/", "voice/{user_id}.wav", "exports/{user_id}-*")) -> FilesStore:
    config = {"root": str(root), "paths": list(paths)}
    assert FilesStore.config_errors(config) == []
    return FilesStore("uploads", config)


def alice() -> Subject:
    return Subject(identities={"user_id": {"1"}})


class FileSink:
    def __init__(self):
        self.files = {}

    @contextmanager
    def records(self, name):
        raise AssertionError("files stores write no records")
        yield

    def add_file(self, arcname, fileobj):
        self.files[arcname] = fileobj.read()


def test_discover_counts_folders_files_and_prefixes(media_root):
    found = store(media_root).discover(alice())
    assert found.found == 4  # two avatars (one in a subfolder), the voice file, one export
    assert found.counts["files"] == 4


def test_prefix_does_not_match_other_users_with_longer_ids(media_root):
    sink = FileSink()
    store(media_root).export(alice(), sink)
    assert "exports/1-2025.csv" in sink.files
    assert "exports/12-2025.csv" not in sink.files


def test_export_copies_the_files_with_their_paths(media_root):
    sink = FileSink()
    outcome = store(media_root).export(alice(), sink)
    assert outcome.exported == 4
    assert sink.files["avatars/1/old/me-2019.png"] == b"\x89PNG alice old"
    assert sink.files["voice/1.wav"] == b"RIFF alice voice"


def test_erase_removes_files_and_the_folder_and_keeps_others(media_root):
    outcome = store(media_root).erase(alice())
    assert outcome.erased == 4
    assert not (media_root / "avatars" / "1").exists()
    assert (media_root / "avatars" / "2" / "me.png").exists()
    assert (media_root / "voice" / "2.wav").exists()
    assert store(media_root).verify_gone(alice()).found == 0


def test_erase_twice_is_harmless(media_root):
    store(media_root).erase(alice())
    assert store(media_root).erase(alice()).erased == 0


@pytest.mark.parametrize("value", ["..", "../..", "1/../../etc", "/etc", "a\x00b"])
def test_identity_values_cannot_leave_the_root(media_root, value):
    outside = media_root.parent / "outside.txt"
    outside.write_text("keep me")
    found = store(media_root, paths=["{user_id}/", "{user_id}", "x/{user_id}"]).discover(
        Subject(identities={"user_id": {value}})
    )
    assert found.found == 0
    store(media_root, paths=["{user_id}/", "{user_id}"]).erase(Subject(identities={"user_id": {value}}))
    assert outside.exists() and media_root.exists()


def test_missing_root_is_a_permanent_error_naming_the_store(tmp_path):
    with pytest.raises(PermanentStoreError, match=r'store "uploads": root folder .* does not exist'):
        store(tmp_path / "nope").discover(alice())


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"paths": ["a/{user_id}"]}, "root", "required"),
        ({"root": "/x"}, "paths", "required"),
        ({"root": "/x", "paths": ["static/logo.png"]}, "paths[0]", "names no identity"),
        ({"root": "/x", "paths": ["../{user_id}"]}, "paths[0]", "must stay inside root"),
        ({"root": "/x", "paths": ["{User}"]}, "paths[0]", "is not an identity kind"),
        ({"root": "/x", "paths": ["a*/{user_id}"]}, "paths[0]", "only at the very end"),
        ({"root": "/x", "paths": ["{user_id"]}, "paths[0]", "broken {placeholder}"),
        ({"root": "/x", "paths": ["{user_id}"], "rooot": 1}, "rooot", "unknown field"),
    ],
)
def test_config_errors_name_the_field(config, field, message):
    errors = FilesStore.config_errors(config)
    assert any(f == field and message in m for f, m in errors), errors


def test_files_store_needs_the_identities_in_its_paths():
    loaded = registry.parse('[[store]]\nname = "u"\nkind = "files"\nroot = "/x"\npaths = ["a/{user_id}"]\n', "s.toml")
    assert loaded.errors == [
        's.toml: store "u" (files): needs identity kind(s) user_id that no store provides and the '
        'request form does not ask for (add a "provides" mapping, add the kind to '
        "PORTAL_EXTRA_IDENTIFIERS, or fix the name)"
    ]
