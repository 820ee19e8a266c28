"""The decision form: parsed strictly; a bad post becomes a clear message, never a half-made decision."""

from __future__ import annotations

from django import forms

from approvals.models import Decision
from approvals.services import NOTE_MAX


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices)
    note = forms.CharField(required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2}))
