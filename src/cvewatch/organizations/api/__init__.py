"""The organizations' endpoints (organizations, projects, a project's CVEs) and token authentication."""
