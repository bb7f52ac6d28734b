"""The schedule form of the Django admin: which operation (cleanup rules, a sync source and its
mode, an export's options), when (a cron expression in a time zone), and who hears of it. The
choices offered and accepted are those the editing user holds the rights for."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

from bulkadmin.core.batch_sizes import DEFAULT_BATCH_SIZE
from bulkadmin.core.registry import site
from bulkadmin.jobs import sources
from bulkadmin.jobs.parameters import SYNC_MODES, CleanupParameters, SyncParameters
from bulkadmin.jobs.schedules import BadSchedule, check_cron
from bulkadmin.models import Job, Schedule
from bulkadmin.operations.cleanup import rules
from bulkadmin.operations.exports.formats import formats
from bulkadmin.operations.exports.plan import ExportError
from bulkadmin.operations.exports.run import check_export
from bulkadmin.web.permissions import collections_for, may_do

MAX_EMAILS = 50  # addresses a schedule's notice goes to
MAX_CLEANUP_BATCH = 100_000  # documents per write of a scheduled cleanup
# A webhook is http(s) only (never file: or ftp:); one to this host is allowed (a local receiver).
webhook_url = URLValidator(schemes=["http", "https"], message="Enter an http:// or https:// address.")


def schedule_collections(schedule: Schedule) -> list[str]:
    """The collections a schedule's operation touches."""
    return [name.strip() for name in schedule.collection.split(",") if name.strip()]


def may_edit(user: Any, schedule: Schedule) -> bool:
    """Whether `user` holds the rights the schedule's operation needs on every collection it touches."""
    names = schedule_collections(schedule)
    return bool(names) and all(may_do(user, schedule.kind, name) for name in names)


def email_addresses(text: str) -> list[str]:
    """The addresses of a notice list: one a line or comma-separated."""
    return [address for part in text.replace(",", "\n").splitlines() if (address := part.strip())]


class ScheduleForm(forms.ModelForm):
    """A schedule; the operation's own fields are shown for every operation and read for the chosen one."""

    rules = forms.MultipleChoiceField(
        label="cleanup rules", required=False, widget=forms.CheckboxSelectMultiple, help_text="Cleanup: run these."
    )
    batch_size = forms.IntegerField(
        label="cleanup batch size", min_value=1, max_value=MAX_CLEANUP_BATCH, initial=DEFAULT_BATCH_SIZE
    )
    source = forms.ChoiceField(label="sync source", required=False)
    mode = forms.ChoiceField(label="sync mode", choices=[(mode, mode) for mode in SYNC_MODES], initial="incremental")
    export_collection = forms.ChoiceField(label="export collection", required=False)
    export_format = forms.ChoiceField(label="export format", required=False)
    export_fields = forms.CharField(label="export fields", required=False, help_text="Comma-separated; empty: all.")
    notify_webhook = forms.URLField(
        label="POST a JSON webhook on failure to",
        required=False,
        max_length=500,
        assume_scheme="https",
        validators=[webhook_url],
    )
    export_filter = forms.CharField(
        label="export filter", required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="JSON, e.g. {}"
    )

    class Meta:
        model = Schedule
        fields = [
            "name",
            "kind",
            "cron",
            "timezone",
            "enabled",
            "missed",
            "notify_emails",
            "notify_webhook",
            "notify_on_success",
        ]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self._choose("rules", [(rule.name, f"{rule.name} ({rule.collection})") for rule in self._rules()])
        self._choose("source", [("", "---"), *((name, name) for name in self._sources())])
        self._choose("export_collection", [("", "---"), *((name, name) for name in collections_for(user, "export"))])
        self._choose("export_format", [(name, name) for name in formats.names()])
        self._show(self.instance.parameters if self.instance.pk else {})

    def _choose(self, name: str, choices: list[tuple[str, str]]) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices

    def _rules(self) -> list[Any]:
        return [rule for rule in rules if may_do(self.user, "cleanup", rule.collection)]

    def _sources(self) -> list[str]:
        declared = sources.declared().items()
        return [name for name, source in declared if may_do(self.user, "sync", source.model.collection)]

    def _show(self, parameters: dict[str, Any]) -> None:
        """The operation's fields, from a saved schedule's parameters."""
        kind = self.instance.kind
        initial = self.initial
        if kind == Job.Kind.CLEANUP:
            initial.update(rules=parameters.get("rules", []), batch_size=parameters.get("batch_size"))
        elif kind == Job.Kind.SYNC:
            initial.update(source=parameters.get("source"), mode=parameters.get("mode"))
        elif kind == Job.Kind.EXPORT:
            initial.update(
                export_collection=self.instance.collection,
                export_format=parameters.get("format"),
                export_fields=", ".join(parameters.get("fields") or ()),
                export_filter=json.dumps(parameters.get("filter") or {}),
            )

    def clean_notify_emails(self) -> str:
        """The addresses as typed, each a valid address (no header lines), at most `MAX_EMAILS`."""
        text: str = self.cleaned_data.get("notify_emails") or ""
        addresses = email_addresses(text)
        if len(addresses) > MAX_EMAILS:
            raise ValidationError(f"At most {MAX_EMAILS} addresses ({len(addresses)} given).")
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"{address[:100]!r} is not an email address.") from None
        return text

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            check_cron(cleaned.get("cron") or "", cleaned.get("timezone") or "")
        except BadSchedule as error:
            self.add_error(error.field, str(error))
        kind = cleaned.get("kind")
        operation = {Job.Kind.CLEANUP: self._cleanup, Job.Kind.SYNC: self._sync, Job.Kind.EXPORT: self._export}
        if kind in operation:
            operation[kind](cleaned)
        return cleaned

    def _missing(self, field: str, message: str) -> None:
        """Ask for `field`, unless it already says why its value was refused (not a choice offered)."""
        if field not in self.errors:
            self.add_error(field, message)

    def _set(self, parameters: dict[str, Any], collections: list[str]) -> None:
        self.instance.parameters = parameters
        self.instance.collection = ", ".join(sorted(set(collections)))[:200]

    def _cleanup(self, cleaned: dict[str, Any]) -> None:
        chosen = cleaned.get("rules") or []
        if not chosen:
            self._missing("rules", "Choose the cleanup rules to run.")
            return
        selected = rules.select(chosen)
        batch = cleaned.get("batch_size") or DEFAULT_BATCH_SIZE
        self._set(CleanupParameters(tuple(chosen), batch).to_parameters(), [rule.collection for rule in selected])

    def _sync(self, cleaned: dict[str, Any]) -> None:
        name = cleaned.get("source")
        if not name:
            self._missing("source", "Choose the sync source.")
            return
        source = sources.get(name)
        if cleaned.get("mode") == "mark_missing" and not source.active_field:
            self.add_error("mode", f"Sync source {name!r} declares no active_field, so it cannot mark missing.")
            return
        self._set(SyncParameters(name, cleaned.get("mode") or "incremental").to_parameters(), [source.model.collection])

    def _export(self, cleaned: dict[str, Any]) -> None:
        collection = cleaned.get("export_collection")
        if not collection or collection not in site:
            self._missing("export_collection", "Choose the collection to export.")
            return
        try:
            chosen_filter = json.loads(cleaned.get("export_filter") or "{}")
        except json.JSONDecodeError as error:
            self.add_error("export_filter", f"Not JSON: {error.msg} (line {error.lineno}, column {error.colno}).")
            return
        if not isinstance(chosen_filter, dict):
            self.add_error("export_filter", "The filter must be a JSON object, e.g. {}.")
            return
        fields = [name.strip() for name in (cleaned.get("export_fields") or "").split(",") if name.strip()]
        parameters: dict[str, Any] = {
            "format": cleaned.get("export_format") or "csv",
            "fields": fields,
            "filter": chosen_filter,
        }
        try:
            check_export(site.get(collection), "-", format=parameters["format"], fields=fields, filter=chosen_filter)
        except ExportError as error:
            field = f"export_{error.option}" if error.option in ("format", "fields", "filter") else None
            self.add_error(field, str(error))
            return
        self._set(parameters, [collection])
