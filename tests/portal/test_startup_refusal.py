"""Production web and worker processes refuse to start without the receipt signing key (one line, exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DJANGO_DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "production-like-secret-for-this-test-0123456789",
    "ALLOWED_HOSTS": "portal.example",
    "PORTAL_PLAIN_STATIC": "true",
}


def _run(args: list[str], var_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
    env.update(PRODUCTION, PORTAL_VAR_DIR=str(var_dir), **extra)
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _refusals(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "refuses to start" in line]


@pytest.mark.parametrize(
    "args, process",
    [
        (
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-P", "solo", "--loglevel=WARNING"],
            "celery worker",
        ),
        ([sys.executable, "-c", "import portal.wsgi"], "web"),
    ],
)
def test_production_process_without_receipt_key_refuses_to_start(tmp_path, args, process):
    result = _run(args, tmp_path)
    assert result.returncode != 0
    (line,) = _refusals(result.stderr)
    assert line.startswith(f"{process} refuses to start: PORTAL_RECEIPT_KEY_FILE=")
    assert "manage.py rotate_receipt_key" in line
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "receipt-signing-keys.json").exists()


def test_production_web_starts_with_the_receipt_key(tmp_path):
    created = _run([sys.executable, "manage.py", "rotate_receipt_key"], tmp_path)
    assert created.returncode == 0, created.stderr
    result = _run([sys.executable, "-c", "import portal.wsgi; print('ready')"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ready" in result.stdout and not _refusals(result.stderr)


def test_debug_web_starts_without_a_key_file(tmp_path):
    """``make run`` (debug) creates the key on first use: nothing is refused at start."""
    result = _run([sys.executable, "-c", "import portal.wsgi; print('ready')"], tmp_path, DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert "ready" in result.stdout
