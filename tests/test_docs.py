"""The documentation users have: docstrings and comments point into the repo, never outside.

Docstrings cite docs/reference.md by section ("see docs/reference.md, Coordinates"), and
every file they, the README or the reference name exists.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"


def texts(*folders: str, suffixes: tuple[str, ...] = (".py", ".yaml")) -> dict[str, str]:
    """``{relative path: text}`` of the source files under ``folders``."""
    found = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in suffixes and "__pycache__" not in path.parts:
                found[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return found


def reference_sections() -> set[str]:
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    return {line.lstrip("#").strip() for line in lines if re.match(r"#{2,3} ", line)}


def test_nothing_cites_the_internal_specification():
    citing = [
        f"{path}:{number}"
        for path, text in texts("niprep", "conf", "tests", "benchmarks").items()
        for number, line in enumerate(text.splitlines(), start=1)
        if re.search(r"\bSPEC\b", line)
    ]
    assert citing == []


def test_every_pointer_into_the_reference_names_one_of_its_sections():
    sections = reference_sections()
    assert {"Coordinates", "Padding offset", "Annotation CSVs", "Options"} <= sections
    pointers = {
        (path, " ".join(match.split()))
        for path, text in texts("niprep", "tests", "benchmarks").items()
        for match in re.findall(r"docs/reference\.md, ([A-Z][\w ]*\w)", " ".join(text.split()))
    }
    assert len(pointers) >= 8
    assert [pointer for pointer in pointers if pointer[1] not in sections] == []


def test_every_repository_path_named_in_the_docs_exists():
    documents = texts("niprep", "tests", "benchmarks", "conf")
    documents.update({name: (ROOT / name).read_text(encoding="utf-8")
                      for name in ("README.md", "docs/reference.md")})
    pattern = r"(?<![\w./])(?:niprep|tests|benchmarks|docs|conf|examples|notebooks)/[\w/.-]*\w"
    named = {(path, name) for path, text in documents.items() if path != "tests/test_docs.py"
             for name in re.findall(pattern, text)}
    assert len(named) >= 10
    assert [(path, name) for path, name in sorted(named) if not (ROOT / name).exists()] == []


def test_every_declared_option_has_a_row_in_the_reference():
    from niprep.options import ENTRY_POINTS

    rows = [line for line in REFERENCE.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ")]
    declared = {name for entry in ENTRY_POINTS.values() for name in entry.options}
    missing = sorted(name for name in declared
                     if not any(f"| `{name}` |" in row for row in rows))
    assert missing == []
