"""A small host app speaking the webhook store protocol (docs/webhook-protocol.md) over real HTTP.

It keeps its data in memory, checks the portal's signature on every call and
signs its answers. ``fail_next`` queues error answers (status, headers) to
exercise retries; ``mode = "callback"`` answers 202 and remembers the call so a
test can post the callback.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from requests_app.stores import webhook

SECRET = "s3cret-s3cret-s3cret-s3cret-s3cret-42"


class HostApp:
    def __init__(self, secret: str = SECRET):
        self.secret = secret
        self.users = {
            "alice@example.com": {
                "user_id": "1",
                "orders": [{"id": 10, "total": "12.50"}, {"id": 11, "total": "3"}],
            },
            "bob@example.org": {"user_id": "2", "orders": [{"id": 20, "total": "7"}]},
        }
        self.calls: list[dict[str, Any]] = []
        self.fail_next: list[tuple[int, dict[str, str]]] = []
        self.mode = "sync"
        self.sign_answers = True
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server
        return f"http://127.0.0.1:{self.server.server_address[1]}/privacy-hook"

    def answer(self, call: dict[str, Any]) -> dict[str, Any]:
        emails = call["identities"].get("email", [])
        mine = [self.users[e] for e in emails if e in self.users]
        action = call["action"]
        if action in ("discover", "verify"):
            return {
                "status": "done",
                "found": sum(len(u["orders"]) + 1 for u in mine),
                "provides": {"user_id": [u["user_id"] for u in mine]},
                "detail": {"orders": len(mine)},
            }
        if action == "export":
            return {"status": "done", "records": {"orders": [o for u in mine for o in u["orders"]]}}
        erased = 0
        for email in emails:
            user = self.users.pop(email, None)
            if user:
                erased += len(user["orders"]) + 1
        return {
            "status": "done",
            "erased": erased,
            "manual_steps": [{"what": "paper invoices", "how": "shredded by accounting within 30 days"}]
            if erased
            else [],
        }

    def start(self) -> HostApp:
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                problem = webhook.check_signature(app.secret, body, self.headers)
                if problem:
                    return self._send(401, {"message": problem})
                call = json.loads(body)
                app.calls.append(call)
                if app.fail_next:
                    status, headers = app.fail_next.pop(0)
                    return self._send(status, {"message": "try later"}, headers)
                if app.mode == "callback":
                    return self._send(202, {"status": "accepted"})
                return self._send(200, app.answer(call))

            def _send(self, status, payload, headers=None):
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if app.sign_answers:
                    for key, value in webhook.signed_headers(app.secret, raw).items():
                        self.send_header(key, value)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def stores_toml(url: str, secret: str = SECRET, extra: str = "") -> str:
    return f"""
[[store]]
name = "app-hook"
kind = "webhook"
url = "{url}"
secret = "{secret}"
identities = ["email"]
provides = ["user_id"]
timeout = 5
{extra}
"""
