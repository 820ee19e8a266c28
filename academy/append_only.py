"""A manager for append-only records: rows are created, never updated or deleted through the ORM."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class AppendOnlyError(RuntimeError):
    """Raised when code tries to rewrite history."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(f"{self.model.__name__} is append-only: update() refused")

    def delete(self) -> NoReturn:
        raise AppendOnlyError(f"{self.model.__name__} is append-only: delete() refused")


AppendOnlyManager = models.Manager.from_queryset(AppendOnlyQuerySet)
