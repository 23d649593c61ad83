"""Public forms for privacy requests. Validation rules live in ``services`` so the API shares them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from portal.email_address import EmailFormField
from requests_app import agents
from requests_app.engine import receipt
from requests_app.models import PrivacyRequest
from requests_app.services.validation import IDENTIFIER_MAX_LENGTH, RequestError, normalise_email

JURISDICTION_CHOICES = [
    ("gdpr", _("GDPR — I am in the EU, the EEA or the UK")),
    ("ccpa", _("CCPA — I am a California resident")),
    ("other", _("Somewhere else")),
]

# Labels for identifiers an operator may configure; anything else gets a generic label.
IDENTIFIER_LABELS = {
    "username": _("Username in the app"),
    "phone": _("Phone number"),
    "user_id": _("User ID"),
    "customer_number": _("Customer number"),
}


def identifier_label(name: str) -> str:
    return str(IDENTIFIER_LABELS.get(name, name.replace("_", " ").capitalize()))


class RequestForm(forms.Form):
    email = EmailFormField(
        label=_("Your e-mail address"),
        max_length=254,
        help_text=_("We send a confirmation link here. Use the address your account or data is linked to."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Enter the e-mail address the data is linked to."),
            "invalid": _("Enter a valid e-mail address, like name@example.com."),
        },
    )
    jurisdiction = forms.ChoiceField(
        label=_("Which privacy law applies to you?"),
        choices=JURISDICTION_CHOICES,
        widget=forms.RadioSelect,
        help_text=_("This decides the deadline we must answer by. If unsure, keep the suggested choice."),
        error_messages={
            "required": _("Choose which privacy law applies to you."),
            "invalid_choice": _("Choose one of the listed options."),
        },
    )
    confirm = forms.BooleanField(required=True)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["jurisdiction"].initial = settings.PORTAL_DEFAULT_JURISDICTION
        self.identifier_names = list(settings.PORTAL_EXTRA_IDENTIFIERS)
        for name in self.identifier_names:
            self.fields[f"id_{name}"] = forms.CharField(
                label=identifier_label(name),
                required=False,
                max_length=IDENTIFIER_MAX_LENGTH,
                help_text=_("Optional. Helps us find data not linked to your e-mail address."),
                error_messages={"max_length": _("Keep this under %(limit_value)d characters.")},
            )
        # The confirmation goes last, after the fields it is about.
        self.fields["confirm"] = self.fields.pop("confirm")
        if kind == PrivacyRequest.Kind.DELETION:
            self.fields["confirm"].label = _(
                "I understand that deletion cannot be undone: my data will be erased from %(app)s and "
                "from the data %(app)s sent to Microsoft's AI services, and my account may stop working."
            ) % {"app": settings.PORTAL_APP_NAME}
            self.fields["confirm"].error_messages["required"] = _(
                "Tick the box to confirm you understand the deletion cannot be undone."
            )
        else:
            self.fields["confirm"].label = _(
                "I confirm I am asking for a copy of my own data. It will be available through a personal "
                "download link for a limited time."
            )
            self.fields["confirm"].error_messages["required"] = _(
                "Tick the box to confirm you are asking for your own data."
            )

    def clean_email(self) -> str:
        try:
            return normalise_email(self.cleaned_data["email"])
        except RequestError as exc:
            raise forms.ValidationError(str(exc))

    def identifiers(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(f"id_{name}", "") for name in self.identifier_names}


class AgentRequestForm(RequestForm):
    """The same request, filed by an authorized agent for a named consumer (requests_app/agents.py)."""

    agent_name = forms.CharField(label=_("Your name (the agent)"), max_length=200)
    agent_email = EmailFormField(
        label=_("Your e-mail address (the agent)"),
        max_length=254,
        help_text=_("We send you a status link. You never receive the consumer's data."),
    )
    agent_organisation = forms.CharField(label=_("Your organisation, if any"), max_length=200, required=False)
    permission = forms.FileField(
        label=_("The consumer's signed permission"),
        help_text=_("A PDF, PNG or JPEG of the permission the consumer signed for you, at most 3 MB."),
        error_messages={"required": _("Attach the consumer's signed permission.")},
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, kind=kind, **kwargs)
        self.fields["email"].label = _("The consumer's e-mail address")
        self.fields["email"].help_text = _(
            "The consumer confirms the request from this address before anything happens; any copy of "
            "their data is sent there."
        )
        self.fields["confirm"].label = _(
            "I am authorized by the consumer to make this request for them, as the attached permission shows."
        )
        self.fields["confirm"].error_messages["required"] = _("Tick the box to confirm you are authorized.")
        self.fields["confirm"] = self.fields.pop("confirm")

    def clean_permission(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["permission"]
        if (upload.size or 0) > agents.MAX_PERMISSION_BYTES:  # FileField refuses empty files
            raise forms.ValidationError(_("The signed permission is larger than 3 MB."))
        try:
            agents.clean_permission(upload.read(), upload.name)
        except RequestError as exc:
            raise forms.ValidationError(str(exc))
        upload.seek(0)
        return upload


class FindRequestsForm(forms.Form):
    email = EmailFormField(
        label=_("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We e-mail the status links of your open requests to this address."),
        error_messages={
            "required": _("Enter the e-mail address you used for your request."),
            "invalid": _("Enter a valid e-mail address, like name@example.com."),
        },
    )


RECEIPT_MAX_BYTES = 256 * 1024


class ReceiptVerifyForm(forms.Form):
    """/receipts/verify/: paste a receipt's JSON or upload the file; ``document`` is the parsed receipt."""

    receipt = forms.CharField(
        label=_("Receipt (JSON)"),
        required=False,
        max_length=RECEIPT_MAX_BYTES,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "mono"}),
        help_text=_("Paste the whole contents of the receipt-PR-….json file from the e-mail."),
    )
    file = forms.FileField(
        label=_("…or upload the receipt file"),
        required=False,
        help_text=_("The receipt-PR-….json attachment (not the HTML copy)."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        upload, text = data.get("file"), (data.get("receipt") or "").strip()
        if self.errors:
            return data
        if upload and text:
            raise forms.ValidationError(_("Paste the receipt or upload the file, not both."))
        if upload:
            if upload.size > RECEIPT_MAX_BYTES:
                raise forms.ValidationError(_("That file is too large to be a receipt (at most 256 KB)."))
            raw: bytes | str = upload.read()
        elif text:
            raw = text
        else:
            raise forms.ValidationError(_("Paste the receipt's JSON or choose the receipt file."))
        try:
            data["document"] = receipt.parse(raw)
        except receipt.ReceiptFormatError as exc:
            raise forms.ValidationError(str(exc))
        return data


class ConsentLinkForm(forms.Form):
    """The consent page's "e-mail me a link": the address the person signed up to the app with."""

    email = forms.EmailField(
        label=_("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("The address you use for your account. We e-mail you a link that opens your consent choices."),
        error_messages={
            "required": _("Enter the e-mail address of your account."),
            "invalid": _("Enter a valid e-mail address, like name@example.com."),
        },
    )
