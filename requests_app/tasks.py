"""Celery tasks of requests_app (autodiscovered). Engine tasks live in requests_app.engine.tasks."""

# Celery autodiscovery imports this module; the engine's tasks live in their own package.
from requests_app.engine import tasks as engine_tasks  # noqa: E402,F401
