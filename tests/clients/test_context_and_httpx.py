"""The subject context across threads and asyncio tasks, and the httpx transports (sync and async)."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from privacy_portal_client import ConsentRefused, NoSubject, current

from tests.clients.conftest import outbox_records

PERSONS = "/face/v1.2/persongroups/app-users/persons"


def test_httpx_transport_records_and_refuses(open_client, creating_face, monkeypatch):
    http = httpx.Client(
        transport=open_client.httpx_transport(),
        base_url=creating_face.url,
        headers={"Ocp-Apim-Subscription-Key": creating_face.key},
    )
    with open_client.subject(user_id="42", purpose="face-verification"):
        person = http.post(PERSONS, json={"name": "a"}).json()["personId"]
    [record] = outbox_records(open_client)
    assert (record["resource_kind"], record["resource_id"]) == ("person", person)
    monkeypatch.setattr(open_client, "may_send", lambda subject: False)
    before = creating_face.person_count()
    with open_client.subject(user_id="7", purpose="face-verification"), pytest.raises(ConsentRefused):
        http.post(PERSONS, json={"name": "b"})
    with pytest.raises(NoSubject):
        http.post(PERSONS, json={"name": "c"})
    assert creating_face.person_count() == before  # nothing reached the service


def test_async_tasks_each_keep_their_subject(open_client, creating_face):
    async def create(user_id: str) -> str:
        with open_client.subject(user_id=user_id, purpose="face-verification"):
            async with httpx.AsyncClient(
                transport=open_client.httpx_async_transport(),
                base_url=creating_face.url,
                headers={"Ocp-Apim-Subscription-Key": creating_face.key},
            ) as http:
                await asyncio.sleep(0)  # interleave the tasks
                return (await http.post(PERSONS, json={"name": user_id})).json()["personId"]

    async def main():
        return await asyncio.gather(*(create(str(n)) for n in range(5)))

    persons = asyncio.run(main())
    by_person = {r["resource_id"]: r["subject_value"] for r in outbox_records(open_client)}
    assert by_person == {person: str(n) for n, person in enumerate(persons)}


def test_threads_do_not_see_each_others_subject_and_bind_carries_it(open_client):
    seen: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def work(name: str) -> None:
        with open_client.subject(user_id=name, purpose="face-verification"):
            barrier.wait()
            seen[name] = current().value

    threads = [threading.Thread(target=work, args=(n,)) for n in ("1", "2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"1": "1", "2": "2"}

    with open_client.subject(user_id="42", purpose="face-verification"):
        bound = open_client.bind(lambda: current())
    result: list = []
    plain = threading.Thread(target=lambda: result.append(current()))
    carried = threading.Thread(target=lambda: result.append(bound()))
    plain.start(), plain.join(), carried.start(), carried.join()
    assert result[0] is None and result[1].value == "42"


def test_subject_needs_one_identity_and_a_purpose_slug(open_client):
    with pytest.raises(TypeError, match="exactly one identity"):
        open_client.subject(user_id="1", email="a@b.c", purpose="x").__enter__()
    with pytest.raises(ValueError, match="slug"):
        open_client.subject(user_id="1", purpose="not a slug").__enter__()
    with pytest.raises(ValueError, match="say why"):
        open_client.not_personal(" ").__enter__()


def test_the_package_imports_without_django():
    import subprocess
    import sys

    code = (
        "import sys, privacy_portal_client; "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PATH": "/usr/bin"})
