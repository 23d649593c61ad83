"""Shared by erase_subject and export_subject: a staff-initiated request run in this process."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import CommandError, OutputWrapper

from portal.email_address import is_valid_email_address
from requests_app.engine import cli, finish
from requests_app.engine.local import run_local
from requests_app.engine.plan import cannot_hold_anything, phases_for, seed_identities
from requests_app.models import PrivacyRequest
from requests_app.services.intake import request_file_approved
from requests_app.services.validation import RequestError
from requests_app.stores import registry


def actor(command: str) -> str:
    try:
        who = getpass.getuser()
    except Exception:  # no user name in some containers
        who = "unknown"
    return f"command:manage.py {command} (OS user {who})"


def clean_email(value: str) -> str:
    if not is_valid_email_address(value.strip()):
        raise CommandError(f"--email: {value!r} is not an e-mail address (name@example.com, no quotes or spaces)")
    return value.strip().lower()


def create_request(kind: str, email: str, command: str, reason: str) -> PrivacyRequest:
    try:
        return request_file_approved(kind=kind, email=email, actor=actor(command), reason=reason)
    except RequestError as exc:
        raise CommandError(f"--email: {exc}")


def run(request: PrivacyRequest, stdout: OutputWrapper, notify: bool) -> PrivacyRequest:
    loaded = registry.load()
    if loaded.errors:
        raise CommandError("The stores file has errors; run manage.py check_stores:\n" + "\n".join(loaded.errors))
    seed_identities(request)  # plan() seeds them too (idempotent); the skip below needs them now
    total = sum(len(phases_for(request, s)) for s in loaded.stores if not cannot_hold_anything(request, s))
    bar = cli.ProgressBar(stdout, total)
    token = finish.NOTIFY.set(notify)
    try:
        result = run_local(request, progress=lambda task, outcome: bar.step(f"{task.store} · {task.phase} · {outcome}"))
    finally:
        finish.NOTIFY.reset(token)
        bar.close()
    return result


def summary(request: PrivacyRequest) -> str:
    """Per store: what was found and done, and a status that is true for every phase.

    A store whose tasks never ran (another store failed first) says so; "gone"
    or "NOT gone" appear only when verification actually ran.
    """
    rows: dict[str, dict[str, Any]] = {}
    not_covered: list[str] = []
    for task in request.store_tasks.order_by("id"):
        row = rows.setdefault(
            task.store,
            {"found": 0, "exported": 0, "erased": 0, "anonymised": 0, "verified": "", "status": "ok"},
        )
        if task.phase == "discover":
            row["found"] = task.found_count
            for gap in (task.detail or {}).get("not_covered", []):
                rows_there = gap.get("rows")
                count = (
                    "rows unknown: cannot read it"
                    if rows_there is None
                    else f"{rows_there} row(s) of this person"
                    if rows_there
                    else "no rows of this person"
                )
                not_covered.append(f"not covered: {task.store} · {gap['table']} ({count}) — {gap['why']}")
        row["exported"] += task.exported_count
        row["erased"] += task.erased_count
        row["anonymised"] += task.anonymised_count
        if task.phase == "verify" and task.status == "succeeded":
            row["verified"] = "gone" if task.verified_gone else "NOT gone"
        elif task.phase == "verify" and task.status == "skipped":
            row["verified"] = "not checked"
        if task.status == "failed":
            row["status"] = f"FAILED ({task.phase}): {task.last_error[:80]}"
        elif task.status in ("pending", "running") and not row["status"].startswith("FAILED"):
            row["status"] = f"not run ({task.phase} did not start: the request stopped)"
            if task.phase == "verify":
                row["verified"] = "—"
    out = cli.table(
        ["store", "found", "exported", "erased", "anonymised", "verified", "status"],
        [
            [name, r["found"], r["exported"], r["erased"], r["anonymised"], r["verified"], r["status"]]
            for name, r in rows.items()
        ],
    )
    return "\n".join([out, *not_covered])
