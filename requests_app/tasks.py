"""Celery tasks of requests_app (autodiscovered). Engine tasks live in requests_app.engine.tasks."""
