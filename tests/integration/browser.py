"""Open a page in headless Chromium (Debian's `chromium`), return the DOM after its scripts ran and the
console messages; tests that need it skip with the reason when no browser is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As root on a closed network: no sandbox, no background connections, a throwaway profile.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")
CONSOLE = re.compile(r':CONSOLE[:(]\d+\)?\] "(?P<message>.*)", source: ')


@dataclass(frozen=True)
class RenderedPage:
    dom: str
    console: list[str]
    """Every console message the page logged (errors included)."""


def require_chromium() -> str:
    if CHROMIUM is None:
        pytest.skip("no Chromium here: install Debian's `chromium` package (`.ci/run` does, as root) "
                    "to run the dashboard's browser test")
    return CHROMIUM


def render(page: Path, screenshot: Path | None = None, size: str = "1280,2600") -> RenderedPage:
    browser = require_chromium()
    with tempfile.TemporaryDirectory() as profile:
        common = [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}"]
        result = subprocess.run([*common, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                                 "--dump-dom", page.resolve().as_uri()],
                                capture_output=True, text=True, timeout=120, check=True)
        if screenshot is not None:
            subprocess.run([*common, f"--screenshot={screenshot}", page.resolve().as_uri()],
                           capture_output=True, text=True, timeout=120, check=True)
    return RenderedPage(result.stdout, [m["message"] for m in CONSOLE.finditer(result.stderr)])
