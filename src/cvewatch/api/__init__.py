"""The shared HTTP base of every app's `api/` package (authentication, pagination, errors, base views).

It knows no app: each app's `api/` (views, serializers, urls) builds on it, and `cvewatch/urls.py` includes
their URL confs.
"""
