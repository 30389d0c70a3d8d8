"""Organization API token authentication (placeholder until the organizations app lands)."""

from rest_framework.authentication import BaseAuthentication


class OrganizationTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return None
