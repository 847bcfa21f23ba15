"""Playwright (pytest-playwright) driving Debian's Chromium against a live server.

The browser is started per module, not per session as pytest-playwright does: its sync
API keeps an asyncio loop running in this thread, and Django refuses ORM calls while one
runs. So DJANGO_ALLOW_ASYNC_UNSAFE is set only while a module's browser is up (the ORM
calls of these tests are ordinary synchronous ones), and the loop is gone before the
next module. No browser is downloaded: /usr/bin/chromium is the `chromium` package
(.ci/run installs it)."""

import importlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_TIMEOUT_MS = 5_000  # per action or expectation: a stuck page fails in seconds
# Where screenshots go: docs/operators/ when CONSOLE_SCREENSHOTS=1 (to refresh the
# operators' guide), else the test's own temporary folder.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "operators"


@pytest.fixture(scope="module")
def _async_unsafe_allowed() -> Iterator[None]:
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="module")
def playwright(_async_unsafe_allowed: None):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=STEP_TIMEOUT_MS)
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def browser_context_args() -> dict:
    return {"viewport": {"width": 1366, "height": 900}}


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.set_default_navigation_timeout(STEP_TIMEOUT_MS * 2)
    return page


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    if os.environ.get("CONSOLE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path


def ensure_operators_group() -> Group:
    """The migration's Operators group: an earlier transactional test's flush empties the
    tables the migration filled (content types and permissions come back by themselves)."""
    migration = importlib.import_module("workspaces.migrations.0004_operators_group")
    group, _ = Group.objects.get_or_create(name=migration.GROUP)
    permissions = dict(migration.PERMISSIONS)
    for name in ("0002_operators_group", "0004_operators_add_campaign"):
        granted = importlib.import_module(f"campaigns.migrations.{name}").PERMISSIONS
        for model, actions in granted.items():
            permissions[("campaigns", model)] = (
                *permissions.get(("campaigns", model), ()),
                *actions,
            )
    wanted = Q(pk__in=[])
    for (label, model), actions in permissions.items():
        wanted |= Q(
            content_type__app_label=label,
            content_type__model=model,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    group.permissions.set(Permission.objects.filter(wanted))
    return group
