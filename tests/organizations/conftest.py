"""Fixtures for the organizations tests: users, two organizations with projects, and their tokens."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient

from cvewatch.organizations.models import Organization, Project
from cvewatch.organizations.services import organizations, projects, tokens
from tests.factories import ProductFactory, VendorFactory
from tests.support.people import PASSWORD, make_user


@dataclass
class Tenant:
    """One organization of the isolation matrix with its user, token and project."""

    org: Organization
    user: AbstractBaseUser
    project: Project
    token: str

    def user_client(self) -> APIClient:
        client = APIClient()
        client.login(username=self.user.get_username(), password=PASSWORD)
        return client

    def basic_client(self) -> APIClient:
        client = APIClient()
        raw = base64.b64encode(f"{self.user.get_username()}:{PASSWORD}".encode()).decode()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {raw}")
        return client

    def token_client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.token}")
        return client


def make_tenant(name: str, username: str, project: str, **subscriptions) -> Tenant:
    user = make_user(username)
    organization = organizations.create_organization(name=name, owner=user)
    proj = projects.create_project(organization=organization, name=project, actor=user, **subscriptions)
    _, token = tokens.create_token(organization=organization, name=f"{name}-ci", actor=user)
    return Tenant(org=organization, user=user, project=proj, token=token)


@pytest.fixture
def catalog(db):
    """apache (with log4j and airflow) and fortinet, for subscriptions."""
    apache = VendorFactory(name="apache")
    return {
        "apache": apache,
        "fortinet": VendorFactory(name="fortinet"),
        "log4j": ProductFactory(vendor=apache, name="log4j"),
        "airflow": ProductFactory(vendor=apache, name="airflow"),
    }
