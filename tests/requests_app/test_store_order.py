"""Store dependency order: one function for the engine and ``erase_subject --dry-run``."""

from __future__ import annotations

from dataclasses import dataclass, field

from requests_app.stores.registry import discovery_dependencies, discovery_order


@dataclass
class FakeStore:
    name: str
    needs: set[str] = field(default_factory=set)
    provides: set[str] = field(default_factory=set)
    services: tuple[str, ...] = ()
    ledger_catch_all: bool = False

    @property
    def uses(self) -> set[str]:
        return self.needs


def test_dependencies_name_the_providers_of_needed_kinds():
    db = FakeStore("db", needs={"email"}, provides={"user_id", "blob_name"})
    blobs = FakeStore("blobs", needs={"blob_name"})
    files = FakeStore("files", needs={"user_id"})
    assert discovery_dependencies([blobs, files, db]) == {"db": set(), "blobs": {"db"}, "files": {"db"}}


def test_order_puts_providers_first_and_keeps_file_order_otherwise():
    face = FakeStore("face", needs={"face_person_id"})
    db = FakeStore("db", provides={"user_id"})
    photos = FakeStore("photos", needs={"user_id"}, provides={"face_person_id"})
    assert [s.name for s in discovery_order([face, db, photos])] == ["db", "photos", "face"]


def test_order_breaks_a_circle_at_the_first_store_left():
    a = FakeStore("a", needs={"y"}, provides={"x"})
    b = FakeStore("b", needs={"x"}, provides={"y"})
    assert [s.name for s in discovery_order([a, b])] == ["a", "b"]


def test_a_store_handed_ledger_rows_waits_for_every_identity_source():
    db = FakeStore("db", needs={"email"}, provides={"user_id"})
    media = FakeStore("media", needs={"user_id"}, provides={"face_person_id"})
    face = FakeStore("face", needs={"face_person_id"}, services=("face",))
    ledger = FakeStore("ledger", ledger_catch_all=True)
    deps = discovery_dependencies([ledger, face, media, db])
    assert deps["ledger"] == {"db", "media"} and deps["face"] == {"db", "media"}
    assert [s.name for s in discovery_order([ledger, face, media, db])][-2:] == ["ledger", "face"]
