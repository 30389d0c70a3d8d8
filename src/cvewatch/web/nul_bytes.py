"""One place that refuses NUL characters in what a request carries, before any view, lookup or login.

PostgreSQL cannot store or compare a text value holding U+0000 (psycopg raises, the request was a 500) and
SQLite compares it differently (`search=%00` matched every CVE), so a NUL never reaches a query:

- in the path: 404, as for any path that does not exist (the API's JSON `{"detail": "Not found."}`, the
  web's 404 page);
- in a query parameter or a form field (name or value): 400 (`{"detail": "Null characters are not
  allowed."}` on the API, Django's 400 page on the web), the message Django's and DRF's own field
  validators give;
- in a cookie: the cookie is dropped, so a session or CSRF cookie with a NUL is simply no session.

Credentials in the `Authorization` header are checked by the authentication classes (a NUL in a Basic
username or password is a 401 "Invalid username/password."), since only they decode them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.views import defaults

NUL = "\x00"
NUL_MESSAGE = "Null characters are not allowed."
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _holds_nul(params: QueryDict) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in params.lists())


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class RefuseNulBytesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # request.path (not path_info) is what the API prefix is tested on; both are percent-decoded.
        api = _is_api(request.path_info.replace(NUL, ""))
        if NUL in request.path or NUL in request.path_info:
            if api:
                return JsonResponse({"detail": "Not found."}, status=404)
            return defaults.page_not_found(request, Exception("NUL in the path"))
        if _holds_nul(request.GET) or (
            request.method == "POST" and request.content_type in _FORM_TYPES and _holds_nul(request.POST)
        ):
            if api:
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            return defaults.bad_request(request, Exception(NUL_MESSAGE))
        for name in [name for name, value in request.COOKIES.items() if NUL in name or NUL in value]:
            del request.COOKIES[name]
        return self.get_response(request)
