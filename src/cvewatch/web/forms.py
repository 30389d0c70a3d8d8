"""Web forms: they validate the shape of the input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from cvewatch.organizations.choices import Role

CVSS_CHOICES = [
    ("", "Any CVSS v3.1"),
    ("critical", "Critical (9.0–10)"),
    ("high", "High (7.0–8.9)"),
    ("medium", "Medium (4.0–6.9)"),
    ("low", "Low (0–3.9)"),
    ("empty", "No CVSS v3.1 score"),
]


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Used for password resets and invitations.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account already uses this email address.")
        return email


class CveFilterForm(forms.Form):
    """The /api/cve filters, as a GET form that shows them; catalog.filters.CveFilter reads the query."""

    search = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "CVE id, words of the description, vendor or product"}
        ),
    )
    vendor = forms.CharField(
        required=False, max_length=255, widget=forms.TextInput(attrs={"placeholder": "e.g. apache"})
    )
    product = forms.CharField(
        required=False, max_length=255, widget=forms.TextInput(attrs={"placeholder": "e.g. log4j"})
    )
    cvss = forms.ChoiceField(required=False, choices=CVSS_CHOICES, label="CVSS")
    weakness = forms.CharField(
        required=False, max_length=32, widget=forms.TextInput(attrs={"placeholder": "CWE-79"})
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=64, help_text="Letters, digits and '-'. Used in URLs and the API.")


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “SIEM export”.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    expires = forms.DateField(
        required=False,
        label="Expires after",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The token works through this day (UTC), then stops.",
    )


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=64, help_text="Letters, digits and '-'; unique in the organization.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ProjectEditForm(ProjectForm):
    active = forms.BooleanField(required=False, help_text="Inactive projects keep their subscriptions.")
