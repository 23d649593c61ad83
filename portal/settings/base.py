"""Where every other setting starts: paths, the optional `.env` file, DEBUG, the keys."""

from __future__ import annotations

from pathlib import Path

import environ

from portal.config import ConfigError, env_bool, env_list, env_str

# portal/settings/base.py → the repository's root, next to manage.py.
BASE_DIR = Path(__file__).resolve().parent.parent.parent
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(str(BASE_DIR / ".env"))

VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET = "dev-only-insecure-key-never-use-in-production-0123456789abcdefghijklmnopqrstuvwxyz"
if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    SECRET_KEY = env_str("SECRET_KEY", "")
    if len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET:
        raise ConfigError("SECRET_KEY: production (DJANGO_DEBUG=false) needs a random key of 50+ characters")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ConfigError("ALLOWED_HOSTS: production (DJANGO_DEBUG=false) needs the site's host names, comma-separated")

# Previous SECRET_KEYs, still accepted (sessions, backup codes) while a new one is rolled out.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

# Keys for HMAC signatures on receipts and webhooks. The first is used to sign;
# all are accepted when verifying, so a key can be rotated without breaking
# receipts already issued.
PORTAL_SIGNING_KEYS = env_list("PORTAL_SIGNING_KEYS", [SECRET_KEY])
# Deletion receipts are signed with Ed25519 keys kept in this file (requests_app/engine/receipt_keys.py).
# The embedded default creates it under var/ on first use; production sets a path that every web and
# worker machine shares, and creates it once with `manage.py rotate_receipt_key`.
PORTAL_RECEIPT_KEY_FILE = env_str("PORTAL_RECEIPT_KEY_FILE", str(VAR_DIR / "receipt-signing-keys.json"))
PORTAL_RECEIPT_KEY_CREATE_ON_FIRST_USE = DEBUG  # never in production: see requests_app/engine/receipt_keys.py
