"""override_write(keep_pauses=True): a document that would lift a pause in force is refused inside the write's
own transaction (the chat's /override sends whole documents, unseen); without it the editor may lift one."""

from __future__ import annotations

import pytest

from agents.models import DeskOverride
from agents.overrides import OverrideLiftsPause, desk_override_current, override_write, pauses_lifted

pytestmark = pytest.mark.django_db


def test_it_refuses_to_lift_the_desk_pause_or_an_agents_and_writes_nothing(operator) -> None:
    override_write(text='{"pause": true, "pause_agents": ["alpha", "beta"]}', actor=operator)
    for text, lifted in (('{"pause_agents": ["alpha", "beta"]}', "the desk"),
                         ('{"pause": true, "pause_agents": ["beta"]}', "alpha"),
                         ("{}", "the desk, alpha, beta")):
        with pytest.raises(OverrideLiftsPause, match=f"it would lift the pause on {lifted}$"):
            override_write(text=text, actor=operator, keep_pauses=True)
    assert DeskOverride.objects.count() == 1
    override_write(text='{"pause": true, "pause_agents": ["alpha", "beta", "gamma"], "note": "more"}',
                   actor=operator, keep_pauses=True)  # adding a pause lifts nothing
    override_write(text="{}", actor=operator)  # the editor, which shows what it replaces, may lift them
    assert desk_override_current().pause is False and DeskOverride.objects.count() == 3


def test_it_names_what_a_document_would_unpause() -> None:
    from agents.overrides import override_parse

    current = override_parse('{"pause": true, "pause_agents": ["a", "b"]}')
    assert pauses_lifted(current, override_parse('{"pause_agents": ["b", "c"]}')) == ["the desk", "a"]
    assert pauses_lifted(current, current) == []
