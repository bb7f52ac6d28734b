"""Operation errors as a web page says them: the option at fault named by its form label."""

from __future__ import annotations

from django import forms
from django.forms.utils import pretty_name

from bulkadmin.core.exceptions import BulkAdminError

LABELS = {"mapping": "Columns → fields"}  # options without a single form field of their own


def label_for(option: str, form: forms.Form | type[forms.Form]) -> str:
    """The label the page shows for an operation's option (its form field's, else a readable name)."""
    field = form.base_fields.get(option)
    if field is not None and field.label:
        return str(field.label)
    return LABELS.get(option) or pretty_name(option)


def worded(error: BulkAdminError, form: forms.Form | type[forms.Form]) -> str:
    """The error with the option it is about named by its label on `form`."""
    return f"{label_for(error.option, form)}: {error}" if error.option else str(error)
