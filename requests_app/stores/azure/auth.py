"""Credentials for Azure calls: a resource key, or Microsoft Entra ID via azure-identity.

Store configuration picks one:

- ``key = "${AZURE_FACE_KEY}"``: sent as ``Ocp-Apim-Subscription-Key`` (Face, Speech).
- ``auth = "entra"``: a bearer token from azure-identity. With ``tenant_id``,
  ``client_id`` and ``client_secret`` a service principal
  (``ClientSecretCredential``); otherwise ``DefaultAzureCredential`` (managed
  identity, workload identity, environment, Azure CLI).
- ``bearer_token = "${TOKEN}"``: a token obtained elsewhere (e.g. ``az account
  get-access-token``), for one-off runs and the local fakes.
"""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential

COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"
ARM_SCOPE = "https://management.azure.com/.default"


class StaticTokenCredential:
    """A TokenCredential around a token handed to us in the configuration."""

    def __init__(self, token: str, lifetime: int = 3600):
        self._token = token
        self._expires_on = int(time.time()) + lifetime

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, self._expires_on)


def entra_credential(config: dict[str, Any]) -> TokenCredential:
    if config.get("bearer_token"):
        return StaticTokenCredential(config["bearer_token"])
    if config.get("client_secret"):
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(config["tenant_id"], config["client_id"], config["client_secret"])
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def auth_config_errors(config: dict[str, Any], *, key_allowed: bool = True) -> list[tuple[str, str]]:
    """Validate the auth fields of a store table."""
    errors: list[tuple[str, str]] = []
    auth = config.get("auth", "key" if config.get("key") else "entra")
    if auth not in ("key", "entra"):
        errors.append(("auth", f"{auth!r} is not one of key, entra"))
    elif auth == "key":
        if not key_allowed:
            errors.append(("auth", 'this service has no key auth; use auth = "entra"'))
        elif not config.get("key"):
            errors.append(("key", 'required with auth = "key" (the resource key from the Azure portal)'))
    elif config.get("client_secret") or config.get("client_id"):
        for field in ("tenant_id", "client_id", "client_secret"):
            if not config.get(field):
                errors.append((field, "required for a service principal (tenant_id, client_id, client_secret)"))
    return errors
