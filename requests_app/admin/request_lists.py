"""The privacy-request changelist: a paginator that stays fast on a million rows, and its filters."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from requests_app.models import PrivacyRequest
from requests_app.services.decisions import DEADLINE_STATUSES
from requests_app.services.schedule import DUE_SOON_DAYS

if TYPE_CHECKING:  # Paginator and ModelAdmin are generic only in django-stubs, not at run time
    from django_stubs_ext import StrOrPromise

    _Paginator = Paginator[PrivacyRequest]
    _Admin = admin.ModelAdmin[PrivacyRequest]
else:
    _Paginator = Paginator


def _due_q(*, before: datetime | None = None, after: datetime | None = None) -> Q:
    """Effective due date (extended if extended) compared without an annotation, so indexes apply."""
    q = Q()
    if before is not None:
        q &= Q(extended_due_at__lt=before) | Q(extended_due_at__isnull=True, due_at__lt=before)
    if after is not None:
        q &= Q(extended_due_at__gte=after) | Q(extended_due_at__isnull=True, due_at__gte=after)
    return q


class CappedCountPaginator(_Paginator):
    """Counting every matching row is the slowest part of a changelist on a million rows.

    Count at most ``CAP + 1`` rows (``SELECT COUNT(*) FROM (… LIMIT CAP+1)``): pages up to
    CAP are exact, beyond that the list says "more than CAP" (see pagination.html) and
    staff narrow it with a filter or search, which is what they do anyway.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        assert isinstance(rows, QuerySet)  # the changelist pages a QuerySet
        return rows[: self.CAP + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.CAP


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request: HttpRequest, model_admin: _Admin) -> list[tuple[str, StrOrPromise]]:
        return [("overdue", _("Overdue")), ("soon", _("Due within 7 days"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> QuerySet[PrivacyRequest]:
        now = timezone.now()
        open_ = queryset.filter(status__in=DEADLINE_STATUSES)
        if self.value() == "overdue":
            return open_.filter(_due_q(before=now))
        if self.value() == "soon":
            return open_.filter(_due_q(after=now, before=now + timedelta(days=DUE_SOON_DAYS)))
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: _Admin) -> list[tuple[str, StrOrPromise]]:
        return [("me", _("Assigned to me")), ("none", _("Unassigned"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> QuerySet[PrivacyRequest]:
        if self.value() == "me":
            return queryset.filter(assigned_to_id=request.user.pk)  # staff only: the admin needs a login
        if self.value() == "none":
            return queryset.filter(assigned_to__isnull=True)
        return queryset
