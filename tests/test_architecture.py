"""The architecture holds: import contracts (import-linter, configured in pyproject.toml) and libraries that
install and import without any server package."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SERVER_PACKAGES = (
    "uvicorn",
    "gunicorn",
    "werkzeug",
    "click",
    "starlette",
    "fastapi",
    "flask",
    "django",
    "pythonjsonlogger",
    "argon2",
    "platformdirs",
    "waitress",
    "photoservice",
)


def test_import_contracts_are_kept() -> None:
    """No import cycles; fastmime imports neither imgpipe nor photoservice; photoservice's layers one way."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_importing_the_libraries_loads_no_server_package() -> None:
    code = (
        "import sys, fastmime, fastmime.asgi, fastmime.wsgi, fastmime.http, imgpipe; "
        f"print(sorted(m for m in {SERVER_PACKAGES!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip() == "[]"


def test_a_plain_install_has_the_libraries_and_no_server_package(tmp_path: Path) -> None:
    """``pip install .`` without extras into a fresh environment: fastmime and imgpipe import and work, and
    no server package is installed or imported."""
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)  # this environment's pip installs into it (--python)
    python = str(env_dir / "bin" / "python")
    env = {**os.environ, "FASTMIME_PURE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("FASTMIME_REQUIRE_EXTENSION", None)
    # The wheel `pip install .` builds, made with this environment's build tools (no isolated build
    # environment to set up: that part is what scripts/test.sh's own install exercises), then installed
    # like any wheel: with the dependencies it declares and nothing else.
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = dist.glob("*.whl")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", str(wheel)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    code = (
        "import sys, importlib.metadata as md, fastmime, imgpipe, fastmime.asgi, fastmime.wsgi; "
        "imgpipe.ImageHandler; fastmime.MultipartParser; "
        "installed = sorted(d.metadata['Name'].lower() for d in md.distributions()); "
        f"print(installed); print(sorted(m for m in {SERVER_PACKAGES!r} if m in sys.modules))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    installed, imported = out.stdout.strip().splitlines()
    assert imported == "[]"
    for server in ("uvicorn", "werkzeug", "click", "argon2-cffi", "python-json-logger", "gunicorn"):
        assert f"'{server}'" not in installed, installed
