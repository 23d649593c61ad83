"""Template tags of the moderator-protection features: blurred evidence previews, exposure counts."""

from __future__ import annotations

from typing import Any

from django import template

from abuse_app.models import Case, Evidence
from abuse_app.services import child_safety, exposure

register = template.Library()


@register.inclusion_tag("abuse_app/admin/_evidence_previews.html", takes_context=True)
def evidence_previews(context: dict[str, Any], case: Case, part: str = "previews") -> dict[str, Any]:
    """The previews (inside the change form), or with ``part="forms"`` the reveal forms they submit
    (outside it: HTML forms do not nest, so each button names its form with ``form=``)."""
    request = context["request"]
    allowed = child_safety.may_see_case_evidence(request.user, case)
    items = []
    if not case.is_child_safety:  # other lanes: the decision page's previews, as they are
        return {"shown": False, "part": part}
    if allowed:
        revealed = exposure.revealed_ids(request.session)
        for evidence in Evidence.objects.filter(notice__cases=case).order_by("pk").distinct():
            items.append(
                {
                    "evidence": evidence,
                    "previewable": exposure.previewable(evidence),
                    "revealed": evidence.pk in revealed,
                }
            )
    return {
        "shown": True,
        "allowed": allowed,
        "items": items,
        "case": case,
        "next": request.get_full_path(),
        "part": part,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("abuse_app/admin/_exposure_today.html", takes_context=True)
def exposure_today(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    shown = user.has_perm("portal.view_auditevent") or child_safety.may_handle_child_safety(user)
    return {"shown": shown, "rows": exposure.exposure_by_moderator() if shown else []}


@register.inclusion_tag("abuse_app/admin/_cybertipline_reports.html", takes_context=True)
def cybertipline_reports(context: dict[str, Any], case: Case) -> dict[str, Any]:
    """The case's CyberTipline reports (status, report id), for the child-safety role only."""
    shown = child_safety.may_handle_child_safety(context["request"].user) and case.is_child_safety
    return {"shown": shown, "reports": list(case.cybertipline_reports.all()) if shown else []}
