import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from agents.models import Agent
from channels.services import _DEFAULTS as sender_defaults
from tests.factories import AgentFactory, ApiKeyFactory, WorkspaceFactory
from tests.fakes.anthropic import fake_anthropic  # noqa: F401 - a fixture
from tests.fakes.twilio import fake_twilio  # noqa: F401 - a fixture
from workspaces.models import ApiKey, Workspace


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs on PostgreSQL: set DATABASE_URL to a PostgreSQL database.")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A PostgreSQL test database of this run's own, so two test runs on one machine (a
    developer's and CI's, or two checkouts) never drop each other's database."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        db.setdefault("TEST", {})["NAME"] = f"test_{db['NAME']}_{os.getpid()}"


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Rate-limit counters live in the cache (Redis in CI), shared across tests.
    cache.clear()
    sender_defaults.clear()


@dataclass
class Tenant:
    workspace: Workspace
    api_key: ApiKey
    client: APIClient

    @property
    def key(self) -> str:
        return self.api_key.raw_key


def _tenant(scopes: str = ApiKey.Scopes.READ_WRITE) -> Tenant:
    api_key = ApiKeyFactory(scopes=scopes)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}",
        HTTP_X_WORKSPACE_ID=str(api_key.workspace_id),
    )
    return Tenant(workspace=api_key.workspace, api_key=api_key, client=client)


@pytest.fixture
def owner(db: None) -> Tenant:
    """The workspace under test, with a read+write key and an authenticated client."""
    return _tenant()


@pytest.fixture
def outsider(db: None) -> Tenant:
    """Another workspace, whose key must never reach the owner's data."""
    return _tenant()


@pytest.fixture
def workspace(owner: Tenant) -> Workspace:
    return owner.workspace


@pytest.fixture
def api_client(owner: Tenant) -> APIClient:
    return owner.client


@pytest.fixture
def agent(workspace: Workspace) -> Agent:
    return AgentFactory(workspace=workspace)


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Tasks run inline when enqueued (after commit), as a worker would run them."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


@pytest.fixture
def read_only(owner: Tenant) -> Tenant:
    api_key = ApiKeyFactory(workspace=owner.workspace, scopes=ApiKey.Scopes.READ)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}",
        HTTP_X_WORKSPACE_ID=str(owner.workspace.pk),
    )
    return Tenant(workspace=owner.workspace, api_key=api_key, client=client)


__all__ = ["Tenant", "WorkspaceFactory"]
