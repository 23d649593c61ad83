"""Public consent pages: an overview of purposes, and one page per purpose to grant or withdraw.

Who is deciding comes from the signed ``subject`` token in the link the host
app gave (see ``requests_app.consent``); without one the page shows the notice
and explains how to get there from the app — nobody can change someone else's consent.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.ratelimit import client_ip, ratelimit
from requests_app import consent
from requests_app.models import Consent, ConsentPurpose


def overview(request: HttpRequest) -> HttpResponse:
    purposes = ConsentPurpose.objects.filter(active=True).order_by("title")
    return render(request, "consent/overview.html", {"purposes": purposes})


@require_http_methods(["GET", "POST"])
@ratelimit("consent", "30/hour")
def purpose_page(request: HttpRequest, slug: str) -> HttpResponse:
    purpose = ConsentPurpose.objects.filter(slug=slug, active=True).first()
    if purpose is None:
        raise Http404
    notice = purpose.current_notice()
    token = request.POST.get("subject") or request.GET.get("subject", "")
    subject, error = None, ""
    if token:
        try:
            subject = consent.read_subject_token(token)
        except consent.ConsentError as exc:
            error = str(exc)
    if request.method == "POST" and subject is not None:
        action = request.POST.get("action")
        try:
            if action == "grant":
                if notice is None or str(notice.version) != request.POST.get("notice_version"):
                    raise consent.ConsentError(
                        _("The notice changed while the page was open; read it again.")
                    )
                consent.grant(
                    purpose=purpose,
                    subject_kind=subject["kind"],
                    subject_value=subject["value"],
                    method=Consent.Method.WEB,
                    actor="requester:consent page",
                    ip=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
                messages.success(
                    request, _("Thank you. Your consent is recorded; you can withdraw it here at any time.")
                )
            elif action == "withdraw":
                _count, privacy_request = consent.withdraw(
                    purpose=purpose,
                    subject_kind=subject["kind"],
                    subject_value=subject["value"],
                    method=Consent.Method.WEB,
                    actor="requester:consent page",
                    email=subject["email"],
                    language=getattr(request, "LANGUAGE_CODE", "en"),
                )
                text = _(
                    "Your consent is withdrawn. Nothing more will be sent to Microsoft for this purpose."
                )
                if privacy_request:
                    text += " " + _(
                        "What was already sent is being deleted (reference %(ref)s); you will get a "
                        "receipt by e-mail."
                    ) % {"ref": privacy_request.reference}
                messages.success(request, text)
            return redirect(f"{request.path}?subject={token}")
        except consent.ConsentError as exc:
            error = str(exc)
    current = consent.check(subject["kind"], subject["value"], purpose.slug) if subject else None
    status = 400 if error else 200
    return render(
        request,
        "consent/purpose.html",
        {
            "purpose": purpose,
            "notice": notice,
            "subject_token": token if subject else "",
            "error": error,
            "current": current,
            "has_subject": subject is not None,
        },
        status=status,
    )
