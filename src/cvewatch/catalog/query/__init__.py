"""The advanced search language (docs/query.md): `parser` (pure) reads a query, `compiler` makes it a filter."""
