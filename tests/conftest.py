"""Session harness: the real embedded services, started once, stopped at the end.

Tests run against their own services (free ports, `.local/pytest/`), never
against the developer's `make up` ones, and every process they start is stopped
at session end, failures included. The session's settings are put into
`os.environ`, so code under test and the CLIs it spawns read them exactly as
they read `make env` in real use.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from dev.dbt_cli import TARGET_PATH_VARIABLE
from dev.embedded.layout import PORT_VARIABLES, EmbeddedLayout
from dev.embedded.services import start_all, stop_all
from include.contracts.paths import PROJECT_ROOT

# Fixtures for the stream tests (seeded OLTP, a private topic and bucket per test).
pytest_plugins = ["tests.integration.stream_fixtures"]

MARKERS = ("unit", "integration", "e2e")
TEST_LOCAL_DIR = PROJECT_ROOT / ".local" / "pytest"


def session_dir() -> Path:
    """This session's services and files: `.local/pytest` (HRS_TEST_LOCAL_DIR overrides it, so two sessions
    can run side by side), one subfolder per pytest-xdist worker."""
    base = Path(os.environ.get("HRS_TEST_LOCAL_DIR") or TEST_LOCAL_DIR)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return base / worker if worker else base


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test says what it needs: unit, integration or e2e. The slow end-to-end modules come first: `make
    test`'s parallel sessions take whole modules in this order (`--dist loadscope --no-loadscope-reorder`), so
    the longest ones start at once instead of last, when one session would run them while the other waits."""
    unmarked = [item.nodeid for item in items if not any(item.get_closest_marker(m) for m in MARKERS)]
    if unmarked:
        raise pytest.UsageError(f"tests without a unit/integration/e2e marker: {unmarked}")
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)  # stable: modules stay whole, in order


@pytest.fixture(scope="session")
def embedded() -> Iterator[EmbeddedLayout]:
    """The running embedded services for this test session."""
    folder = session_dir()
    env = {
        "HRS_LOCAL_DIR": str(folder),
        # dbt runs of this session write their target/ and logs here, never over dbt/target (the DAG's manifest)
        TARGET_PATH_VARIABLE: str(folder / "dbt-target"),
        "DBT_LOG_PATH": str(folder / "dbt-logs"),
        **{variable: str(free_port()) for variable in PORT_VARIABLES.values()},
    }
    layout = EmbeddedLayout.from_env(env)
    # A previous session killed hard may have left services behind: stop them first.
    stop_all(layout, say=lambda _: None)
    shutil.rmtree(folder, ignore_errors=True)
    patcher = pytest.MonkeyPatch()
    for key, value in {**env, **layout.environment()}.items():
        patcher.setenv(key, value)
    try:
        start_all(layout)
        yield layout
    finally:
        stop_all(layout)
        patcher.undo()
