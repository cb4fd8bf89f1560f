"""What a Docker build context holds after its .dockerignore, following Docker's rules (no engine needed).

Docker (moby's patternmatcher) matches each path relative to the context root
against every pattern in order; the last pattern that matches the path or one
of its parent folders decides, and a pattern starting with `!` lets the path
back in. `*` and `?` stop at `/`, `**` crosses folders. BuildKit reads
`<Dockerfile>.dockerignore` next to a Dockerfile in place of the root file.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

from include.contracts.paths import PROJECT_ROOT


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            parts.append("[^/]")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts) + r"\Z")


def read_patterns(ignore_file: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """(negated, regex) per pattern line, comments and blanks skipped, paths cleaned as Docker cleans them."""
    patterns = []
    for line in ignore_file.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:].strip() if negated else line
        pattern = pattern.strip("/") if pattern not in ("/", "") else pattern
        patterns.append((negated, _pattern_regex(pattern)))
    return patterns


def is_excluded(path: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parents = path.split("/")
    candidates = ["/".join(parents[: index + 1]) for index in range(len(parents))]
    excluded = False
    for negated, regex in patterns:
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


@cache
def tracked_files() -> tuple[str, ...]:
    """The repository's files (git's view: what a fresh clone holds)."""
    listing = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return tuple(line for line in listing.stdout.splitlines() if (PROJECT_ROOT / line).is_file())


def context_files(ignore_file: Path, candidates: tuple[str, ...] | None = None) -> list[str]:
    """The files of a clone (or `candidates`) that reach the build context through `ignore_file`."""
    patterns = read_patterns(ignore_file)
    return sorted(path for path in (candidates or tracked_files()) if not is_excluded(path, patterns))
