from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone, translation
from django.views.decorators.cache import cache_control

from portal.context_processors import _first_url
from portal.models import PolicyVersion


def home(request: HttpRequest) -> HttpResponse:
    # The flows live in other apps; resolve their URLs by name, with the documented paths as fallback.
    return render(
        request,
        "home.html",
        {
            "access_url": _first_url("request-new-access", default="/requests/new/access/"),
            "deletion_url": _first_url("request-new-deletion", default="/requests/new/deletion/"),
            "consent_url": _first_url("consent-overview", "consent-index", "consent-list", default="/consent/"),
            "resend_url": _first_url("request-resend", "request-resend-verification", default=""),
        },
    )


def _policy_context(
    request: HttpRequest, policy: PolicyVersion | None, in_force: PolicyVersion | None
) -> dict[str, Any]:
    language = (translation.get_language() or "en")[:2]
    fields = ("version", "language", "effective_date", "summary_of_changes")
    # One entry per version number: in the person's language where translated, else in English.
    by_version: dict[int, PolicyVersion] = {}
    for version in PolicyVersion.objects.published().only(*fields).order_by("-version"):
        chosen = by_version.get(version.version)
        if chosen is None or version.language == language or (chosen.language != language and version.language == "en"):
            by_version[version.version] = version
    versions = list(by_version.values())
    today = timezone.localdate()
    newest_in_force = in_force.version if in_force else 0
    scheduled = [v for v in versions if v.effective_date > today and v.version > newest_in_force]
    upcoming = min(scheduled, key=lambda v: v.version, default=None)
    return {
        "policy": policy,
        "policy_html": policy.render() if policy else "",
        "in_force": in_force,
        "upcoming": upcoming,
        "versions": versions,
        "other_language": policy is not None and policy.language != language,
    }


def privacy_policy(request: HttpRequest) -> HttpResponse:
    policy = PolicyVersion.objects.in_force(translation.get_language() or "en")
    return render(request, "privacy_policy.html", _policy_context(request, policy, policy))


def privacy_policy_version(request: HttpRequest, version: int) -> HttpResponse:
    language = translation.get_language() or "en"
    candidates = {p.language: p for p in PolicyVersion.objects.published().filter(version=version)}
    policy = candidates.get(language[:2]) or candidates.get("en") or next(iter(candidates.values()), None)
    if policy is None:
        raise Http404("no published privacy policy with that version")
    in_force = PolicyVersion.objects.in_force(language)
    return render(request, "privacy_policy.html", _policy_context(request, policy, in_force))


@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    return redirect(static("favicon.svg"))
