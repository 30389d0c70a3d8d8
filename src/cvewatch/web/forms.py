"""Web forms: they validate the shape of the input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import UserCreationForm, UsernameField

from cvewatch.organizations.choices import Role
from cvewatch.web.form_rendering import FAST_RENDERER

CVSS_CHOICES = [
    ("", "Any CVSS v3.1"),
    ("critical", "Critical (9.0–10)"),
    ("high", "High (7.0–8.9)"),
    ("medium", "Medium (4.0–6.9)"),
    ("low", "Low (0–3.9)"),
    ("empty", "No CVSS v3.1 score"),
]


class SignupForm(UserCreationForm):
    # No check that the address is free here: the answer must not tell whether it has an account
    # (services.accounts.sign_up mails the address either way).
    email = forms.EmailField(required=True, help_text="We mail you a link to confirm it.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class InvitedAccountForm(forms.Form):
    """The account an invitation creates: the address is the invited one; a username and a password."""

    username = UsernameField(max_length=150)
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password (again)", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        elif data.get("password1"):
            candidate = get_user_model()(username=data.get("username", ""), email=self.email)
            try:
                password_validation.validate_password(data["password1"], candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class CveFilterForm(forms.Form):
    """The /api/cve filters, as a GET form that shows them; catalog.filters.CveFilter reads the query."""

    default_renderer = FAST_RENDERER  # every CVE list page shows this form

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # "Search", not "Search:", like every other label of the pages
        super().__init__(*args, **kwargs)

    q = forms.CharField(
        required=False,
        max_length=1000,
        label="Query",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "e.g. vendor:microsoft AND cvss31>=8 AND created<=7d",
                "autocomplete": "off",
                "spellcheck": "false",
                "aria-describedby": "query-help",
            }
        ),
    )

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


class QuerySubscriptionForm(forms.Form):
    """A project's subscription to a query of the search language (workbench.services.query_subscriptions)."""

    default_renderer = FAST_RENDERER  # every project page shows this form

    query = forms.CharField(
        max_length=1000,
        widget=forms.TextInput(
            attrs={"placeholder": 'e.g. description:"log4j" or vendor:acme AND cvss31>=7', "spellcheck": "false"}
        ),
        help_text="Alerts and the CVE list below include every CVE it matches.",
    )
    name = forms.CharField(max_length=64, required=False, help_text="Optional: how alerts name it.")
