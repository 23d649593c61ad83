"""The requester's page says when part of a deletion is withheld under a legal obligation (never why)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from requests_app.engine import legal_hold
from requests_app.models import PrivacyRequest

register = template.Library()


@register.simple_tag
def withheld_notice(request: PrivacyRequest) -> SafeString | str:
    if request.kind != PrivacyRequest.Kind.DELETION or not legal_hold.has_withheld(request):
        return ""
    return format_html(
        '<p class="notice" id="withheld"><strong>{}</strong> {}</p>',
        _("Some of your data is withheld under a legal obligation."),
        _(
            "The law requires us to keep it for now (GDPR Art. 17(3)(b)); everything else was erased. "
            "We will erase it when the obligation ends and send you a new receipt."
        ),
    )
