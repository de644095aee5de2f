"""What a release carries: one version everywhere, the licence pyproject declares, the changelog, the metadata."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import fastmime
import imgpipe

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]
BIN = Path(sys.executable).parent


def test_every_package_reports_the_one_version() -> None:
    import photoservice

    assert importlib.metadata.version("fastmime") == VERSION, "the installed metadata is stale: reinstall"
    assert fastmime.__version__ == imgpipe.__version__ == photoservice.__version__ == VERSION


def test_the_version_is_written_only_in_pyproject() -> None:
    written = [
        str(path.relative_to(ROOT))
        for package in ("fastmime", "imgpipe", "photoservice")
        for path in (ROOT / package).rglob("*.py")
        if re.search(r"^__version__\s*=", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    ]
    assert written == []


def test_every_console_script_reports_the_version() -> None:
    for command, name in (
        ([str(BIN / "imgpipe")], "imgpipe"),
        ([str(BIN / "photoservice")], "photoservice"),
        ([sys.executable, "-m", "imgpipe"], "imgpipe"),
        ([sys.executable, "-m", "photoservice"], "photoservice"),
    ):
        result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stdout.strip()) == (0, f"{name} {VERSION}"), result.stderr


def test_the_changelog_starts_with_this_version() -> None:
    versions = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert versions and versions[0] == VERSION
    for section in ("### Added", "### Changed", "### Fixed"):
        assert section in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_the_licence_is_the_one_declared() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    assert "LICENSE" in PYPROJECT["project"]["license-files"]


def test_metadata_says_typed_and_the_readme_names_every_extra() -> None:
    assert "Typing :: Typed" in PYPROJECT["project"]["classifiers"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install = readme[readme.index("<!-- --8<-- [start:install] -->") : readme.index("<!-- --8<-- [end:install] -->")]
    for extra in PYPROJECT["project"]["optional-dependencies"]:
        assert f"| `{extra}` |" in install, f"README's install section does not say what the {extra} extra brings"
    for way in ("pip install fastmime-", ".whl", ".tar.gz", "pip install .", "[service]"):
        assert way in install


def test_pre_commit_runs_the_ruff_the_lint_extra_pins() -> None:
    pinned = [spec for spec in PYPROJECT["project"]["optional-dependencies"]["lint"] if spec.startswith("ruff==")]
    config = (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert len(pinned) == 1 and config.count(f'"{pinned[0]}"') == 2
