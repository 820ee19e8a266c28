"""The agents tests' shared fixtures."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission


@pytest.fixture
def reader_client(client, django_user_model):
    """Logged in with view_run only: the staff member reading a run."""
    user = django_user_model.objects.create_user("reader", password="pw-reader")
    user.user_permissions.add(Permission.objects.get(codename="view_run"))
    client.force_login(user)
    return client
