"""The ledger's ``account`` spellings documented in docs/azure.md ("The `account` of a ledger row")
are the ones the Azure stores match — through each store's own ``accounts()``."""

from __future__ import annotations

import pytest

from requests_app.stores import registry
from requests_app.stores.azure.common import normalise_account


def store(kind: str, name: str, config: dict):
    """Built by kind, as the stores file does (the modules behind the kinds may move)."""
    return registry.store_class(kind)(name, config)


KEY = "a2V5LW9mLXRoZS1hY2NvdW50"  # base64, as a storage account key is
VI_ID = "7b1f0c52-5a3e-4b7e-9a3c-2f4d8e6a9b10"

FACE = store("azure_face", "face", {"endpoint": "https://myface.cognitiveservices.azure.com", "key": "k"})
SPEECH = store("azure_speech", "speech", {"endpoint": "https://westeurope.api.cognitive.microsoft.com", "key": "k"})
BLOB = store(
    "azure_blob",
    "media",
    {
        "connection_string": f"DefaultEndpointsProtocol=https;AccountName=mediaacct;AccountKey={KEY};"
        "EndpointSuffix=core.windows.net",
        "container": "media",
    },
)
AZURITE = store(
    "azure_blob",
    "media",
    {
        "connection_string": f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};"
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
        "container": "media",
    },
)
VIDEO = store("azure_video_indexer", "videos", {"location": "westeurope", "account_id": VI_ID, "access_token": "t"})


def matches(azure_store, account: str) -> bool:
    return normalise_account(account) in azure_store.accounts()


@pytest.mark.parametrize(
    ("azure_store", "account"),
    [
        (FACE, "https://myface.cognitiveservices.azure.com"),
        (FACE, "https://MyFace.cognitiveservices.azure.com/face/v1.2/"),
        (FACE, "myface.cognitiveservices.azure.com"),
        (SPEECH, "https://westeurope.api.cognitive.microsoft.com"),
        (SPEECH, "https://westeurope.api.cognitive.microsoft.com/speechtotext/v3.2"),
        (BLOB, "mediaacct"),
        (BLOB, "https://mediaacct.blob.core.windows.net"),
        (BLOB, "https://mediaacct.blob.core.windows.net/media/users/42/a.jpg"),
        (BLOB, "mediaacct.privatelink.blob.core.windows.net"),
        (AZURITE, "http://127.0.0.1:10000/devstoreaccount1"),
        (AZURITE, "devstoreaccount1"),
        (VIDEO, VI_ID),
        (VIDEO, VI_ID.upper()),
    ],
)
def test_documented_spellings_match_the_store(azure_store, account):
    assert matches(azure_store, account)


@pytest.mark.parametrize(
    ("azure_store", "account"),
    [
        (FACE, "myface"),  # the resource name alone is not the endpoint's host
        (BLOB, "https://mediaacct.dfs.core.windows.net"),  # Data Lake endpoint: list it in ledger_accounts
        (VIDEO, f"https://api.videoindexer.ai/westeurope/Accounts/{VI_ID}"),  # a URL is not the account id
        (VIDEO, "my-vi-account"),  # nor is the account's name
        (SPEECH, "https://myspeech.cognitiveservices.azure.com"),  # another host than the store's endpoint
    ],
)
def test_documented_non_matches(azure_store, account):
    assert not matches(azure_store, account)


def test_ledger_accounts_adds_another_spelling():
    videos = store(
        "azure_video_indexer",
        "videos",
        {"location": "westeurope", "account_id": VI_ID, "access_token": "t", "ledger_accounts": ["my-vi-account"]},
    )
    assert matches(videos, "my-vi-account") and matches(videos, VI_ID)


def _documented_examples() -> list[dict]:
    import json
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "azure.md").read_text()
    section = text[text.index("### The `account` of a ledger row") : text.index("## Retired services")]
    return [json.loads(body) for body in re.findall(r"-d '(\{.*?\})'", section, re.S)]


@pytest.mark.django_db
def test_documented_example_posts_are_accepted_and_match_a_store(client, api_key):
    from tests.requests_app.azure_helpers import purpose

    examples = _documented_examples()
    assert {e["service"] for e in examples} == {"face", "blob", "media_services", "video_indexer", "speech"}
    stores = {"face": FACE, "blob": BLOB, "media_services": BLOB, "video_indexer": VIDEO, "speech": SPEECH}
    _, raw = api_key("transmissions:write")
    for example in examples:
        purpose(example["purpose"], requires_consent=False)
        response = client.post(
            "/api/v1/transmissions/", example, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        assert response.status_code == 201, response.json()
        assert matches(stores[example["service"]], example["account"]), example["service"]
