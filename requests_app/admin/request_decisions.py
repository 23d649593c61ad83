"""Staff decisions on privacy requests: the forms, one runner per decision, and the admin mixin
that serves them as list actions and detail-page buttons (each calls a ``requests_app.services``
function, which checks the transition and writes the audit trail)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from requests_app.admin import words as admin_words
from requests_app.models import InvalidTransition, PrivacyRequest
from requests_app.services.decisions import (
    request_approve,
    request_assign,
    request_cancel,
    request_close_with_exceptions,
    request_deny,
    request_extend,
    request_resolve_manually,
    request_retry,
)
from requests_app.services.validation import RequestError

if TYPE_CHECKING:  # the mixin is only ever mixed into a ModelAdmin; mypy checks it as one
    from django_stubs_ext import StrOrPromise

    _AdminBase = admin.ModelAdmin[PrivacyRequest]
else:
    _AdminBase = object

MAX_BATCH = 500  # requests per admin action


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=2000,
        help_text=_("Sent to the requester by e-mail and shown on their status page. Write it for them."),
        error_messages={"required": _("A reason is required; it is sent to the requester.")},
    )


class ResolveForm(ReasonForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = _("What was done by hand")
        self.fields["reason"].help_text = _(
            "E.g. which store was erased or exported manually and how it was checked. Goes into the audit "
            "trail and the receipt the requester gets."
        )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("— nobody (unassign) —"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ModelChoiceField)  # declared above; ``fields`` holds a copy
        assignee.queryset = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")


# A decision's service call: (the staff member's request, the privacy request, the form's cleaned data).
Runner = Callable[[HttpRequest, PrivacyRequest, dict[str, Any]], PrivacyRequest]


# name → (label, form class or None, service call)
def _run_approve(request: HttpRequest, obj: PrivacyRequest, data: dict[str, Any]) -> PrivacyRequest:
    return request_approve(request=obj, actor=request.user)


def _run_deny(request: HttpRequest, obj: PrivacyRequest, data: dict[str, Any]) -> PrivacyRequest:
    return request_deny(request=obj, actor=request.user, reason=data["reason"])


def _run_extend(request: HttpRequest, obj: PrivacyRequest, data: dict[str, Any]) -> PrivacyRequest:
    return request_extend(request=obj, actor=request.user, reason=data["reason"])


def _run_assign(request: HttpRequest, obj: PrivacyRequest, data: dict[str, Any]) -> PrivacyRequest:
    return request_assign(request=obj, actor=request.user, assignee=data["assignee"])


def _run_assign_me(request: HttpRequest, obj: PrivacyRequest, data: dict[str, Any]) -> PrivacyRequest:
    return request_assign(request=obj, actor=request.user, assignee=request.user)


def _run_retry(request: HttpRequest, obj: PrivacyRequest, data: dict[str, Any]) -> PrivacyRequest:
    return request_retry(request=obj, actor=request.user)


def _run_resolve(request: HttpRequest, obj: PrivacyRequest, data: dict[str, Any]) -> PrivacyRequest:
    return request_resolve_manually(request=obj, actor=request.user, reason=data["reason"])


def _run_close_with_exceptions(request: HttpRequest, obj: PrivacyRequest, data: dict[str, Any]) -> PrivacyRequest:
    return request_close_with_exceptions(request=obj, actor=request.user, reason=data["reason"])


def _run_cancel(request: HttpRequest, obj: PrivacyRequest, data: dict[str, Any]) -> PrivacyRequest:
    return request_cancel(request=obj, actor=request.user)


DECISIONS: dict[str, tuple[StrOrPromise, type[forms.Form] | None, Runner]] = {
    "approve": (_("Approve"), None, _run_approve),
    "deny": (_("Deny"), ReasonForm, _run_deny),
    "extend": (_("Extend deadline"), ReasonForm, _run_extend),
    "assign_me": (_("Assign to me"), None, _run_assign_me),
    "assign": (_("Assign to…"), AssignForm, _run_assign),
    "retry": (_("Retry failed steps"), None, _run_retry),
    "resolve": (_("Resolve by hand"), ResolveForm, _run_resolve),
    "close_with_exceptions": (_("Close as completed with exceptions"), ResolveForm, _run_close_with_exceptions),
    "cancel": (_("Cancel"), None, _run_cancel),
}
# What a list action or button did, as a sentence with its plural forms (``n`` picks the form).
DONE = {
    "approve": ngettext_lazy("%(n)d request approved.", "%(n)d requests approved.", "n"),
    "deny": ngettext_lazy("%(n)d request denied.", "%(n)d requests denied.", "n"),
    "extend": ngettext_lazy(
        "The deadline of %(n)d request was extended.", "The deadlines of %(n)d requests were extended.", "n"
    ),
    "assign_me": ngettext_lazy("%(n)d request assigned to you.", "%(n)d requests assigned to you.", "n"),
    "assign": ngettext_lazy("%(n)d request assigned.", "%(n)d requests assigned.", "n"),
    "retry": ngettext_lazy(
        "The failed steps of %(n)d request run again.", "The failed steps of %(n)d requests run again.", "n"
    ),
    "resolve": ngettext_lazy(
        "%(n)d request marked as resolved by hand.", "%(n)d requests marked as resolved by hand.", "n"
    ),
    "close_with_exceptions": ngettext_lazy(
        "%(n)d request closed as completed with exceptions.", "%(n)d requests closed as completed with exceptions.", "n"
    ),
    "cancel": ngettext_lazy("%(n)d request canceled.", "%(n)d requests canceled.", "n"),
}
DECISION_HELP = {
    "deny": _("The requester is told the reason. A denied request cannot be reopened."),
    "extend": _(
        "Allowed once, before the first deadline passes: GDPR +2 months, CCPA +45 days. "
        "The requester is told the reason and the new date."
    ),
    "cancel": _("Nothing will be done for the request; the requester is told."),
    "approve": _(
        "Work starts when you approve. A deletion waits for the grace period below (the requester may still "
        "cancel); what each store holds now is listed, looked up without changing anything."
    ),
    "retry": _("The failed store steps run again."),
    "resolve": _("Marks the request completed although a step failed, because staff finished it by hand."),
    "close_with_exceptions": _(
        "Closes a deletion although the erasure left items (listed under “Needs attention”). The reason and "
        "the list go into the audit trail and the signed receipt, and the requester is told in plain words."
    ),
}


class DecisionsMixin(_AdminBase):
    """List actions and detail-page buttons of ``PrivacyRequestAdmin``: one runner for both."""

    def _run(
        self, request: HttpRequest, objects: Sequence[PrivacyRequest], name: str, data: dict[str, Any]
    ) -> tuple[int, list[str]]:
        done, errors = 0, []
        runner = DECISIONS[name][2]
        for obj in objects:
            try:
                runner(request, obj, data)
                done += 1
            except (RequestError, InvalidTransition) as exc:
                errors.append(f"{obj.reference}: {exc}")
        return done, errors

    def _report(self, request: HttpRequest, name: str, done: int, errors: list[str]) -> None:
        if done:
            self.message_user(
                request,
                DONE[name] % {"n": done},
                messages.SUCCESS,
            )
        for error in errors:
            self.message_user(request, error, messages.ERROR)

    def _decision_page(
        self,
        request: HttpRequest,
        name: str,
        form: forms.Form | None,
        objects: list[PrivacyRequest],
        *,
        from_list: bool,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": DECISIONS[name][0],
            "name": name,
            "form": form,
            "objects": objects,
            "help": DECISION_HELP.get(name, ""),
            "from_list": from_list,
            # One request's page shows what approving it will do; a list action approves in bulk.
            "preview": (
                admin_words.approval_preview(objects[0], actor=request.user)
                if name == "approve" and not from_list and len(objects) == 1
                else None
            ),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "changelist_url": reverse("admin:requests_app_privacyrequest_changelist"),
        }
        return TemplateResponse(request, "admin/requests_app/privacyrequest/decision.html", context)

    def _list_action(
        self, request: HttpRequest, queryset: QuerySet[PrivacyRequest], name: str
    ) -> TemplateResponse | None:
        form_class = DECISIONS[name][1]
        # Each decision e-mails and audits one request at a time; keep one click to a bounded batch.
        objects = list(queryset.select_related("assigned_to")[: MAX_BATCH + 1])
        if len(objects) > MAX_BATCH:
            objects = objects[:MAX_BATCH]
            self.message_user(
                request,
                _("Only the first %(n)d selected requests are handled at once; run it again for the rest.")
                % {"n": MAX_BATCH},
                messages.WARNING,
            )
        if form_class is None:
            self._report(request, name, *self._run(request, objects, name, {}))
            return None
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            self._report(request, name, *self._run(request, objects, name, form.cleaned_data))
            return None
        return self._decision_page(request, name, form, objects, from_list=True)

    @admin.action(description=_("Approve selected requests"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> TemplateResponse | None:
        return self._list_action(request, queryset, "approve")

    @admin.action(description=_("Deny selected requests (reason required)…"), permissions=["change"])
    def deny(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> TemplateResponse | None:
        return self._list_action(request, queryset, "deny")

    @admin.action(description=_("Extend the deadline of selected requests (reason required)…"), permissions=["change"])
    def extend(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> TemplateResponse | None:
        return self._list_action(request, queryset, "extend")

    @admin.action(description=_("Assign selected requests to me"), permissions=["change"])
    def assign_me(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> TemplateResponse | None:
        return self._list_action(request, queryset, "assign_me")

    @admin.action(description=_("Assign selected requests to…"), permissions=["change"])
    def assign(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> TemplateResponse | None:
        return self._list_action(request, queryset, "assign")

    @admin.action(description=_("Retry failed steps of selected requests"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> TemplateResponse | None:
        return self._list_action(request, queryset, "retry")

    @admin.action(description=_("Resolve selected requests by hand (say what was done)…"), permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> TemplateResponse | None:
        return self._list_action(request, queryset, "resolve")

    @admin.action(description=_("Cancel selected requests"), permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> TemplateResponse | None:
        return self._list_action(request, queryset, "cancel")

    def decision_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if name not in DECISIONS:
            raise Http404(f"No decision called {name!r}.")
        if not self.has_change_permission(request):
            raise PermissionDenied(
                _("Only privacy officers may act on privacy requests; your account may only look at them.")
                if self.has_view_permission(request)
                else _("Only privacy officers may act on privacy requests; your account has no privacy role.")
            )
        obj = self.get_object(request, object_id)  # None for an unknown or malformed id, never a 500
        if obj is None:
            raise Http404(f"No privacy request with id {object_id!r}.")
        change_url = reverse("admin:requests_app_privacyrequest_change", args=[obj.pk])
        form_class = DECISIONS[name][1]
        form = form_class(request.POST or None) if form_class else None
        if request.method == "POST" and (form is None or form.is_valid()):
            done, errors = self._run(request, [obj], name, form.cleaned_data if form else {})
            self._report(request, name, done, errors)
            return HttpResponseRedirect(change_url)
        return self._decision_page(request, name, form, [obj], from_list=False)
