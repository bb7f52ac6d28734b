"""Forms of the Import page: the upload with its options, and the preview's editable choices."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from bulkadmin.core.documents import MongoModel
from bulkadmin.operations.imports.formats import formats
from bulkadmin.operations.imports.preview import PREVIEW_COLUMNS, ColumnPlan
from bulkadmin.web.fields import field_paths

MODE_CHOICES = (
    ("insert", "insert: add every row as a new document"),
    ("upsert", "upsert: insert new keys, replace existing documents"),
    ("merge", "merge: insert new keys, set the given fields of existing documents"),
    ("delete", "delete: remove the documents with these keys"),
)
DELIMITER_CHOICES = (("", "detect"), (",", ", comma"), (";", "; semicolon"), ("\t", "tab"), ("|", "| pipe"))
LEAVE_OUT = ""
READ_OPTIONS = frozenset({"encoding", "delimiter", "sheet", "extended_json"})  # shown when the format takes them


class ImportOptions(forms.Form):
    """How the file is read and written: shared by the upload and the preview."""

    mode = forms.ChoiceField(choices=MODE_CHOICES, initial="insert")
    key_fields = forms.CharField(
        required=False, help_text="Comma-separated; for upsert, merge and delete (default: the model's key fields)."
    )
    encoding = forms.CharField(required=False, max_length=40, help_text="Empty to detect (UTF-8, UTF-16, cp1252…).")
    delimiter = forms.ChoiceField(choices=DELIMITER_CHOICES, required=False)
    ignore_blanks = forms.BooleanField(required=False, help_text="Merge: an empty cell leaves the field as it is.")
    extended_json = forms.BooleanField(
        required=False,
        label="Extended JSON",
        help_text="JSON and NDJSON: read MongoDB Extended JSON ($oid, $date, $numberDecimal…) as the types it "
        "stands for, as an export with Extended JSON or mongoexport writes it.",
    )
    date_format = forms.CharField(
        required=False,
        max_length=60,
        label="Date format",
        help_text="How dates are written, e.g. %d/%m/%Y for 31/01/2026 or %m/%d/%Y for 01/31/2026 "
        "(Python strptime codes). Empty: ISO 8601 only (2026-01-31), which is always read.",
    )

    def clean_date_format(self) -> str:
        text = self.cleaned_data.get("date_format", "").strip()
        if text and "%" not in text:
            raise forms.ValidationError("Write the format with codes such as %d (day), %m (month) and %Y (year).")
        return text

    def options(self) -> dict[str, Any]:
        """The cleaned options as the import operation takes them."""
        data = self.cleaned_data
        keys = [key.strip() for key in data["key_fields"].split(",") if key.strip()]
        return {
            "mode": data["mode"],
            "key_fields": keys or None,
            "encoding": data.get("encoding", "").strip() or None,
            "delimiter": data.get("delimiter") or None,
            "ignore_blanks": data["ignore_blanks"],
            "date_format": data.get("date_format") or None,
            "extended_json": bool(data.get("extended_json")),
        }


class UploadForm(ImportOptions):
    """Step 1: the collection, the file and the options."""

    collection = forms.ChoiceField(error_messages={"required": "Choose the collection to import into."})
    file = forms.FileField()
    field_order = (
        "collection",
        "file",
        "mode",
        "key_fields",
        "encoding",
        "delimiter",
        "date_format",
        "extended_json",
        "ignore_blanks",
    )

    def __init__(self, *args: Any, collections: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Choose a collection"), *((name, name) for name in collections)]
        cast(forms.ChoiceField, self.fields["collection"]).choices = choices
        extensions = [extension.lstrip(".").upper() for extension in formats.upload_extensions()]
        self.fields["file"].help_text = f"{', '.join(extensions[:-1])} or {extensions[-1]}."


class PreviewForm(ImportOptions):
    """Step 2: the detected format, its read options (encoding and delimiter, or a workbook's
    sheet) and each column's field, editable."""

    format = forms.ChoiceField(required=False)
    sheet = forms.ChoiceField(required=False, help_text="The worksheet to import.")
    field_order = (
        "format",
        "sheet",
        "encoding",
        "delimiter",
        "extended_json",
        "date_format",
        "mode",
        "key_fields",
        "ignore_blanks",
    )

    def __init__(
        self,
        *args: Any,
        model: type[MongoModel],
        columns: list[str],
        fmt: str = "",
        sheets: list[str] | tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["format"]).choices = [
            ("", "detect from the extension"),
            *((f.name, f.label) for f in formats),
        ]
        cast(forms.ChoiceField, self.fields["sheet"]).choices = [(name, name) for name in sheets]
        applies = formats.get(fmt).options if fmt in formats.names() else READ_OPTIONS
        if not sheets:
            applies = applies - {"sheet"}
        for name in READ_OPTIONS - applies:
            del self.fields[name]
        self.columns = columns
        choices = [(LEAVE_OUT, "— leave out —"), *field_paths(model)]
        for position, header in enumerate(columns[:PREVIEW_COLUMNS]):
            named = forms.Select(attrs={"aria-label": f"Field for the column {header}"})
            self.fields[f"map_{position}"] = forms.ChoiceField(
                choices=choices, required=False, label=header, widget=named
            )

    def mapping(self) -> dict[str, str]:
        """Header -> field for every column shown (the others go to the fields of their names)."""
        return {header: self.cleaned_data[f"map_{n}"] for n, header in enumerate(self.columns[:PREVIEW_COLUMNS])}

    def options(self) -> dict[str, Any]:
        return {
            **super().options(),
            "format": self.cleaned_data["format"] or None,
            "sheet": self.cleaned_data.get("sheet") or None,
        }

    def map_field(self, position: int) -> forms.BoundField:
        return self[f"map_{position}"]


def preview_initial(options: dict[str, Any], plans: tuple[ColumnPlan, ...]) -> dict[str, Any]:
    """The preview form's values: the options as detected or chosen, and the column plan."""
    initial = {
        "mode": options.get("mode", "insert"),
        "key_fields": ", ".join(options.get("key_fields") or []),
        "encoding": options.get("encoding") or "",
        "delimiter": options.get("delimiter") or "",
        "ignore_blanks": options.get("ignore_blanks", False),
        "date_format": options.get("date_format") or "",
        "format": options.get("format") or "",
        "sheet": options.get("sheet") or "",
        "extended_json": bool(options.get("extended_json")),
    }
    initial.update({f"map_{n}": plan.target for n, plan in enumerate(plans[:PREVIEW_COLUMNS])})
    return initial
