"""What every test package shares: people (one password, the fast hasher), engine marks, a real SMTP server.

Plain helpers live here; the fixtures built on them are in tests/conftest.py.
"""
