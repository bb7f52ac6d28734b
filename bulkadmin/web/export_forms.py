"""The Export page's form: a format of the export formats' registry, the fields of the model
(every one by default) and Extended JSON; what it makes is checked as `export_data` checks its
options (`operations.exports`), and a refusal is shown next to the option it names."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from bulkadmin.core.documents import MongoModel
from bulkadmin.core.exceptions import BulkAdminError
from bulkadmin.jobs.exports import ExportParameters, check_export_parameters
from bulkadmin.operations.exports import formats
from bulkadmin.web.selection import Selection

OPTION_FIELDS = {"format": "format", "fields": "field_names", "extended_json": "extended_json"}  # else: the whole form


class ExportForm(forms.Form):
    """Format, fields (in the model's order) and Extended JSON; prefixed (`export-format`), so it
    never meets a carried filter of a field with the same name."""

    format = forms.ChoiceField(widget=forms.RadioSelect)
    field_names = forms.MultipleChoiceField(
        label="Fields",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one field."},
    )
    extended_json = forms.BooleanField(
        required=False,
        label="Extended JSON",
        help_text="JSON and NDJSON only: canonical Extended JSON with the stored keys, for MongoDB's own tools.",
    )

    def __init__(self, *args: Any, model: type[MongoModel], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "export")
        super().__init__(*args, **kwargs)
        self.model = model
        names = list(model.model_fields)
        choice = cast(forms.ChoiceField, self.fields["format"])
        choice.choices = [(fmt.name, f"{fmt.label} ({', '.join(fmt.extensions)})") for fmt in formats]
        choice.initial = "csv"
        chosen = cast(forms.MultipleChoiceField, self.fields["field_names"])
        chosen.choices = [(name, name) for name in names]
        chosen.initial = names

    def export_parameters(self, selection: Selection) -> ExportParameters | None:
        """The export of `selection` as chosen, checked like `export_data`'s options; None (with
        the refusal on the form) when it would not run."""
        data = self.cleaned_data
        every = list(data["field_names"]) == list(self.model.model_fields)
        try:
            parameters = ExportParameters(
                format=data["format"],
                fields=() if every else tuple(data["field_names"]),  # every field: whole documents, no projection
                filter=selection.filter(self.model),
                extended_json=data["extended_json"],
                selection=tuple(selection.description(self.model)),
            )
            check_export_parameters(self.model, parameters)
        except BulkAdminError as error:
            self.add_error(OPTION_FIELDS.get(error.option or ""), str(error))
            return None
        return parameters


def selection_refusal(model: type[MongoModel], selection: Selection) -> str:
    """Why an export of `selection` would be refused (a choice or ticked id that is no value of
    its field), before any form is filled; "" when it would run."""
    try:
        check_export_parameters(model, ExportParameters(filter=selection.filter(model)))
    except BulkAdminError as error:
        return str(error)
    return ""
