"""`{% once_token %}`: the hidden one-time token of a form that starts a job (see `jobs.once`)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from bulkadmin.jobs.once import FIELD, new_token

register = template.Library()


@register.simple_tag
def once_token() -> SafeString:
    """A hidden input with a fresh token: posting this form twice starts one job."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_token())
