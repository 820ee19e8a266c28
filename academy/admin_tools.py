"""Admin building blocks shared by every app: large-table pagination, read-only bases, JSON display."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.html import format_html


class CappedCountPaginator(Paginator):
    """Count at most CAP rows, so a changelist over millions of rows never runs a full COUNT(*).

    The count is a COUNT over a LIMIT subquery: its cost is bounded by CAP whatever the
    table size. The pagination template says "more than" when the cap is reached.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        return self.object_list[: self.cap + 1].count()


class ReadOnlyAdmin(admin.ModelAdmin):
    """For append-only records: staff can browse but nobody edits or deletes through the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LargeTableAdmin(ReadOnlyAdmin):
    """Read-only admin for tables that grow to millions of rows."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50


def pretty_json(value: Any) -> str:
    """Render a JSON value as an indented, escaped block."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre style="white-space:pre-wrap;max-width:100ch">{}</pre>', text)
