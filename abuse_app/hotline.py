"""The pointer to national child-safety hotlines shown to child-safety reporters, in their language."""

from django.conf import settings
from django.utils.translation import gettext


def hotline_text() -> str:
    """``PORTAL_CHILD_SAFETY_HOTLINE_TEXT`` if the operator set one (shown as written), else the built-in
    text in the active language."""
    return settings.PORTAL_CHILD_SAFETY_HOTLINE_TEXT or gettext(
        "You can also report child sexual abuse material to your national hotline; INHOPE lists them by "
        "country. If a child is in immediate danger, call your local emergency number."
    )


def hotline() -> dict[str, str]:
    return {"hotline_text": hotline_text(), "hotline_url": settings.PORTAL_CHILD_SAFETY_HOTLINE_URL}
