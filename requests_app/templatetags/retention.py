"""``{{ item|retention_text }}``: what Microsoft still holds, from a receipt's ``retention`` entry.

The signed receipt keeps codes and dates (language-neutral); this renders them
in the reader's language wherever the receipt is shown (receipt page, e-mail,
status page).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext

from requests_app.stores.base import RETENTION_TEXTS

register = template.Library()


@register.filter
def retention_text(item: Any) -> str:
    if not isinstance(item, dict) or item.get("code") not in RETENTION_TEXTS:
        return ""
    until = item.get("until")
    try:
        shown = date_format(date.fromisoformat(until), "DATE_FORMAT") if until else ""
    except (TypeError, ValueError):
        shown = ""
    return gettext(RETENTION_TEXTS[item["code"]]) % {"until": shown, "days": item.get("days") or ""}


@register.filter
def has_retention(receipt: Any) -> bool:
    stores = receipt.get("stores", []) if isinstance(receipt, dict) else []
    return any(store.get("retention") for store in stores if isinstance(store, dict))
