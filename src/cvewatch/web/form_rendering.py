"""A form renderer that writes Django's stock input, select and label templates in Python, byte for byte.

Django renders every widget and label through its template (an input includes attrs.html, each option of a
select is one more include): a CVE list's filter form paid several ms of template work per page for a few
inputs. `FastRenderer` writes the same text for the templates it knows, as long as every value is a
plain string (or an int where the template formats it with stringformat), and hands anything else to the
stock templates. Its engine reads django/forms/templates before any app's, so these are the templates in
use; tests/web/test_form_rendering.py compares both renderings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape

_OPTION = "django/forms/widgets/select_option.html"


class _Unknown(Exception):
    """A value the Python rendering does not cover: render through the template instead."""


def _text(value: Any) -> str:
    """`{{ value }}` of a string in an autoescaping template."""
    if not isinstance(value, str):
        raise _Unknown
    return conditional_escape(value)


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: a string (kept safe if it was) or an int, escaped."""
    if isinstance(value, str):
        return conditional_escape(value)
    if type(value) is int:
        return str(value)
    raise _Unknown


def _attrs(attrs: Mapping[str, Any] | None) -> str:
    """django/forms/widgets/attrs.html and django/forms/attrs.html."""
    parts = []
    for name, value in (attrs or {}).items():
        if value is False:
            continue
        parts.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"')
    return "".join(parts)


def _input(context: Mapping[str, Any]) -> str:
    """django/forms/widgets/input.html."""
    widget = context["widget"]
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'


def _select(context: Mapping[str, Any]) -> str:
    """django/forms/widgets/select.html, each option through select_option.html."""
    widget = context["widget"]
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            if option["template_name"] != _OPTION:
                raise _Unknown
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _label(context: Mapping[str, Any]) -> str:
    """django/forms/label.html."""
    if not context["use_tag"]:
        return _text(context["label"])
    tag = _text(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{_text(context['label'])}</{tag}>"


# Each of these stock templates is one include of input.html.
_INPUTS = ("text", "search", "hidden", "checkbox", "password", "email", "number", "url")
_WRITERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    **{f"django/forms/widgets/{name}.html": _input for name in _INPUTS},
    "django/forms/widgets/select.html": _select,
    "django/forms/label.html": _label,
}


class FastRenderer(DjangoTemplates):
    """Django's default form renderer, with the input, select and label templates written in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        writer = _WRITERS.get(template_name)
        if writer is not None and request is None:
            try:
                return writer(context).strip()
            except _Unknown:
                pass
        return super().render(template_name, context, request=request)


FAST_RENDERER = FastRenderer()
