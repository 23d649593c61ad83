"""Logging: one console handler that redacts personal data."""

from __future__ import annotations

from portal.config import env_str

# --- Logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_personal_data": {"()": "portal.logging.RedactPersonalData"},
        "quiet_routine_tasks": {"()": "portal.logging.QuietRoutineTasks"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_personal_data", "quiet_routine_tasks"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "WARNING"},
        "azure": {"level": "WARNING"},
        # "AXES: BEGIN version …" on every manage.py command (see also AXES_VERBOSE).
        "axes": {"level": "WARNING"},
    },
}
