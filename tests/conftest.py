"""The fixed cast every test can use: an operator, an approver, and a user with no access."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission


def _user(django_user_model, username: str, *, staff: bool = False, perms: tuple[str, ...] = ()):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username, is_staff=staff)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def operator(django_user_model):
    """Staff with the kill switch and every view permission: the person on call."""
    return django_user_model.objects.create_superuser(username="operator", password="pw-operator")


@pytest.fixture
def approver(django_user_model):
    """Can approve trades, cannot touch the kill switch."""
    return _user(django_user_model, "approver", perms=("approve_trade",))


@pytest.fixture
def nobody(django_user_model):
    """Logged in, no permissions, not staff."""
    return _user(django_user_model, "nobody")
