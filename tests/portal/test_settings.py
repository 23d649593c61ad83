import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.config import ConfigError, env_bool, env_broker, env_database, env_int

ROOT = Path(__file__).resolve().parents[2]
# The settings package: its modules, read in turn (portal/settings/__init__.py).
SETTINGS_MODULES = sorted((ROOT / "portal" / "settings").glob("*.py"))


def _manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    full_env.update(env)
    full_env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_bad_database_url_stops_with_one_line_naming_the_variable():
    result = _manage("check", DATABASE_URL="nonsense")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Configuration error: DATABASE_URL:")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_production_without_secret_key_names_it():
    result = _manage("check", DJANGO_DEBUG="false", SECRET_KEY="", ALLOWED_HOSTS="portal.example")
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr


_PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "SECRET_KEY": "x" * 30 + "y" * 30 + "random-enough-0123456789",
    "ALLOWED_HOSTS": "portal.example",
}


def test_production_check_deploy_has_no_warnings(tmp_path):
    created = _manage("rotate_receipt_key", PORTAL_VAR_DIR=str(tmp_path), **_PRODUCTION)
    assert created.returncode == 0, created.stdout + created.stderr
    result = _manage("check", "--deploy", "--fail-level", "WARNING", PORTAL_VAR_DIR=str(tmp_path), **_PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_without_receipt_key_file_fails_check_deploy_naming_the_command(tmp_path):
    result = _manage("check", "--deploy", PORTAL_VAR_DIR=str(tmp_path), **_PRODUCTION)
    assert result.returncode == 1
    assert "portal.E002" in result.stderr and "rotate_receipt_key" in result.stderr
    assert not (tmp_path / "receipt-signing-keys.json").exists()


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please"])
def test_env_bool_rejects_unclear_values(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    with pytest.raises(ConfigError, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_env_int_rejects_words_and_small_values(monkeypatch):
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ConfigError, match="X_NUM: expected a whole number"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ConfigError, match="at least 1"):
        env_int("X_NUM", 1, minimum=1)


def test_database_url_without_name_is_refused(monkeypatch):
    monkeypatch.setenv("X_DB", "postgres://u:secret@host:5432")
    with pytest.raises(ConfigError) as info:
        env_database("X_DB", "")
    assert "secret" not in str(info.value)


def test_broker_url_scheme_checked(monkeypatch):
    monkeypatch.setenv("X_BROKER", "kafka://x")
    with pytest.raises(ConfigError, match="X_BROKER"):
        env_broker("X_BROKER", "")


def test_bad_rate_setting_stops_start_up_naming_it():
    result = _manage("check", PORTAL_ABUSE_IP_RATE="lots")
    assert result.returncode == 2
    assert "PORTAL_ABUSE_IP_RATE" in result.stderr and "Traceback" not in result.stderr


def test_every_setting_is_documented():
    import re

    names = {
        name for module in SETTINGS_MODULES for name in re.findall(r'env_\w+\(\s*"([A-Z_0-9]+)"', module.read_text())
    }
    assert "DATABASE_URL" in names and "PORTAL_ABUSE_IP_RATE" in names  # every module is read
    documented = (ROOT / "docs" / "configuration.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in documented)
    assert not missing, f"add these to docs/configuration.md: {missing}"


def _literal(node):
    """The value of a default made only of literals and arithmetic (``20 * 1024 * 1024``), else a KeyError."""
    import ast

    allowed = (
        ast.Expression,
        ast.Constant,
        ast.List,
        ast.Tuple,
        ast.BinOp,
        ast.UnaryOp,
        ast.Mult,
        ast.Add,
        ast.Sub,
        ast.USub,
        ast.Load,
    )
    if not all(isinstance(n, allowed) for n in ast.walk(ast.Expression(node))):
        raise KeyError("not a literal")
    return eval(compile(ast.Expression(node), "settings.py", "eval"), {"__builtins__": {}})  # literals only


def _code_defaults() -> dict[str, str]:
    """Setting name → its default in portal/settings/, written as the docs write it (lists comma-separated)."""
    import ast

    found: dict[str, set[str]] = {}
    nodes = [node for module in SETTINGS_MODULES for node in ast.walk(ast.parse(module.read_text()))]
    for node in nodes:
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("env_")
            and len(node.args) >= 2
            and isinstance(node.args[0], ast.Constant)
        ):
            continue
        try:
            value = _literal(node.args[1])
        except KeyError:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list):
            text = ",".join(value)
        else:
            text = str(value)
        found.setdefault(node.args[0].value, set()).add(text)
    # A setting with different defaults by mode (e.g. ALLOWED_HOSTS in debug or not) is not compared.
    return {name: values.pop() for name, values in found.items() if len(values) == 1}


def _documented_defaults(page: str) -> dict[str, str]:
    """`NAME` | `value` rows (a note in brackets may follow the value); "empty" is the empty default."""
    import re

    rows = re.findall(r"^\| `([A-Z_0-9]+)` \| (.+?) \|", (ROOT / "docs" / page).read_text(), re.M)
    defaults = {}
    for name, cell in rows:
        match = re.fullmatch(r"`([^`]*)`(?: \([^)]*\))?", cell.strip())
        if match:
            defaults[name] = match.group(1)
        elif cell.strip() == "empty":
            defaults[name] = ""
    return defaults


@pytest.mark.parametrize("page", ["configuration.md", "privacy-requests.md"])
def test_documented_defaults_match_settings(page):
    code = _code_defaults()
    documented = _documented_defaults(page)
    compared = {name: (text, code[name]) for name, text in documented.items() if name in code}
    wrong = {name: f"docs say {doc!r}, the code {real!r}" for name, (doc, real) in compared.items() if doc != real}
    assert not wrong, f"fix the defaults in docs/{page}: {wrong}"
    assert "PORTAL_AUTO_APPROVE" in compared  # the one that once disagreed (issue 12)


def test_stores_file_without_ledger_store_gets_one_without_a_warning(tmp_path):
    stores = tmp_path / "stores.toml"
    stores.write_text(f'[[store]]\nname = "uploads"\nkind = "files"\nroot = "{tmp_path}"\npaths = ["{{email}}/"]\n')
    result = _manage("check", PORTAL_STORES_FILE=str(stores), PORTAL_VAR_DIR=str(tmp_path))
    assert result.returncode == 0 and "portal.W001" not in result.stdout + result.stderr
    listed = _manage("check_stores", PORTAL_STORES_FILE=str(stores), PORTAL_VAR_DIR=str(tmp_path))
    assert "azure-ledger" in listed.stdout
