"""Settings for the Privacy & Abuse Portal (``DJANGO_SETTINGS_MODULE=portal.settings``).

Everything an operator sets comes from the environment (or an optional `.env`
file next to manage.py) through the helpers in `portal.config`, which stop
start-up with a one-line message naming the variable on a bad value.

The defaults are the *embedded default*: SQLite and Celery's filesystem broker
under `var/`, e-mail written to files in `var/mail/`. Set DATABASE_URL,
CELERY_BROKER_URL and EMAIL_URL to run on PostgreSQL, Redis/RabbitMQ and SMTP.

The settings are grouped by topic in the modules of this package, read in the order below (a module
may use the settings of those before it, never after): a bad value stops start-up at the first
variable read, as when they were one file. A new setting goes in the module of its topic; a new
module, in this list.
"""

from __future__ import annotations

# The order below is the order of evaluation: not sorted.
# isort: off
from portal.settings.base import *  # noqa: F403  paths, .env, DEBUG, keys
from portal.settings.portal import *  # noqa: F403  operator, privacy requests, engine, health, 2FA
from portal.settings.abuse import *  # noqa: F403  abuse reports, DSA database, CyberTipline, hash matching
from portal.settings.core import *  # noqa: F403  apps, middleware, URLs, templates
from portal.settings.data import *  # noqa: F403  database, cache
from portal.settings.web import *  # noqa: F403  languages, static files, uploads and body limits
from portal.settings.mail import *  # noqa: F403  e-mail
from portal.settings.security import *  # noqa: F403  passwords, cookies, HTTPS, CSP, lockout, 2FA
from portal.settings.api import *  # noqa: F403  REST API
from portal.settings.worker import *  # noqa: F403  Celery
from portal.settings.logs import *  # noqa: F403  logging
# isort: on
