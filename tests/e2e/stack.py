"""The stack of `make run`, started for the journey tests, and a mailbox read like a person reads it.

``Stack.start`` runs ``make run PORT=<free port>`` in the project folder: migrate, demo_hostapp,
collectstatic, compile_translations, then the Procfile through honcho (gunicorn web, Celery worker,
Celery beat) on the embedded default — SQLite, the filesystem broker and e-mail files — all under a
temporary ``PORTAL_VAR_DIR``. Nothing about URLs or ports is set for the tests: the base URL in
e-mails is the one the Makefile gives every process, which is what issue 19 item 1 is about.

The only settings changed are the per-address and per-IP limits of the public forms (every journey
comes from 127.0.0.1 and reuses the demo's addresses), through the variables an operator sets.

``Mailbox`` reads ``<var>/mail/`` (Django's file e-mail backend: one file per connection, messages
separated by a line of 79 dashes) and hands out each message once, by recipient and a pattern.
"""

from __future__ import annotations

import email
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEPARATOR = "\n" + "-" * 79 + "\n"
# What the test process carries that must not reach the stack: it runs on its own defaults.
_FOREIGN = (
    "DJANGO_",
    "PORTAL_",
    "CELERY_",
    "DATABASE_URL",
    "CACHE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
    "PORT",
)
LIMITS = {
    "PORTAL_REQUEST_RATE": "1000/hour",
    "PORTAL_REQUEST_EMAIL_RATE": "1000/day",
    "PORTAL_ABUSE_IP_RATE": "1000/day",
    "PORTAL_ABUSE_EMAIL_RATE": "1000/day",
    # The demo host app has one person with data to request a copy of (alice), and every language
    # walks journey (a) as a first request. Within PORTAL_REPEAT_ACCESS_DAYS a repeat is answered
    # with the existing package instead — that path is tested in tests/requests_app/test_duplicates.py.
    "PORTAL_REPEAT_ACCESS_DAYS": "0",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StackError(AssertionError):
    pass


class Stack:
    def __init__(self, var: Path):
        self.var = var
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = var / "make-run.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
        self.env.update(PORTAL_VAR_DIR=str(var), PORTAL_DEMO_DIR=str(var / "demo"), **LIMITS)
        self.process: subprocess.Popen | None = None
        self.mailbox = Mailbox(var / "mail")

    def start(self, timeout: float = 240) -> Stack:
        self.var.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "run", f"PORT={self.port}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StackError(f"`make run` ended with {self.process.returncode}:\n{self.tail()}")
            if self.status("/") == 200:
                return self
            time.sleep(0.5)
        self.stop()
        raise StackError(f"the web did not answer on {self.url} within {timeout:.0f} s:\n{self.tail()}")

    def status(self, path_or_url: str) -> int | None:
        """The HTTP status of a GET (redirects followed), None if nothing answers."""
        url = path_or_url if path_or_url.startswith("http") else self.url + path_or_url
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own stack
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, OSError):
            return None

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        """A management command with the stack's settings, as an operator runs it beside `make run`."""
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise StackError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Ctrl-C, as a person ends `make run`; the whole group if it does not end."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class Mailbox:
    def __init__(self, folder: Path):
        self.folder = folder
        self.taken: set[tuple[str, int]] = set()

    def messages(self) -> list[tuple[tuple[str, int], EmailMessage]]:
        found = []
        for path in sorted(self.folder.glob("*.log"), key=lambda p: (p.stat().st_mtime, p.name)):
            raw = path.read_bytes().decode("utf-8", errors="replace")
            # Only complete messages: each is followed by the separator line.
            for index, part in enumerate(raw.split(SEPARATOR)[:-1]):
                message = email.message_from_string(part.lstrip("\n"), policy=default_policy)
                found.append(((path.name, index), message))  # type: ignore[arg-type]
        return found

    def wait(
        self, to: str, pattern: str, timeout: float = 90, stack: Stack | None = None, attachments: bool = False
    ) -> EmailMessage:
        """The next message to ``to`` whose text matches ``pattern`` (a regular expression).

        ``attachments=True``: only a message that carries files (a receipt, not the e-mails before it).
        """
        deadline = time.monotonic() + timeout
        while True:
            for key, message in self.messages():
                if key in self.taken or to.lower() not in str(message["To"]).lower():
                    continue
                if attachments and not list(message.iter_attachments()):
                    continue
                if re.search(pattern, text(message)):
                    self.taken.add(key)
                    return message
            if time.monotonic() > deadline:
                seen = [(str(m["To"]), str(m["Subject"])) for _, m in self.messages()]
                log = stack.tail() if stack else ""
                raise StackError(
                    f"no e-mail to {to} matching {pattern!r} within {timeout:.0f} s; mail so far: {seen}\n{log}"
                )
            time.sleep(0.3)


def text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def links(message: EmailMessage, base: str) -> list[str]:
    return re.findall(re.escape(base) + r"[^\s<>\"')]+", text(message))


def link(message: EmailMessage, base: str, path_part: str) -> str:
    found = [url for url in links(message, base) if path_part in url]
    if not found:
        raise StackError(f"no link to {base}…{path_part}… in the e-mail {message['Subject']!r}:\n{text(message)}")
    return found[0]
