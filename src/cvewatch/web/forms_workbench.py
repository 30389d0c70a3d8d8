"""Forms of the workbench pages (tags, triage, saved views): shape only; the services decide the rest."""

from __future__ import annotations

from django import forms

from cvewatch.web.form_rendering import FAST_RENDERER
from cvewatch.workbench.models import TriageStatus


class TagForm(forms.Form):
    name = forms.CharField(max_length=64, help_text="Letters, digits, '-' and '_'; e.g. patch-this-week.")
    color = forms.CharField(
        label="Colour", initial="#3b5bdb", max_length=7, widget=forms.TextInput(attrs={"type": "color"})
    )
    description = forms.CharField(
        required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}), help_text="Optional."
    )


class TriageForm(forms.Form):
    status = forms.ChoiceField(choices=TriageStatus.choices)
    assignee = forms.CharField(required=False, max_length=150)  # a member's username; empty: nobody


class SavedViewForm(forms.Form):
    default_renderer = FAST_RENDERER  # the CVE list's saved-views box shows it on every page

    name = forms.CharField(
        max_length=64,
        label="View name",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Critical Apache"}),
    )
    shared = forms.BooleanField(required=False, label="Share with the organization")
    query = forms.CharField(max_length=2000, widget=forms.HiddenInput)


class RenameViewForm(forms.Form):
    name = forms.CharField(max_length=64, label="New name")
    shared = forms.BooleanField(required=False, label="Shared with the organization")


TRIAGE_FILTER_CHOICES = [("", "Any status"), *TriageStatus.choices]
