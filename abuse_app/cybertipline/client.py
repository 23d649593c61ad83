"""The CyberTipline ESP reporting API over HTTP: Basic auth, XML in and out.

Every call returns the parsed answer or raises:

- ``TransientApiError``: no answer, a 5xx, a 429, or an answer that is not the API's
  XML — try again later;
- ``RefusedError``: the API answered with a non-zero ``responseCode`` (our report or
  our credentials are wrong) — trying again will not help, staff must look.

"Already finished" (5102) and "already retracted" (5101) are returned, not raised: the
report is in the state the caller wanted.
"""

from __future__ import annotations

import base64
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode

from abuse_app.cybertipline.xml import Answer, AnswerError, parse_answer

ALREADY_RETRACTED = 5101
ALREADY_FINISHED = 5102
TIMEOUT = 60


class TransientApiError(Exception):
    pass


class RefusedError(Exception):
    def __init__(self, call: str, answer: Answer):
        self.answer = answer
        super().__init__(
            f"The CyberTipline refused {call}: code {answer.response_code} ({answer.description or 'no description'})"
        )


@dataclass(frozen=True)
class CyberTiplineClient:
    base_url: str
    username: str
    password: str

    def _call(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> bytes:
        credentials = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        headers = {"Authorization": f"Basic {credentials}", "Accept": "application/xml"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(  # noqa: S310  (the configured https URL of the API)
            self.base_url.rstrip("/") + path, data=body, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            payload = exc.read() or b""
            if exc.code >= 500 or exc.code == 429:
                raise TransientApiError(f"{method} {path}: HTTP {exc.code}") from exc
            try:
                answer = parse_answer(payload)
            except AnswerError:
                raise TransientApiError(f"{method} {path}: HTTP {exc.code} without the API's XML") from exc
            if answer.response_code in (ALREADY_FINISHED, ALREADY_RETRACTED):
                return payload
            raise RefusedError(f"{method} {path}", answer) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TransientApiError(f"{method} {path}: {type(exc).__name__}") from exc

    def _answer(self, call: str, payload: bytes) -> Answer:
        try:
            answer = parse_answer(payload)
        except AnswerError as exc:
            raise TransientApiError(f"{call}: {exc}") from exc
        if answer.response_code not in (0, ALREADY_FINISHED, ALREADY_RETRACTED):
            raise RefusedError(call, answer)
        return answer

    def status(self) -> Answer:
        return self._answer("GET /status", self._call("GET", "/status"))

    def xsd(self) -> str:
        return self._call("GET", "/xsd").decode("utf-8")

    def submit(self, report_xml: str) -> str:
        answer = self._answer("POST /submit", self._call("POST", "/submit", report_xml.encode(), "text/xml"))
        if not answer.report_id.isdigit():
            raise TransientApiError("POST /submit: the answer carries no reportId")
        return answer.report_id

    def upload(self, report_id: str, filename: str, content: bytes) -> Answer:
        boundary = secrets.token_hex(16)
        safe_name = "".join(c for c in filename if c.isalnum() or c in "._-") or "file"
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\n{report_id}\r\n'.encode(),
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe_name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n".encode(),
                content,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        call = "POST /upload"
        answer = self._answer(call, self._call("POST", "/upload", body, f"multipart/form-data; boundary={boundary}"))
        if not answer.file_id:
            raise TransientApiError(f"{call}: the answer carries no fileId")
        return answer

    def fileinfo(self, details_xml: str) -> Answer:
        return self._answer("POST /fileinfo", self._call("POST", "/fileinfo", details_xml.encode(), "text/xml"))

    def finish(self, report_id: str) -> Answer:
        form = urlencode({"id": report_id}).encode()
        return self._answer("POST /finish", self._call("POST", "/finish", form, "application/x-www-form-urlencoded"))

    def retract(self, report_id: str) -> Answer:
        form = urlencode({"id": report_id}).encode()
        return self._answer("POST /retract", self._call("POST", "/retract", form, "application/x-www-form-urlencoded"))
