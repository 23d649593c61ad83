"""E-mail: EMAIL_URL (files under var/mail/ by default) and the sender addresses."""

from __future__ import annotations

from portal.config import env_email, env_str
from portal.settings.base import VAR_DIR
from portal.settings.portal import PORTAL_APP_NAME, PORTAL_OPERATOR_CONTACT

# --- E-mail ---------------------------------------------------------------------
vars().update(env_email("EMAIL_URL", str(VAR_DIR / "mail")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"{PORTAL_APP_NAME} privacy <{PORTAL_OPERATOR_CONTACT}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
