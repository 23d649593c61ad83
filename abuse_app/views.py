"""Public pages: the report form, the receipt, the secret-link status page, appeals, transparency."""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from abuse_app import hotline, services
from abuse_app.forms import ILLEGAL_CATEGORY_VALUES, AppealForm, ReportForm
from abuse_app.models import Appeal, Category, Decision, Notice
from portal import audit_chain, mail, receipt_cookie
from portal.body_limits import allows_body, evidence_body_limit
from portal.ratelimit import client_ip, ratelimit, token_guard, too_many

# The receipt page's values, in a signed cookie (portal.receipt_cookie), shown once.
RECEIPT_COOKIE = "abuse_receipt"
# The appeal just filed from this browser: its page then opens with a confirmation.
APPEAL_SENT_SESSION_KEY = "abuse_appeal_sent"


def _hotline() -> dict[str, str]:
    return hotline.hotline()


# Every POST counts here (bounds floods of invalid submissions); accepted notices are
# counted again per IP and per e-mail in services.reporter_check.
@allows_body(evidence_body_limit)  # evidence files; every other form gets the small limit
@ratelimit("abuse-form", "60/hour")
@require_http_methods(["GET", "POST"])
@audit_chain.sealed_by_queue()  # the acknowledgement's worker seals the notice's events
def report(request: HttpRequest) -> HttpResponse:
    lane = request.GET.get("lane") == "child-safety" or request.POST.get("lane") == "child-safety"
    refused = None
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, child_safety_lane=lane)
        if form.is_valid():
            try:
                submitted = services.notice_submit(
                    form.to_input(language=translation.get_language() or "en"),
                    ip=client_ip(request),
                    channel=Notice.Channel.WEB,
                )
            except services.NoticeRefused as exc:
                if exc.retry_after:
                    return too_many(request, exc.retry_after)
                refused = exc.message
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, ValidationError(messages))
            else:
                response = redirect("abuse-received")
                receipt = {
                    "reference": submitted.notice.reference,
                    "token": submitted.status_token,
                    "child_safety": submitted.notice.is_child_safety,
                    "email": bool(submitted.notice.reporter_email),
                }
                receipt_cookie.remember(response, RECEIPT_COOKIE, reverse("abuse-received"), receipt)
                return response
        if form.errors:
            form.note_dropped_files()
    else:
        # Only a category named in the link preselects a choice: an empty initial value would
        # override the child-safety lane's own "minors" default (a hidden field) with nothing.
        category = request.GET.get("category")
        form = ReportForm(child_safety_lane=lane, initial={"category": category} if category else {})
    return render(
        request,
        "abuse_app/report.html",
        {
            "form": form,
            "lane": lane,
            "refused": refused,
            "minors": Category.MINORS,
            "illegal_categories": ILLEGAL_CATEGORY_VALUES,
            "max_files": settings.PORTAL_ABUSE_EVIDENCE_MAX_FILES,
            "max_bytes": settings.PORTAL_ABUSE_EVIDENCE_MAX_BYTES,
            **_hotline(),
        },
        status=400 if request.method == "POST" else 200,
    )


def received(request: HttpRequest) -> HttpResponse:
    receipt = receipt_cookie.recall(request, RECEIPT_COOKIE)
    if not receipt:
        return redirect("abuse-report")
    status_path = reverse("abuse-status", args=[receipt["token"]])
    response = render(
        request,
        "abuse_app/received.html",
        {
            "reference": receipt["reference"],
            "status_url": mail.absolute(status_path),
            "child_safety": receipt["child_safety"],
            "emailed": receipt["email"],
            **_hotline(),
        },
    )
    response["Cache-Control"] = "no-store"
    receipt_cookie.forget(response, RECEIPT_COOKIE, request.path)  # shown once, as the session's was
    return response


def _status_context(notice: Notice) -> dict[str, object]:
    cases: list[dict[str, object]] = []
    for case in notice.cases.order_by("first_received_at"):
        decision = case.latest_decision
        appeal = None
        if decision:
            appeal = decision.appeals.filter(appellant=Appeal.Appellant.REPORTER, notice=notice).first()
        cases.append(
            {
                "case": case,
                "decision": decision,
                "appeal": appeal,
                "can_appeal": bool(decision and decision.appeal_window_open and appeal is None),
            }
        )
    return {"notice": notice, "cases": cases, **_hotline()}


@token_guard("abuse-status")
def status(request: HttpRequest, token: str) -> HttpResponse:
    notice = services.notice_get_by_token(token)
    if notice is None:
        raise Http404
    response = render(request, "abuse_app/status.html", {**_status_context(notice), "token": token})
    response["Cache-Control"] = "no-store"
    return response


@token_guard("abuse-status")
@require_http_methods(["GET", "POST"])
def reporter_appeal(request: HttpRequest, token: str, decision_id: int) -> HttpResponse:
    notice = services.notice_get_by_token(token)
    if notice is None:
        raise Http404
    decision = Decision.objects.filter(pk=decision_id, case__notices=notice).select_related("case").first()
    if decision is None:
        raise Http404
    return _appeal(
        request,
        decision=decision,
        appellant=Appeal.Appellant.REPORTER,
        notice=notice,
        back=reverse("abuse-status", args=[token]),
    )


@token_guard("abuse-decision")
@require_http_methods(["GET", "POST"])
def target_decision(request: HttpRequest, token: str) -> HttpResponse:
    """The reported person's view of a decision (link sent through the host app), with the appeal form."""
    decision = services.decision_get_by_target_token(token)
    if decision is None:
        raise Http404
    return _appeal(request, decision=decision, appellant=Appeal.Appellant.TARGET, notice=None, back=None)


def _appeal(
    request: HttpRequest, *, decision: Decision, appellant: str, notice: Notice | None, back: str | None
) -> HttpResponse:
    existing = decision.appeals.filter(appellant=appellant)
    if notice is not None:
        existing = existing.filter(notice=notice)
    appeal = existing.first()
    form = AppealForm(request.POST or None, ask_email=appellant == Appeal.Appellant.TARGET)
    error = None
    if request.method == "POST" and appeal is None and form.is_valid():
        try:
            appeal = services.appeal_file(
                decision=decision,
                appellant=appellant,
                notice=notice,
                statement=form.cleaned_data["statement"],
                contact_email=form.cleaned_data.get("contact_email", ""),
            )
        except services.AbuseError as exc:
            error = str(exc)
        else:
            request.session[APPEAL_SENT_SESSION_KEY] = appeal.pk
            return redirect(request.path)
    just_sent = appeal is not None and request.session.pop(APPEAL_SENT_SESSION_KEY, None) == appeal.pk
    response = render(
        request,
        "abuse_app/appeal.html",
        {
            "decision": decision,
            "case": decision.case,
            # A reporter knows their report by its AR-… reference; the case number is internal.
            "reference": notice.reference if notice is not None else decision.case.reference,
            "notice": notice,
            "just_sent": just_sent,
            "appeal": appeal,
            "form": form,
            "error": error,
            "appellant": appellant,
            "back": back,
        },
        status=400 if request.method == "POST" else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


# The transparency report covers days the site can count: from the DSA's first reports to a
# century ahead (an end date of 9999-12-31 would overflow on "the day after").
EARLIEST_REPORT_DAY = date(2000, 1, 1)
LATEST_REPORT_DAY = date(2099, 12, 31)


def _period(request: HttpRequest) -> tuple[datetime, datetime, str | None]:
    """The ?from=YYYY-MM-DD&to=YYYY-MM-DD period (inclusive days); the last 12 months by default."""
    today = timezone.localdate()
    default = (today - timedelta(days=365), today)
    error = None
    try:
        start_day = date.fromisoformat(request.GET["from"]) if request.GET.get("from") else default[0]
        end_day = date.fromisoformat(request.GET["to"]) if request.GET.get("to") else today
    except ValueError:
        error = _("Dates must look like 2025-01-31. Showing the last 12 months instead.")
        start_day, end_day = default
    if not EARLIEST_REPORT_DAY <= start_day <= LATEST_REPORT_DAY or not (
        EARLIEST_REPORT_DAY <= end_day <= LATEST_REPORT_DAY
    ):
        error = _("Dates must lie between %(first)s and %(last)s. Showing the last 12 months instead.") % {
            "first": EARLIEST_REPORT_DAY.isoformat(),
            "last": LATEST_REPORT_DAY.isoformat(),
        }
        start_day, end_day = default
    if end_day < start_day:
        error = _("The end date is before the start date. Showing the last 12 months instead.")
        start_day, end_day = default
    tz = timezone.get_current_timezone()
    start = datetime.combine(start_day, time.min, tzinfo=tz)
    end = datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end, error


@ratelimit("abuse-transparency", "120/hour", methods=("GET",))
def transparency(request: HttpRequest) -> HttpResponse:
    start, end, error = _period(request)
    figures = services.transparency_figures(start, end)
    labels = {
        "category": dict(Category.choices),
        "channel": dict(Notice.Channel.choices),
        "action": dict(Decision.Action.choices),
        "ground": {**dict(Decision.Ground.choices), "none": _("None")},
        "outcome": dict(Appeal.Status.choices),
        "appellant": dict(Appeal.Appellant.choices),
    }
    fmt = request.GET.get("format")
    if error and fmt in ("json", "csv"):
        # A program asked for a period: answer its mistake instead of silently sending another period.
        message = _("from and to must be dates like 2025-01-31 between %(first)s and %(last)s, from not after to.") % {
            "first": EARLIEST_REPORT_DAY.isoformat(),
            "last": LATEST_REPORT_DAY.isoformat(),
        }
        return JsonResponse({"error": {"code": "invalid_period", "message": message}}, status=400)
    if fmt == "json":
        # The statements of reasons themselves (DSA Art. 17, 24(5)), without anything about reporters.
        figures["statements_of_reasons"] = services.transparency_statements(start, end)
        return JsonResponse(figures, json_dumps_params={"indent": 2})
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="transparency-{figures["period"]["from"]}-{figures["period"]["to"]}.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(["section", "key", "value"])
        writer.writerows(services.transparency_rows(figures))
        return response

    def labelled(counts: dict[str, int], kind: str) -> list[tuple[str, int]]:
        return [(str(labels[kind].get(key, key)), value) for key, value in counts.items()]

    query = f"from={figures['period']['from']}&to={figures['period']['to']}"
    return render(
        request,
        "abuse_app/transparency.html",
        {
            "figures": figures,
            "error": error,
            "query": query,
            "notices_by_category": labelled(figures["notices"]["by_category"], "category"),
            "notices_by_channel": labelled(figures["notices"]["by_channel"], "channel"),
            "decisions_by_action": labelled(figures["decisions"]["by_action"], "action"),
            "decisions_by_ground": labelled(figures["decisions"]["by_ground"], "ground"),
            "appeals_by_outcome": labelled(figures["appeals"]["by_outcome"], "outcome"),
            "automated_percent": (
                round(figures["decisions"]["automated_share"] * 100, 1)
                if figures["decisions"]["automated_share"] is not None
                else None
            ),
        },
    )
