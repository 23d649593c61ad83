"""Public pages of privacy requests: the form, confirmation, the status page, "I lost my link".

Everything a requester does after submitting needs the secret link from the
e-mail; the views that look a secret up are wrapped in ``token_guard`` (many
misses from one address lock it out) and every POST is rate limited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal import audit_chain, receipt_cookie
from portal.body_limits import MULTIPART_OVERHEAD, allows_body, max_form_bytes
from portal.ratelimit import client_ip, ratelimit, ratelimits, token_guard
from requests_app import agents, forms
from requests_app.engine import reauth
from requests_app.models import InvalidTransition, PrivacyRequest, StatusLink, StoreTask
from requests_app.services import decisions, intake, links, validation
from requests_app.status_words import found_nothing, public_timeline, status_explanation, store_lines

Kind = PrivacyRequest.Kind
Status = PrivacyRequest.Status
Form = TypeVar("Form", bound=forms.RequestForm)
SUBMITTED_COOKIE = "submitted_request"  # the reference the "check your e-mail" page shows (portal.receipt_cookie)


def ip_rate() -> str:
    return settings.PORTAL_REQUEST_RATE


def _email_rate() -> str:
    return settings.PORTAL_REQUEST_EMAIL_RATE


def _posted_email(request: HttpRequest) -> str:
    return (request.POST.get("email") or "").strip().lower()[:254]


def _request_form_page(
    request: HttpRequest,
    kind: str,
    form_class: type[Form],
    submit: Callable[[Form], PrivacyRequest],
    extra: dict[str, object] | None = None,
) -> HttpResponse:
    """The request form's GET and POST, shared by the consumer's form and the agent's (``submit(form)``)."""
    if kind not in Kind.values:
        raise Http404("unknown request kind")
    form = form_class(request.POST or None, request.FILES or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            privacy_request = submit(form)
        except validation.RequestError as exc:
            form.add_error(None, str(exc))
        else:
            response = redirect("request-submitted")
            values = {"reference": privacy_request.reference, "kind": kind}
            receipt_cookie.remember(response, SUBMITTED_COOKIE, reverse("request-submitted"), values)
            return response
    return render(
        request,
        "requests_app/new.html",
        {"form": form, "kind": kind, "is_deletion": kind == Kind.DELETION, **(extra or {})},
    )


@require_http_methods(["GET", "POST"])
@ratelimits(("request-form", ip_rate, "ip"), ("request-form-email", _email_rate, _posted_email))
@audit_chain.sealed_by_queue()  # the e-mail's worker seals the request's events
def request_new(request: HttpRequest, kind: str) -> HttpResponse:
    return _request_form_page(
        request,
        kind,
        forms.RequestForm,
        lambda form: intake.request_submit(
            kind=kind,
            email=form.cleaned_data["email"],
            jurisdiction=form.cleaned_data["jurisdiction"],
            identifiers=form.identifiers(),
            language=get_language() or settings.LANGUAGE_CODE,
            channel=PrivacyRequest.Channel.WEB,
            ip=client_ip(request),
        ),
    )


def _agent_body_limit() -> int:
    return agents.MAX_PERMISSION_BYTES + max_form_bytes() + MULTIPART_OVERHEAD


@allows_body(_agent_body_limit)
@require_http_methods(["GET", "POST"])
@ratelimits(("request-form", ip_rate, "ip"), ("request-form-email", _email_rate, _posted_email))
def request_new_by_agent(request: HttpRequest, kind: str) -> HttpResponse:
    """An authorized agent files for a named consumer; the consumer confirms by e-mail (requests_app/agents.py)."""

    def submit(form: forms.AgentRequestForm) -> PrivacyRequest:
        upload = form.cleaned_data["permission"]
        return agents.request_submit_by_agent(
            kind=kind,
            consumer_email=form.cleaned_data["email"],
            jurisdiction=form.cleaned_data["jurisdiction"],
            identifiers=form.identifiers(),
            language=get_language() or settings.LANGUAGE_CODE,
            agent_name=form.cleaned_data["agent_name"],
            agent_email=form.cleaned_data["agent_email"],
            agent_organisation=form.cleaned_data["agent_organisation"],
            permission=upload.read(),
            permission_name=upload.name,
            ip=client_ip(request),
        )

    return _request_form_page(request, kind, forms.AgentRequestForm, submit, {"is_agent": True})


def request_submitted(request: HttpRequest) -> HttpResponse:
    submitted = receipt_cookie.recall(request, SUBMITTED_COOKIE)
    if not submitted:
        return redirect("home")
    return render(
        request,
        "requests_app/submitted.html",
        {
            "reference": submitted["reference"],
            "is_deletion": submitted["kind"] == Kind.DELETION,
            "verify_hours": settings.PORTAL_VERIFY_LINK_HOURS,
        },
    )


def invalid_link(request: HttpRequest, what: str) -> HttpResponse:
    return render(request, "requests_app/link_invalid.html", {"what": what}, status=404)


@require_http_methods(["GET", "POST"])
@token_guard("request-verify")
@ratelimit("request-verify", ip_rate)
def request_verify(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button (mail scanners follow GET links); only the POST confirms."""
    privacy_request = links.find_by_verify_token(token)
    if privacy_request is None or privacy_request.status != Status.UNVERIFIED:
        return invalid_link(request, "verify")
    if links.verify_link_expired(privacy_request):
        if request.method == "POST" and request.POST.get("action") == "resend":
            intake.request_resend_verification(request=privacy_request)
            return render(request, "requests_app/verify_resent.html", {"reference": privacy_request.reference})
        return render(request, "requests_app/verify_expired.html", {"req": privacy_request}, status=410)
    if request.method == "POST":
        try:
            privacy_request = intake.request_verify(token=token)
        except validation.RequestError as exc:
            return render(request, "requests_app/verify.html", {"req": privacy_request, "error": str(exc)}, status=409)
        reauth.remember_verified(request.session, privacy_request.pk)  # this browser may download later
        messages.success(request, _("Thank you: your request is confirmed."))
        token = links.issue_status_token(privacy_request, origin=StatusLink.Origin.VERIFIED)
        return redirect("request-status", token=token)
    return render(request, "requests_app/verify.html", {"req": privacy_request})


@require_http_methods(["GET", "POST"])
@token_guard("request-status")
@ratelimit("request-status", ip_rate)
def request_status(request: HttpRequest, token: str) -> HttpResponse:
    privacy_request = links.find_by_status_token(token)
    if privacy_request is None:
        return invalid_link(request, "status")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "cancel":
                decisions.request_cancel(request=privacy_request, actor="requester")
                messages.success(request, _("Your request is canceled. Nothing was changed in your data."))
            elif action == "resend":
                intake.request_resend_verification(request=privacy_request)
                messages.success(request, _("We sent a new confirmation link. Links sent earlier no longer work."))
            else:
                messages.error(request, _("That action is not available on this page."))
        except (validation.RequestError, InvalidTransition) as exc:
            messages.error(request, str(exc))
        return redirect(request.path)
    progress = StoreTask.objects.filter(request=privacy_request).progress()
    completed = privacy_request.status == Status.COMPLETED
    nothing = completed and found_nothing(privacy_request)
    # An authorized agent's link shows the status only: the data goes to the consumer (requests_app/agents.py).
    agent_view = agents.is_agent_link(token)
    package = getattr(privacy_request, "package", None) if completed and not nothing and not agent_view else None
    return render(
        request,
        "requests_app/status.html",
        {
            "req": privacy_request,
            "token": token,
            "explanation": status_explanation(privacy_request),
            "timeline": public_timeline(privacy_request),
            "progress": progress if progress.total else None,
            "stores": store_lines(privacy_request) if progress.total else [],
            "found_nothing": nothing,
            "package": package,
            "has_receipt": completed and bool(privacy_request.receipt and privacy_request.receipt_signature),
            "can_cancel": privacy_request.status in decisions.CANCELABLE_STATUSES,
            "can_resend": privacy_request.status == Status.UNVERIFIED,
            "link_expired": links.verify_link_expired(privacy_request),
            "is_deletion": privacy_request.kind == Kind.DELETION,
        },
    )


@require_http_methods(["GET", "POST"])
@ratelimits(("request-find", ip_rate, "ip"), ("request-find-email", _email_rate, _posted_email))
def request_find(request: HttpRequest) -> HttpResponse:
    """ "I lost my link": the same answer whether or not the address has requests."""
    form = forms.FindRequestsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            links.request_links_later(email=form.cleaned_data["email"])
        except validation.RequestError as exc:
            form.add_error("email", str(exc))
        else:
            return render(request, "requests_app/find_sent.html")
    return render(
        request,
        "requests_app/find.html",
        {"form": form, "new_access": reverse("request-new", args=["access"])},
    )
