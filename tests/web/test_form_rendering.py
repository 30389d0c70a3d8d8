"""web.form_rendering.FastRenderer writes exactly what Django's stock widget and label templates write."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from cvewatch.web.form_rendering import FAST_RENDERER
from cvewatch.web.forms import CveFilterForm, QuerySubscriptionForm
from cvewatch.web.forms_workbench import SavedViewForm

STOCK = DjangoTemplates()
AWKWARD = ["<b>\"x'&amp;", "", " spaced ", "café ✓", "a" * 300]


class Everything(forms.Form):
    text = forms.CharField(max_length=5, widget=forms.TextInput(attrs={"placeholder": 'say "hi" & <go>'}))
    search = forms.CharField(required=False, widget=forms.SearchInput(attrs={"data-n": 3, "autofocus": True}))
    off = forms.CharField(required=False, widget=forms.TextInput(attrs={"disabled": False, "class": "a b"}))
    choice = forms.ChoiceField(choices=[("", "Any"), ("a&b", "A <and> B"), (3, "three")], label="Pick one?")
    grouped = forms.ChoiceField(
        required=False, choices=[("Fruit", [("apple", "Apple"), ("pear", "Pear")]), ("x", "Other")]
    )
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    check = forms.BooleanField(required=False)
    email = forms.EmailField(required=False)
    number = forms.IntegerField(required=False, initial=5, min_value=1)
    password = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    url = forms.URLField(required=False, assume_scheme="https")
    safe = forms.CharField(label=mark_safe("<em>Safe</em> label"), help_text="help")


def both(form_class, data, **kwargs) -> list[tuple[str, str]]:
    """Each field's widget and label tag, with the fast renderer and with Django's."""
    pairs = []
    for renderer in (FAST_RENDERER, STOCK):
        form = form_class(data, renderer=renderer, **kwargs)
        form.is_valid()
        pairs.append([(str(field), field.label_tag()) for field in form] + [(str(form), "")])
    return list(zip(*pairs, strict=True))


@pytest.mark.parametrize("value", AWKWARD)
@pytest.mark.parametrize("form_class", [Everything, CveFilterForm, QuerySubscriptionForm, SavedViewForm])
def test_fast_rendering_is_the_templates_rendering(form_class, value):
    data = {name: value for name in form_class.base_fields} | {"choice": "a&b", "grouped": "pear"}
    data |= {"check": "on", "number": "7"} if value else {"number": value}
    for fast, stock in both(form_class, data):
        assert fast == stock
    for fast, stock in both(form_class, None):  # unbound: initial values, no errors
        assert fast == stock
    for fast, stock in both(form_class, None, auto_id=False):  # no ids: labels without a tag
        assert fast == stock


def test_the_cve_list_forms_use_it():
    assert CveFilterForm().renderer is FAST_RENDERER
    assert QuerySubscriptionForm().renderer is FAST_RENDERER
    assert SavedViewForm().renderer is FAST_RENDERER


def test_it_writes_inputs_selects_and_labels_without_their_templates(monkeypatch):
    def no_template(self, template_name):
        raise AssertionError(f"{template_name} was loaded")

    monkeypatch.setattr(DjangoTemplates, "get_template", no_template)
    form = CveFilterForm({"search": "x", "cvss": "high"})
    assert 'value="high" selected' in str(form["cvss"])
    assert str(form["search"]).startswith('<input type="search" name="search" value="x"')
    assert form["cvss"].label_tag() == '<label for="id_cvss">CVSS</label>'
