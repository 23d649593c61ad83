"""No e-mail addresses, tokens, keys, phone numbers or public IPs in any log line, whoever writes it."""

from __future__ import annotations

import io
import logging

import pytest

from portal.logging import RedactPersonalData, redact

# fixed, in the shape new_token("st") makes: xdist workers must collect the same test ids
SECRET_TOKEN = "st_StntmIsD-V1RvZn_5seppROsa66PK_dEMLxAmvkZq-g"


@pytest.mark.parametrize(
    "text, leaked",
    [
        ("verification sent to alice@example.com", "alice@example.com"),
        ("Authorization: Bearer pk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "pk_abcdefghijklmnop"),
        (f"GET /requests/status/{SECRET_TOKEN}/ 200", SECRET_TOKEN),
        ("GET /blob?sv=2024&sig=AbCdEf%2B123&se=2026 403", "AbCdEf%2B123"),
        ("Ocp-Apim-Subscription-Key: 0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"),
        ("call +49 170 1234567 now", "170 1234567"),
        ("client 81.2.69.142 refused", "81.2.69.142"),
        ("client 2a00:1450:4001:81b::200e refused", "2a00:1450:4001:81b::200e"),
        ("verify?code=123456&next=/", "123456"),
        ("GET /requests/verify/pv_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo/ 200", "pv_Zm9vYmFyYmF6cXV4"),
        ("GET /requests/status/ps_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd/ 200", "ps_AbCdEfGhIjKl"),
    ],
)
def test_redact_removes_personal_data_and_secrets(text, leaked):
    assert leaked not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "erased 1500 rows in 0.42 s",
        "due 2026-11-22 at 12:30:45",
        "request PR-7KQ2-M9XD moved to approved",
        "redis at 127.0.0.1:6379 and db at 10.0.0.5",
        "store app-db: 3 tables, attempt 2 of 5",
        "task requests_app.run_store_task_for_request done",
    ],
)
def test_redact_keeps_operational_figures(text):
    assert redact(text) == text


def _capture(logger_name: str) -> tuple[logging.Logger, io.StringIO, logging.Handler]:
    """A logger with its own handler (as Celery and gunicorn set up) and no portal filter on it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger, stream, handler


@pytest.mark.parametrize(
    "logger_name",
    [
        "celery.task.requests_app.tasks",
        "celery.app.trace",
        "gunicorn.error",
        "requests_app.services",
        "abuse_app.services",
    ],
)
def test_every_logger_is_redacted_even_with_its_own_handler(logger_name):
    logger, stream, handler = _capture(logger_name)
    try:
        logger.warning("could not send to %s (token %s)", "alice@example.com", SECRET_TOKEN)
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert "alice@example.com" not in line and SECRET_TOKEN not in line
    assert "[email]" in line and "[token]" in line


def test_gunicorn_access_log_line_is_redacted():
    logger, stream, handler = _capture("gunicorn.access")
    try:
        # gunicorn logs access lines as a format string with a dict of "atoms".
        atoms = {"h": "81.2.69.160", "r": f"GET /requests/status/{SECRET_TOKEN}/ HTTP/1.1", "s": "200"}
        logger.info('%(h)s "%(r)s" %(s)s', atoms)
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert "81.2.69.160" not in line and SECRET_TOKEN not in line
    assert '"GET /requests/status/[token]/ HTTP/1.1" 200' in line


def test_tracebacks_are_redacted():
    logger, stream, handler = _capture("portal.test")
    try:
        try:
            raise ValueError("duplicate key value violates unique constraint: Key (email)=(bob@example.org)")
        except ValueError:
            logger.exception("insert failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Traceback" in output and "ValueError" in output
    assert "bob@example.org" not in output


def test_filter_in_settings_is_on_the_console_handler(settings):
    assert "redact_personal_data" in settings.LOGGING["handlers"]["console"]["filters"]
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("carol@example.net",), None)
    RedactPersonalData().filter(record)
    assert record.getMessage() == "to [email]"


def test_celery_worker_process_installs_redaction():
    """Celery imports Django (portal.celery → django.setup); the app registry installs the factory."""
    import subprocess
    import sys

    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'tests.settings'); "
        "from portal.celery import app; app.loader.import_default_modules(); import logging; "
        "print(getattr(logging.getLogRecordFactory(), 'portal_redacting', False))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().endswith("True"), result.stderr[-2000:]


def test_every_url_that_carries_a_secret_is_redacted_whatever_the_token_looks_like():
    """Walk the URLconf: any route with a ``<token>`` part, and the consent link's ``?subject=``."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    secret = "plainlowercasesecretvalue"  # no digits or capitals: the generic token pattern misses it
    routes = [route for route in walk(get_resolver().url_patterns) if "<str:token>" in route]
    assert len(routes) >= 4
    for route in routes:
        path = "/" + route.replace("<str:token>", secret).replace("<int:decision_id>", "7")
        assert secret not in redact(f'"GET {path} HTTP/1.1" 200'), path
    assert secret not in redact(f'"GET /consent/face/?subject={secret} HTTP/1.1" 302')
