"""The catalog's endpoints: CVEs, vendors, products and weaknesses (views, serializers, urls)."""
