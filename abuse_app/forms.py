"""Forms: the public report form (also used by the API, so both validate alike), appeals, staff decisions."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import date
from typing import Any, TypedDict

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from abuse_app import evidence, targets
from abuse_app.evidence import CheckedFile
from abuse_app.models import ILLEGAL_CONTENT_CATEGORIES, Appeal, Category, Decision
from abuse_app.services import NoticeInput, decision_problems
from abuse_app.targets import Target
from portal.email_address import EmailFormField


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    # A hint for the browser's file picker only; the server sniffs every file's content.
    widget = MultipleFileInput(attrs={"accept": "image/*,video/*,application/pdf,text/plain"})

    def clean(self, data: object, initial: object = None) -> list[UploadedFile]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class ReportForm(forms.Form):
    category = forms.ChoiceField(
        label=_("What is wrong?"),
        choices=Category.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose what the report is about."),
            "invalid_choice": _("Choose one of the listed kinds of problem."),
        },
    )
    law = forms.CharField(
        label=_("Which law does it break?"),
        required=False,
        max_length=300,
        help_text=_(
            "For illegal content: the law or legal provision, as far as you know it (e.g. “GDPR Art. 6”, “§ 186 StGB”)."
        ),
    )
    locations = forms.CharField(
        label=_("Where is it?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=20 * 700,
        help_text=_("The exact web address(es), one per line, or the content id shown in the app."),
        error_messages={"required": _("Tell us where the content is: at least one web address or content id.")},
    )
    explanation = forms.CharField(
        label=_("What happened?"),
        widget=forms.Textarea,
        max_length=5000,
        help_text=_("Explain why this content is abusive or illegal. Do not include more personal data than needed."),
        error_messages={"required": _("Please explain what happened and why you report it.")},
    )
    evidence = MultipleFileField(
        label=_("Evidence"),
        required=False,
        help_text=_("Screenshots, PDFs, text or short videos. Never for reports about harm to minors."),
    )
    reporter_name = forms.CharField(label=_("Your name"), required=False, max_length=200)
    reporter_email = EmailFormField(
        label=_("Your e-mail"),
        required=False,
        max_length=254,
        help_text=_("We use it only to confirm receipt and tell you the decision. The reported person never sees it."),
        error_messages={"invalid": _("This e-mail address looks incomplete; check it or leave the field empty.")},
    )
    good_faith = forms.BooleanField(
        label=_("I believe in good faith that the information in this report is accurate and complete."),
        error_messages={
            "required": _("Please confirm that you make this report in good faith; we cannot process it otherwise.")
        },
    )

    def __init__(
        self,
        data: Mapping[str, object] | None = None,
        files: MultiValueDict[str, UploadedFile] | None = None,
        *,
        child_safety_lane: bool = False,
        initial: MutableMapping[str, object] | None = None,
    ) -> None:
        super().__init__(data, files, initial=initial)
        self.child_safety_lane = child_safety_lane
        if child_safety_lane:
            # URLs only, no identity: the fields are not even offered.
            for name in ("evidence", "reporter_name", "reporter_email", "law"):
                del self.fields[name]
            self.fields["category"].initial = Category.MINORS
            self.fields["category"].widget = forms.HiddenInput()

    def clean_locations(self) -> list[Target]:
        return targets.parse_locations(self.cleaned_data["locations"])

    def clean_evidence(self) -> list[CheckedFile]:
        files = self.cleaned_data.get("evidence") or []
        return evidence.check_files(files) if files else []

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        category = data.get("category")
        if self.child_safety_lane and category and category != Category.MINORS:
            self.add_error("category", _("This form is only for reports about harm to minors."))
        if category == Category.MINORS:
            if self.files.getlist("evidence") if hasattr(self.files, "getlist") else self.files.get("evidence"):
                self.add_error(
                    "evidence",
                    _(
                        "Please do not upload anything for reports about harm to minors. "
                        "Give the web address only; we preserve the content ourselves."
                    ),
                )
            data["reporter_name"] = data["reporter_email"] = ""
        if category == Category.ILLEGAL and not (data.get("law") or "").strip():
            self.add_error("law", _("For other illegal content, name the law you believe is broken."))
        return data

    def note_dropped_files(self) -> None:
        """Say at the evidence field that chosen files are gone (browsers never re-fill a file input).

        Called once the form has errors elsewhere: without it the files vanish silently and the
        reporter sends the report without them (GOV.UK: tell them to choose the file again).
        """
        if "evidence" not in self.fields or self.errors.get("evidence"):
            return
        chosen = self.files.getlist("evidence") if hasattr(self.files, "getlist") else []
        if chosen:
            self.add_error(
                "evidence",
                ngettext(
                    "Your file was not kept because the form had errors; choose it again.",
                    "Your %(n)d files were not kept because the form had errors; choose them again.",
                    len(chosen),
                )
                % {"n": len(chosen)},
            )

    @property
    def asks_identity(self) -> bool:
        return not self.child_safety_lane

    def to_input(self, *, language: str) -> NoticeInput:
        data = self.cleaned_data
        return NoticeInput(
            category=data["category"],
            locations=data["locations"],
            explanation=data["explanation"],
            good_faith=data["good_faith"],
            law=data.get("law", ""),
            reporter_name=data.get("reporter_name", ""),
            reporter_email=data.get("reporter_email", ""),
            language=language,
            files=data.get("evidence") or [],
        )


ILLEGAL_CATEGORY_VALUES = [str(c) for c in ILLEGAL_CONTENT_CATEGORIES]


class AppealForm(forms.Form):
    statement = forms.CharField(
        label=_("Why should the decision change?"),
        widget=forms.Textarea,
        max_length=5000,
        error_messages={"required": _("Tell us why the decision should change.")},
    )
    contact_email = EmailFormField(
        label=_("Your e-mail"),
        required=False,
        help_text=_("To tell you the outcome. You can also check this page again."),
    )

    def __init__(self, data: Mapping[str, object] | None = None, *, ask_email: bool = False) -> None:
        super().__init__(data)
        if not ask_email:
            del self.fields["contact_email"]


GROUND_NONE = "none"


class DecisionInput(TypedDict):
    """A valid decision form's data as ``services.case_decide`` takes it (keywords)."""

    action: str
    ground: str
    legal_reference: str
    facts: str
    territorial_scope: str
    restricted_until: date | None
    automated_detection: bool
    automated: bool
    target_email: str
    manifestly_unfounded: bool


class DecisionForm(forms.Form):
    def __init__(self, data: Mapping[str, object] | None = None) -> None:
        super().__init__(data)
        self.fields["territorial_scope"].initial = settings.PORTAL_ABUSE_TERRITORIAL_SCOPE

    # No defaults: a moderator chooses both explicitly (a preselected "No action / No violation
    # found" was too easy to send unread). "none" stands for the model's blank ground.
    action = forms.ChoiceField(
        label=_("Action"),
        choices=Decision.Action.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose an action: what happens to the reported content or account.")},
    )
    ground = forms.ChoiceField(
        label=_("Ground"),
        choices=[(GROUND_NONE, Decision.Ground.NONE.label), *Decision.Ground.choices[1:]],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a ground: illegal content, the terms of service, or no violation found.")
        },
    )
    legal_reference = forms.CharField(
        label=_("Law or terms clause"),
        required=False,
        max_length=300,
        help_text=_("For illegal content the law (e.g. “GDPR Art. 9”); for terms, the clause (e.g. “Terms §4.2”)."),
    )
    facts = forms.CharField(
        label=_("Facts and circumstances"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": _("Write the facts and circumstances: what you found and why it led to this decision.")
        },
        help_text=_(
            "Sent to the reporters and the reported person, and published in the transparency report: "
            "never name or describe the reporters, and leave out personal data."
        ),
    )
    territorial_scope = forms.CharField(
        label=_("Territorial scope"),
        required=False,
        max_length=200,
        help_text=_(
            "Where the restriction applies. Defaults to where the service is offered; "
            "ignored when nothing is restricted."
        ),
    )
    duration = forms.ChoiceField(
        label=_("Duration"),
        choices=[("indefinite", _("Indefinite")), ("until", _("Until the date below"))],
        initial="indefinite",
        required=False,  # empty means indefinite
        widget=forms.RadioSelect,
    )
    restricted_until = forms.DateField(
        label=_("Restricted until (last day)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only with “Until the date below”."),
    )
    automated_detection = forms.BooleanField(
        label=_("Automated means were used to detect or identify the content"), required=False
    )
    automated = forms.BooleanField(label=_("Automated means were used to take the decision"), required=False)
    target_email = EmailFormField(
        label=_("Reported person's e-mail"),
        required=False,
        help_text=_(
            "If you know it, the reported person gets the statement of reasons and the appeal link "
            "by e-mail. Not stored."
        ),
    )
    manifestly_unfounded = forms.BooleanField(
        label=_("The notices were manifestly unfounded (counts towards warning and suspending the reporters)"),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        action = data.get("action")
        ground = "" if data.get("ground") == GROUND_NONE else data.get("ground")
        if "ground" in data:
            data["ground"] = ground
        if data.get("duration") == "until" and not data.get("restricted_until"):
            self.add_error("restricted_until", _("Give the last day of the restriction, or choose indefinite."))
        if data.get("duration") != "until":
            data["restricted_until"] = None
        if action:  # the service's rules, each problem next to its field (unless the field has one)
            problems = decision_problems(
                action=action,
                ground=ground or "",
                legal_reference=data.get("legal_reference") or "",
                facts=data.get("facts") or "",
                manifestly_unfounded=bool(data.get("manifestly_unfounded")),
                restricted_until=data.get("restricted_until"),
            )
            for field, message in problems.items():
                if field not in self.errors:
                    self.add_error(field, message)
        return data

    def decide_kwargs(self) -> DecisionInput:
        """The cleaned data as ``services.case_decide`` takes it (all but ``duration``)."""
        data = self.cleaned_data
        return DecisionInput(
            action=data["action"],
            ground=data["ground"],
            legal_reference=data["legal_reference"],
            facts=data["facts"],
            territorial_scope=data["territorial_scope"],
            restricted_until=data["restricted_until"],
            automated_detection=data["automated_detection"],
            automated=data["automated"],
            target_email=data["target_email"],
            manifestly_unfounded=data["manifestly_unfounded"],
        )


class AppealDecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        widget=forms.RadioSelect,
        choices=[
            (Appeal.Status.UPHELD, Appeal.Status.UPHELD.label),
            (Appeal.Status.OVERTURNED, Appeal.Status.OVERTURNED.label),
        ],
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Sent to the appellant; never name the reporters."),
    )
    new_action = forms.ChoiceField(
        label=_("New action (when overturned)"), required=False, choices=[("", "—"), *Decision.Action.choices]
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("outcome") == Appeal.Status.OVERTURNED and not data.get("new_action"):
            self.add_error("new_action", _("Say what should happen now that the decision is overturned."))
        return data


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
