"""A fake of NCMEC's CyberTipline ESP reporting API, written from its public description.

Base URL ``{url}`` (like ``https://exttest.cybertip.org/ispws``). HTTP Basic auth on every
call (401 + ``reportResponse`` code 2000 otherwise). XML bodies, answers as XML:

- ``GET /status``: code 0, "Remote User : <name>, Remote Ip : <ip>";
- ``GET /xsd``: the schema (a faithful subset, ``cybertipline.xsd`` beside this file);
- ``POST /submit`` (a ``report`` document): validated against the schema → ``reportId``;
  malformed XML 4110, a schema violation 4100, both with HTTP 400 and the reasons;
- ``POST /upload`` (multipart ``id`` + ``file``) → ``fileId`` and the file's MD5 ``hash``;
- ``POST /fileinfo`` (a ``fileDetails`` document) → code 0;
- ``POST /finish`` (form ``id``) → ``reportDoneResponse`` with the file ids;
- ``POST /retract`` (form ``id``) → code 0; both answer 5102 once finished, 5101 once retracted;
- an unknown or dropped report: 5001; an unknown file: 5002. A report left unfinished for
  ``abandon_after`` seconds is dropped, as NCMEC drops unfinished reports.

Knobs for tests: ``fault_rate`` (share of calls answered 500/503 before anything is done),
``lost_reply_rate`` (share of calls done, then answered 502 — the reply lost on the way),
``fail_next(status, count, path)``, ``hold(path)`` (calls to that path wait until
``release()``: a test can kill a worker while it waits). Counters: ``calls``, ``reports``.
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import xmlschema

XSD_PATH = Path(__file__).with_name("cybertipline.xsd")
PREFIX = "/ispws"


@dataclass
class FakeReport:
    report_id: int
    xml: str
    opened_at: float
    status: str = "open"  # open, finished, retracted, dropped
    files: dict[str, dict[str, Any]] = field(default_factory=dict)


def _answer(code: int, description: str, root: str = "reportResponse", **fields: Any) -> bytes:
    parts = [f"<responseCode>{code}</responseCode>"]
    if root == "reportResponse":
        parts.append(f"<responseDescription>{_escape(description)}</responseDescription>")
    for name, value in fields.items():
        if isinstance(value, list):
            parts.append(f"<{name}>" + "".join(f"<fileId>{v}</fileId>" for v in value) + f"</{name}>")
        elif value is not None:
            parts.append(f"<{name}>{_escape(str(value))}</{name}>")
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{root}>{"".join(parts)}</{root}>'.encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class FakeCyberTipline:
    def __init__(
        self,
        *,
        username: str = "esp-user",
        password: str = "esp-password",  # noqa: S107  (the fake's own demo credential)
        fault_rate: float = 0.0,
        lost_reply_rate: float = 0.0,
        abandon_after: float = 24 * 3600,
        seed: int = 22,
    ):
        self.username, self.password = username, password
        self.fault_rate, self.lost_reply_rate, self.abandon_after = fault_rate, lost_reply_rate, abandon_after
        self.random = random.Random(seed)
        self.schema = xmlschema.XMLSchema(XSD_PATH)
        self.lock = threading.RLock()
        self.reports: dict[int, FakeReport] = {}
        self.calls: list[str] = []
        self._next_id = 100_000 + self.random.randrange(1000)
        self._scripted: list[tuple[int, str | None]] = []
        self._holds: dict[str, threading.Event] = {}
        self.arrived: dict[str, threading.Event] = {}
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle -------------------------------------------------------------
    def start(self) -> FakeCyberTipline:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            do_POST = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-cybertipline", daemon=True).start()
        return self

    def stop(self) -> None:
        for event in self._holds.values():
            event.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeCyberTipline:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    # --- knobs -----------------------------------------------------------------
    def fail_next(self, status: int, count: int = 1, path: str | None = None) -> None:
        with self.lock:
            self._scripted.extend([(status, path)] * count)

    def hold(self, path: str) -> threading.Event:
        """Calls to ``path`` wait (after doing nothing yet) until ``release(path)``; returns the arrival event."""
        self._holds[path] = threading.Event()
        self.arrived[path] = threading.Event()
        return self.arrived[path]

    def release(self, path: str) -> None:
        self._holds.pop(path, threading.Event()).set()

    def finished(self) -> list[FakeReport]:
        return [r for r in self.reports.values() if r.status == "finished"]

    # --- dispatch --------------------------------------------------------------
    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        path = urlsplit(http.path).path
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        route = path[len(PREFIX) :] if path.startswith(PREFIX) else path
        with self.lock:
            self.calls.append(f"{http.command} {route}")
        if route in self._holds:
            self.arrived[route].set()
            self._holds[route].wait(timeout=60)
        status, payload, ctype = self._respond(http, route, body)
        try:
            http.send_response(status)
            http.send_header("Content-Type", ctype)
            http.send_header("Content-Length", str(len(payload)))
            http.end_headers()
            http.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller is gone (a killed worker): what it asked for is done all the same

    def _respond(self, http: BaseHTTPRequestHandler, route: str, body: bytes) -> tuple[int, bytes, str]:
        xml_type = "application/xml; charset=utf-8"
        if not self._authorised(http.headers.get("Authorization", "")):
            return 401, _answer(2000, "Authentication required"), xml_type
        with self.lock:
            scripted = next((s for s in self._scripted if s[1] in (None, route)), None)
            if scripted:
                self._scripted.remove(scripted)
                return scripted[0], b"<html><body>Service unavailable</body></html>", "text/html"
            if self.fault_rate and self.random.random() < self.fault_rate:
                return self.random.choice([500, 503]), b"<html><body>Server error</body></html>", "text/html"
            lose_reply = bool(self.lost_reply_rate) and self.random.random() < self.lost_reply_rate
            self._drop_abandoned()
            handlers = {
                ("GET", "/status"): self._status,
                ("GET", "/xsd"): self._xsd,
                ("POST", "/submit"): self._submit,
                ("POST", "/upload"): self._upload,
                ("POST", "/fileinfo"): self._fileinfo,
                ("POST", "/finish"): self._finish,
                ("POST", "/retract"): self._retract,
            }
            handler = handlers.get((http.command, route))
            if handler is None:
                return 404, _answer(1210, "Resource not found"), xml_type
            reply = handler(http, body)
        if lose_reply:
            return 502, b"<html><body>Bad gateway</body></html>", "text/html"
        return reply[0], reply[1], xml_type

    def _authorised(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return secrets.compare_digest(header.encode(), f"Basic {expected}".encode())

    def _drop_abandoned(self) -> None:
        now = time.monotonic()
        for report in self.reports.values():
            if report.status == "open" and now - report.opened_at > self.abandon_after:
                report.status = "dropped"

    # --- endpoints -------------------------------------------------------------
    def _status(self, http: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        return 200, _answer(0, f"Remote User : {self.username}, Remote Ip : {http.client_address[0]}")

    def _xsd(self, http: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        return 200, XSD_PATH.read_bytes()

    def _validated(self, body: bytes, root: str) -> tuple[Any, bytes | None]:
        try:
            resource = xmlschema.XMLResource(body.decode("utf-8"), defuse="always")
        except Exception as exc:
            return None, _answer(4110, f"Malformed XML submittal: {type(exc).__name__}")
        if resource.root.tag != root:
            return None, _answer(4100, f"Validation failed: expected <{root}>, got <{resource.root.tag}>")
        errors = [f"{e.path}: {e.reason}" for e in self.schema.iter_errors(resource)]
        if errors:
            return None, _answer(4100, "Validation failed: " + "; ".join(errors))
        return resource.root, None

    def _submit(self, http: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        _, error = self._validated(body, "report")
        if error:
            return 400, error
        self._next_id += 1
        self.reports[self._next_id] = FakeReport(self._next_id, body.decode(), time.monotonic())
        return 200, _answer(0, "Success", reportId=self._next_id)

    def _open_report(self, raw_id: str) -> tuple[FakeReport | None, bytes | None]:
        report = self.reports.get(int(raw_id)) if raw_id.strip().isdigit() else None
        if report is None or report.status == "dropped":
            return None, _answer(5001, "Report does not exist")
        if report.status == "finished":
            return None, _answer(5102, "Report already finished", reportId=report.report_id)
        if report.status == "retracted":
            return None, _answer(5101, "Report already retracted", reportId=report.report_id)
        return report, None

    def _upload(self, http: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        ctype = http.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data"):
            return 400, _answer(4200, "Malformed file submittal: multipart/form-data expected")
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
        if "id" not in fields or "file" not in fields or not fields["file"][1]:
            return 400, _answer(4200, "Malformed file submittal: the fields id and file are required")
        report, error = self._open_report(fields["id"][1].decode())
        if error or report is None:
            return 400, error or b""
        file_id = secrets.token_hex(16)
        md5 = hashlib.md5(fields["file"][1]).hexdigest()  # noqa: S324  (the API's own file checksum)
        report.files[file_id] = {"md5": md5, "size": len(fields["file"][1]), "details": None}
        return 200, _answer(0, "Success", reportId=report.report_id, fileId=file_id, hash=md5)

    def _fileinfo(self, http: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        root, error = self._validated(body, "fileDetails")
        if error:
            return 400, error
        report, error = self._open_report(root.findtext("reportId") or "")
        if error or report is None:
            return 400, error or b""
        file_id = root.findtext("fileId") or ""
        if file_id not in report.files:
            return 400, _answer(5002, "File does not exist")
        report.files[file_id]["details"] = body.decode()
        return 200, _answer(0, "Success", reportId=report.report_id)

    def _form_id(self, body: bytes) -> str:
        return (parse_qs(body.decode("utf-8", "replace")).get("id") or [""])[0]

    def _finish(self, http: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        report, error = self._open_report(self._form_id(body))
        if error or report is None:
            return 400, (error or b"").replace(b"reportResponse", b"reportDoneResponse")
        report.status = "finished"
        return 200, _answer(0, "", "reportDoneResponse", reportId=report.report_id, files=list(report.files))

    def _retract(self, http: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        report, error = self._open_report(self._form_id(body))
        if error or report is None:
            return 400, error or b""
        report.status = "retracted"
        return 200, _answer(0, "Success", reportId=report.report_id)
