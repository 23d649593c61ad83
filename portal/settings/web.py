"""Languages, static and uploaded files, and the body limits of requests."""

from __future__ import annotations

from portal.config import env_bool, env_int, env_str
from portal.settings.abuse import PORTAL_ABUSE_EVIDENCE_MAX_FILES
from portal.settings.base import BASE_DIR, VAR_DIR
from portal.settings.portal import PORTAL_PRIVATE_ROOT

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("PORTAL_TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PORTAL_PRIVATE_ROOT), "base_url": "/never-served/"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if env_bool("PORTAL_PLAIN_STATIC", False):
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Body limits (portal/body_limits.py), checked on the declared Content-Length before any reading:
# the abuse report form and API take the evidence files (PORTAL_ABUSE_EVIDENCE_MAX_FILES x _MAX_BYTES),
# the rest of the API PORTAL_MAX_JSON_BYTES, every other form PORTAL_MAX_FORM_BYTES. A reverse proxy
# in front enforces the largest of them too (docs/deploy.md).
PORTAL_MAX_FORM_BYTES = env_int("PORTAL_MAX_FORM_BYTES", 1024 * 1024, minimum=16 * 1024)
# Form fields other than files, held in memory (Django's own limit, a 400 over it).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Uploaded files up to this size stay in memory; larger ones are spooled to FILE_UPLOAD_TEMP_DIR.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = max(10, PORTAL_ABUSE_EVIDENCE_MAX_FILES + 1)
# JSON bodies of the API (portal/input_limits.py): larger or deeper ones get a 400 that says so.
PORTAL_MAX_JSON_BYTES = env_int("PORTAL_MAX_JSON_BYTES", 5 * 1024 * 1024, minimum=1024)
PORTAL_MAX_JSON_DEPTH = env_int("PORTAL_MAX_JSON_DEPTH", 32, minimum=4)
