"""Importing agents from the DRP service directory JSON (§3.05.1): one entry, a list, or {"agents": [...]}.

Each entry is checked against the published agent schema's shape (string fields,
``verify_key`` base64 of 32 bytes, https URLs) before anything is saved; an
error names the entry and the field. Importing is how staff admit an agent.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from portal import audit
from requests_app.drp.models import DrpAgent, validate_agent_id, validate_verify_key

STRING_FIELDS = (
    "id",
    "name",
    "verify_key",
    "web_url",
    "identity_assurance_url",
    "technical_contact",
    "business_contact",
)
URL_FIELDS = ("web_url", "identity_assurance_url")


class DirectoryError(Exception):
    pass


def _entries(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DirectoryError(f"Not JSON: {exc}.") from None
    if isinstance(data, dict) and isinstance(data.get("agents"), list):
        data = data["agents"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data or not all(isinstance(e, dict) for e in data):
        raise DirectoryError('Expected an agent entry, a list of them, or {"agents": [...]}.')
    return data


def _check(entry: dict[str, Any], n: int) -> dict[str, str]:
    where = f"entry {n} ({str(entry.get('id', '?'))[:64]})"
    for name in STRING_FIELDS:
        if name in entry and not isinstance(entry[name], str):
            raise DirectoryError(f"{where}: “{name}” must be a string.")
    for name in ("id", "name", "verify_key"):
        if not entry.get(name):
            raise DirectoryError(f"{where}: “{name}” is required.")
    for name in URL_FIELDS:
        if entry.get(name) and not entry[name].startswith("https://"):
            raise DirectoryError(f"{where}: “{name}” must be an https:// URL.")
    try:
        validate_agent_id(entry["id"])
        validate_verify_key(entry["verify_key"])
    except ValidationError as exc:
        raise DirectoryError(f"{where}: {' '.join(exc.messages)}") from None
    return {name: entry.get(name, "") for name in STRING_FIELDS}


def import_agents(text: str, *, actor: audit.Actor) -> list[DrpAgent]:
    """Create or update (and admit) every agent in the JSON; all or nothing."""
    checked = [_check(entry, n) for n, entry in enumerate(_entries(text), start=1)]
    agents = []
    with transaction.atomic():
        for entry in checked:
            agent, created = DrpAgent.objects.update_or_create(
                agent_id=entry["id"],
                defaults={
                    "name": entry["name"][:200],
                    "verify_key": entry["verify_key"],
                    "web_url": entry["web_url"],
                    "identity_assurance_url": entry["identity_assurance_url"],
                    "technical_contact": entry["technical_contact"][:254],
                    "business_contact": entry["business_contact"][:254],
                    "active": True,
                    "admitted_by": audit.actor_fields(actor).get("actor_label", "")[:150],
                },
            )
            audit.record(
                subject_type="drp_agent",
                subject_id=agent.pk,
                actor=actor,
                action="drp.agent_admitted" if created else "drp.agent_updated",
                data={"agent_id": agent.agent_id, "source": "directory import"},
            )
            agents.append(agent)
    return agents
