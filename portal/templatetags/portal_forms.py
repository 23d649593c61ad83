"""Accessible form rendering shared by every public form.

``{% load portal_forms %}`` then:
- ``{% include "includes/form_errors.html" with form=form %}`` at the top of the form: an error
  summary (announced, focused by the progressive-enhancement script) linking to each field.
- ``{% include "includes/field.html" with field=form.email %}`` per field: label, hint and
  error tied to the input with ``aria-describedby``, ``aria-invalid`` on error, groups of
  radios/checkboxes in a ``fieldset`` with a ``legend``.
"""

from __future__ import annotations

from typing import Any

from django import forms, template

register = template.Library()


def _ids(field: Any) -> tuple[str, str]:
    base = field.auto_id or field.html_name
    return f"{base}_hint", f"{base}_error"


@register.simple_tag
def field_hint_id(field: Any) -> str:
    return _ids(field)[0]


@register.simple_tag
def field_error_id(field: Any) -> str:
    return _ids(field)[1]


@register.filter
def is_group(field: Any) -> bool:
    """Radios and multiple checkboxes: rendered in a fieldset, labelled by a legend."""
    return isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple)


@register.filter
def is_checkbox(field: Any) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_file(field: Any) -> bool:
    return isinstance(field.field.widget, forms.ClearableFileInput | forms.FileInput)


@register.simple_tag
def accessible_widget(field: Any) -> str:
    """The field's widget with its hint and error referenced by ``aria-describedby``."""
    hint_id, error_id = _ids(field)
    described = []
    if field.help_text:
        described.append(hint_id)
    if field.errors:
        described.append(error_id)
    attrs = {}
    existing = field.field.widget.attrs.get("aria-describedby")
    if existing:
        described.insert(0, existing)
    if described and not is_group(field):
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    if field.field.required and not is_group(field) and not is_checkbox(field):
        attrs["aria-required"] = "true"
    return str(field.as_widget(attrs=attrs))


@register.simple_tag
def group_described_by(field: Any) -> str:
    hint_id, error_id = _ids(field)
    ids = ([hint_id] if field.help_text else []) + ([error_id] if field.errors else [])
    return " ".join(ids)
