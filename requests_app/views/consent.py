"""Public consent pages: an overview of purposes, and one page per purpose to grant or withdraw.

Who is deciding comes from the random ``subject`` token in the link the host
app gave (see ``requests_app.consent``) or the portal e-mailed to the address the
person typed on the overview (``requests_app.consent_email``); without one the page
shows the notices and the e-mail form — nobody can change someone else's consent.

The token is swapped for a session entry on the first visit and the browser is
redirected to the bare page URL: after that the token is in no address bar,
history entry, Referer header or later access-log line.
"""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods

from portal.ratelimit import client_ip, ratelimit
from requests_app import consent, consent_email, forms, gpc
from requests_app.models import Consent, ConsentLink, ConsentNotice, ConsentPurpose


class Subject(TypedDict):
    """Whose consent a link decides: the host app's subject, and the address the link was for."""

    kind: str
    value: str
    email: str


def _email_rate() -> str:
    return settings.PORTAL_REQUEST_EMAIL_RATE


def _posted_email(request: HttpRequest) -> str:
    return (request.POST.get("email") or "").strip().lower()[:254]


@require_http_methods(["GET", "POST"])
@ratelimit("consent", "30/hour")
@ratelimit("consent-email", _email_rate, key=_posted_email)
def overview(request: HttpRequest) -> HttpResponse:
    """The purposes; with a link opened in this browser, the person's choice for each."""
    token = request.GET.get("subject", "")
    error = ""
    if token and request.method == "GET":
        try:
            opened = consent_email.open_emailed_link(token)
        except consent.ConsentError as exc:
            error = str(exc)
        else:
            _remember(request, opened)
            return redirect(request.path)
    form = forms.ConsentLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        consent_email.request_link(email=form.cleaned_data["email"], language=getattr(request, "LANGUAGE_CODE", "en"))
        return render(request, "requests_app/consent/link_sent.html", {"email": form.cleaned_data["email"]})
    purposes = list(ConsentPurpose.objects.filter(active=True).order_by("title"))
    link = _latest_link(request)
    choices = None
    signal = False
    if link is not None:
        mine = [purpose for purpose in purposes if purpose.slug in link.purposes]
        signal = gpc.signal_in(request) and any(purpose.sale_or_sharing for purpose in mine)
        if signal and request.method == "GET":
            try:
                _honour_gpc(request, mine, _subject(link))
            except consent.ConsentError as exc:
                error = str(exc)
        choices = [(purpose, consent.check(link.subject_kind, link.subject_value, purpose.slug)) for purpose in mine]
    return render(
        request,
        "requests_app/consent/overview.html",
        {"purposes": purposes, "choices": choices, "form": form, "error": error, "gpc_signal": signal},
        status=400 if error or form.errors else 200,
    )


def _remember(request: HttpRequest, link: ConsentLink) -> None:
    request.session[_SESSION_KEY] = [link.pk, *[pk for pk in request.session.get(_SESSION_KEY, []) if pk != link.pk]][
        :10
    ]


def _latest_link(request: HttpRequest) -> ConsentLink | None:
    """The most recent link this browser opened that still works, whatever its purposes."""
    ids = request.session.get(_SESSION_KEY, [])
    for link in sorted(ConsentLink.objects.filter(pk__in=ids), key=lambda item: ids.index(item.pk)):
        if link.revoked_at is None and link.expires_at > timezone.now():
            return link
    return None


@require_http_methods(["GET", "POST"])
@ratelimit("consent", "30/hour")
def purpose_page(request: HttpRequest, slug: str) -> HttpResponse:
    purpose = ConsentPurpose.objects.filter(slug=slug, active=True).first()
    if purpose is None:
        raise Http404
    notice = purpose.current_notice()
    token = request.GET.get("subject", "")
    if token and request.method == "GET":
        return _open_link(request, purpose, notice, token)
    link, error = _session_link(request, purpose.slug)
    subject = _subject(link) if link else None
    if request.method == "POST" and subject is None and not error:
        error = _("This consent link is not valid. Open the consent page from the app.")
    # Global Privacy Control: the header, or navigator.globalPrivacyControl reported by static/js/gpc.js.
    signal = purpose.sale_or_sharing and (gpc.signal_in(request) or request.POST.get("gpc") == "1")
    if signal and subject is not None and (request.method == "GET" or request.POST.get("action") == "gpc"):
        try:
            _honour_gpc(request, [purpose], subject)
        except consent.ConsentError as exc:
            error = str(exc)
        if request.method == "POST":
            return redirect(request.path)
    if request.method == "POST" and subject is not None:
        return _post_choice(request, purpose, notice, subject, signal=signal)
    return _page(request, purpose, notice, subject, error, gpc_signal=signal)


def _open_link(request: HttpRequest, purpose: ConsentPurpose, notice: ConsentNotice | None, token: str) -> HttpResponse:
    """The link from the app or the e-mail, opened: into the session, then to the bare page URL."""
    try:
        link = consent.check_link(consent_email.open_emailed_link(token), purpose.slug)
    except consent.ConsentError as exc:
        return _page(request, purpose, notice, None, str(exc))
    _remember(request, link)
    return redirect(request.path)


def _post_choice(
    request: HttpRequest, purpose: ConsentPurpose, notice: ConsentNotice | None, subject: Subject, *, signal: bool
) -> HttpResponse:
    """A grant or withdrawal posted by the person the link is for."""
    action = request.POST.get("action")
    if action == "grant" and signal and request.POST.get("gpc_override") != "1":
        # A choice that conflicts with the signal is asked about first, never taken silently.
        return _page(request, purpose, notice, subject, "", gpc_signal=True, confirm_override=True)
    try:
        _choose(request, purpose, notice, subject, action, gpc_confirmed=signal)
    except consent.ConsentError as exc:
        return _page(request, purpose, notice, subject, str(exc), gpc_signal=signal)
    return redirect(request.path)


def _choose(
    request: HttpRequest,
    purpose: ConsentPurpose,
    notice: ConsentNotice | None,
    subject: Subject,
    action: str | None,
    *,
    gpc_confirmed: bool,
) -> None:
    """The person's own choice on the page: grant (for the notice they read) or withdraw."""
    if action == "grant":
        if notice is None or str(notice.version) != request.POST.get("notice_version"):
            raise consent.ConsentError(_("The notice changed while the page was open; read it again."))
        consent.grant(
            purpose=purpose,
            subject_kind=subject["kind"],
            subject_value=subject["value"],
            method=Consent.Method.WEB,
            actor="requester:consent page",
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            gpc_confirmed=gpc_confirmed,
        )
        messages.success(request, _("Thank you. Your consent is recorded; you can withdraw it here at any time."))
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
        text = _("Your consent is withdrawn. Nothing more will be sent to Microsoft for this purpose.")
        if privacy_request:
            text += " " + _(
                "What was already sent is being deleted (reference %(ref)s); you will get a receipt by e-mail."
            ) % {"ref": privacy_request.reference}
        messages.success(request, text)


def _honour_gpc(request: HttpRequest, purposes: list[ConsentPurpose], subject: Subject) -> None:
    for done in gpc.honour(
        purposes=purposes,
        subject_kind=subject["kind"],
        subject_value=subject["value"],
        email=subject["email"],
        language=getattr(request, "LANGUAGE_CODE", "en"),
    ):
        if done.erasure:
            messages.success(
                request,
                _(
                    "What was already sent to Microsoft for this purpose is being deleted (reference %(ref)s); "
                    "you will get a receipt by e-mail."
                )
                % {"ref": done.erasure.reference},
            )


@require_http_methods(["GET", "HEAD"])
@cache_control(max_age=3600, public=True)
def gpc_well_known(request: HttpRequest) -> JsonResponse:
    """``/.well-known/gpc.json``: this site honours Global Privacy Control."""
    response = JsonResponse(gpc.well_known())
    response["Access-Control-Allow-Origin"] = "*"  # public by design, read by browsers and crawlers
    return response


_SESSION_KEY = "consent_links"


def _subject(link: ConsentLink) -> Subject:
    return {"kind": link.subject_kind, "value": link.subject_value, "email": link.email}


def _session_link(request: HttpRequest, slug: str) -> tuple[ConsentLink | None, str]:
    """(the usable consent link this browser opened for this purpose, or None; an error if it lapsed)."""
    ids = request.session.get(_SESSION_KEY, [])
    if not ids:
        return None, ""
    links = ConsentLink.objects.filter(pk__in=ids)
    error = ""
    for link in sorted(links, key=lambda item: ids.index(item.pk)):
        if slug not in link.purposes:
            continue
        try:
            return consent.check_link(link, slug), ""
        except consent.ConsentError as exc:
            error = error or str(exc)
    return None, error


def _page(
    request: HttpRequest,
    purpose: ConsentPurpose,
    notice: ConsentNotice | None,
    subject: Subject | None,
    error: str,
    *,
    gpc_signal: bool = False,
    confirm_override: bool = False,
) -> HttpResponse:
    current = consent.check(subject["kind"], subject["value"], purpose.slug) if subject else None
    return render(
        request,
        "requests_app/consent/purpose.html",
        {
            "purpose": purpose,
            "notice": notice,
            "error": error,
            "current": current,
            "has_subject": subject is not None,
            "gpc_signal": gpc_signal,
            "confirm_override": confirm_override,
            # a sale/sharing consent still live: static/js/gpc.js reports navigator.globalPrivacyControl
            "gpc_pending": bool(purpose.sale_or_sharing and current and not gpc_signal),
        },
        status=400 if error else 200,
    )
