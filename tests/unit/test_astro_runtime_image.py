"""The Astro image is built FROM a runtime that exists, and requirements.txt never moves what it bundles.

The runtime's own registry cannot be reached here, so the image reference is checked against
the astro-cli's constants (recorded in tools/astro_runtime.json), and the requirements against the
installed packages' own metadata: every `Requires-Dist` of what we install must accept the
runtime's bundled versions, so pip (or uv) has no reason to upgrade or downgrade them.
"""

from __future__ import annotations

import json
import re
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from include.contracts.paths import PROJECT_ROOT

pytestmark = pytest.mark.unit

RUNTIME = json.loads((PROJECT_ROOT / "tools" / "astro_runtime.json").read_text())
BUNDLED = {canonicalize_name(name): version for name, version in RUNTIME["bundled"].items()}


def _pins(text: str) -> dict[str, str]:
    return {canonicalize_name(name): version
            for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", text, re.MULTILINE)}


def test_the_dockerfile_builds_from_the_airflow_3_runtime_registry() -> None:
    # astro-cli airflow/constants.go: AstroImageRegistryBaseImageName + AstroRuntimeAirflow3ImageName.
    assert RUNTIME["image"] == "astrocrpublic.azurecr.io/runtime"
    froms = re.findall(r"^FROM\s+(\S+)", (PROJECT_ROOT / "Dockerfile").read_text(), re.MULTILINE)
    expected = f"{RUNTIME['image']}:{RUNTIME['runtime_version']}-python-{RUNTIME['python_version']}"
    assert froms == [expected]
    # Airflow 3 runtimes are versioned <airflow major.minor>-<patch>; the bundled Airflow must match it.
    assert BUNDLED["apache-airflow"].startswith(RUNTIME["runtime_version"].split("-")[0] + ".")


def test_the_lock_pins_airflow_and_the_bundled_providers_at_the_runtimes_versions() -> None:
    locked = _pins((PROJECT_ROOT / "requirements.lock").read_text())
    wrong = {name: (locked[name], version) for name, version in BUNDLED.items()
             if name in locked and locked[name] != version}
    assert wrong == {}, "lock vs runtime (run `make lock`)"
    assert locked["apache-airflow"] == BUNDLED["apache-airflow"]


def test_requirements_txt_leaves_the_bundled_packages_to_the_runtime_and_pins_every_other_provider() -> None:
    shipped = _pins((PROJECT_ROOT / "requirements.txt").read_text())
    assert not set(shipped) & set(BUNDLED)
    locked = _pins((PROJECT_ROOT / "requirements.lock").read_text())
    providers = {name for name in locked if name.startswith("apache-airflow-providers-")} - set(BUNDLED)
    assert providers <= set(shipped), "a provider our providers pull in is unpinned in requirements.txt"


def test_everything_requirements_txt_installs_accepts_the_runtimes_bundled_versions() -> None:
    shipped = _pins((PROJECT_ROOT / "requirements.txt").read_text())
    conflicts = []
    for name in shipped:
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            bundled = BUNDLED.get(canonicalize_name(requirement.name))
            if bundled is None or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
                continue
            if not requirement.specifier.contains(bundled, prereleases=True):
                conflicts.append(f"{name} requires {requirement}, the runtime bundles {bundled}")
    assert conflicts == []
