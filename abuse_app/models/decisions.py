"""Decisions: the statement of reasons (DSA Art. 17) and the redress routes it names."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from abuse_app.models.cases import Case


class Decision(models.Model):
    """A statement of reasons (DSA Art. 17)."""

    class Action(models.TextChoices):
        NONE = "none", _("No action")
        REMOVE_CONTENT = "remove_content", _("Remove or disable the content")
        RESTRICT_ACCOUNT = "restrict_account", _("Restrict the account")
        SUSPEND_ACCOUNT = "suspend_account", _("Suspend the account")
        FORWARD_MICROSOFT = "forward_microsoft", _("Forward to Microsoft")
        REFER_AUTHORITIES = "refer_authorities", _("Refer to the authorities")

    class Ground(models.TextChoices):
        NONE = "", _("No violation found")
        ILLEGAL = "illegal", _("Illegal content")
        TERMS = "terms", _("Incompatible with the terms of service")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="decisions")
    action = models.CharField(max_length=24, choices=Action.choices)
    ground = models.CharField(max_length=10, choices=Ground.choices, blank=True)
    legal_reference = models.CharField(
        max_length=300, blank=True, help_text="The law (for illegal content) or the terms' clause."
    )
    facts = models.TextField(help_text="Facts and circumstances the decision relies on.")
    # DSA Art. 17(3)(a): where and for how long a restriction applies.
    territorial_scope = models.CharField(
        max_length=200, blank=True, help_text="Where the restriction applies (empty when nothing is restricted)."
    )
    restricted_until = models.DateField(
        null=True, blank=True, help_text="Last day of the restriction; empty means indefinite."
    )
    # DSA Art. 17(3)(c): automated means, for detection and for the decision, said separately.
    automated_detection = models.BooleanField(
        default=False, help_text="The content was detected or identified by automated means."
    )
    automated = models.BooleanField(default=False, help_text="The decision was taken by automated means.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now, db_index=True)
    manifestly_unfounded = models.BooleanField(
        default=False, help_text="The notices were manifestly unfounded (misuse)."
    )
    target_token_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(action="none") | ~Q(ground=""), name="abuse_decision_action_has_ground"),
            models.CheckConstraint(
                condition=Q(ground="") | ~Q(legal_reference=""), name="abuse_decision_ground_has_reference"
            ),
            models.CheckConstraint(
                condition=Q(automated=True) | Q(decided_by__isnull=False),
                name="abuse_decision_human_has_decider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.case_id})"

    @property
    def appeal_deadline(self) -> datetime:
        return self.decided_at + timedelta(days=settings.PORTAL_ABUSE_APPEAL_DAYS)

    @property
    def restricts(self) -> bool:
        """Whether the action restricts the content or the account (scope and duration apply)."""
        return self.action in RESTRICTING_ACTIONS

    @property
    def scope_display(self) -> str:
        return self.territorial_scope if self.restricts else str(_("Not applicable (nothing is restricted)"))

    @property
    def duration_display(self) -> str:
        if not self.restricts:
            return str(_("Not applicable (nothing is restricted)"))
        if self.restricted_until is None:
            return str(_("Indefinite"))
        return str(_("Until %(date)s") % {"date": date_format(self.restricted_until, "DATE_FORMAT")})

    def redress_routes(self) -> list[dict[str, Any]]:
        """Every way to challenge the decision (DSA Art. 17(3)(f)), in the active language.

        The operator's details come from settings (docs/abuse.md, "Redress"); the
        sentences are translated in locale/.
        """
        operator = f"{settings.PORTAL_OPERATOR_NAME} ({settings.PORTAL_OPERATOR_CONTACT})"
        deadline = timezone.localtime(self.appeal_deadline).date()
        body = settings.PORTAL_ABUSE_DISPUTE_BODY
        courts = settings.PORTAL_ABUSE_COURTS
        return [
            {
                "route": "internal_appeal",
                "title": str(_("Internal appeal")),
                "deadline": deadline.isoformat(),
                "text": str(
                    _(
                        "You can appeal to %(operator)s until %(date)s, free of charge. "
                        "A moderator who did not take this decision reviews it."
                    )
                    % {"operator": operator, "date": date_format(deadline, "DATE_FORMAT")}
                ),
            },
            {
                "route": "out_of_court_dispute_settlement",
                "title": str(_("Out-of-court dispute settlement")),
                "url": settings.PORTAL_ABUSE_DISPUTE_URL,
                "text": str(
                    (
                        _(
                            "You can refer the dispute to a certified out-of-court dispute settlement "
                            "body (Digital Services Act, Art. 21), for example %(body)s. "
                            "%(operator)s will take part in good faith."
                        )
                        if body
                        else _(
                            "You can refer the dispute to a certified out-of-court dispute settlement "
                            "body of your choice (Digital Services Act, Art. 21). "
                            "%(operator)s will take part in good faith."
                        )
                    )
                    % {"body": body, "operator": operator}
                ),
            },
            {
                "route": "courts",
                "title": str(_("Courts")),
                "text": str(
                    (
                        _("You can take the matter to court at any time, for example %(courts)s.")
                        if courts
                        else _("You can take the matter to the competent courts at any time.")
                    )
                    % {"courts": courts}
                ),
            },
        ]

    def statement(self) -> dict[str, Any]:
        """The statement of reasons as data (webhook, transparency JSON); nothing about the reporters."""
        return {
            "decision_id": self.pk,
            "decision": self.action,
            "decision_label": str(self.get_action_display()),
            "territorial_scope": self.territorial_scope if self.restricts else None,
            "duration": (
                None
                if not self.restricts
                else {
                    "indefinite": self.restricted_until is None,
                    "until": (self.restricted_until.isoformat() if self.restricted_until else None),
                }
            ),
            "facts": self.facts,
            "automated_detection": self.automated_detection,
            "automated_decision": self.automated,
            "ground": self.ground or None,
            "legal_reference": self.legal_reference or None,
            "decided_at": self.decided_at.isoformat(),
            "appeal_deadline": self.appeal_deadline.isoformat(),
            "redress": self.redress_routes(),
        }

    @property
    def appeal_window_open(self) -> bool:
        return timezone.now() <= self.appeal_deadline


# Actions that restrict someone: the statement of reasons gives their scope and duration.
RESTRICTING_ACTIONS = {
    Decision.Action.REMOVE_CONTENT,
    Decision.Action.RESTRICT_ACCOUNT,
    Decision.Action.SUSPEND_ACCOUNT,
}
