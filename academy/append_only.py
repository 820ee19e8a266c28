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

    # With Meta.base_manager_name = "objects", instance.save() of an existing row and
    # instance.delete() come through these: refuse them too.
    def _update(self, values: Any) -> NoReturn:
        raise AppendOnlyError(f"{self.model.__name__} is append-only: saving a changed row refused")

    def _raw_delete(self, using: Any) -> NoReturn:
        raise AppendOnlyError(f"{self.model.__name__} is append-only: delete() refused")


AppendOnlyManager = models.Manager.from_queryset(AppendOnlyQuerySet)


class AppendOnlyModel(models.Model):
    """Base for append-only records: Model.delete() skips the queryset for a single row, so refuse it here."""

    class Meta:
        abstract = True

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(f"{type(self).__name__} is append-only: delete() refused")
