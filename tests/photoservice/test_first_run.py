"""The first run as a new user meets it: ``scripts/serve.sh`` and ``photoservice serve --demo``.

Once the service answers, one plain line on stdout says where it is, how to sign in and where the data
is; ``--help`` creates nothing; a start with an installed ``.venv`` installs nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(
    r"^photoservice is up at (http://127\.0\.0\.1:(\d+)/)(?:; (sign in as demo, password demo))?; "
    r"data folder (.+) \(Ctrl\+C stops it\)$"
)


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT), env={**os.environ, **env}
    )


def ready_line(proc: subprocess.Popen[str]) -> re.Match[str]:
    """The first stdout line (the ready line), or the process's stderr in the failure message."""
    assert proc.stdout is not None
    line = proc.stdout.readline().rstrip("\n")
    match = READY.match(line)
    if match is None:
        proc.kill()
        _, err = proc.communicate(timeout=20)
        pytest.fail(f"no ready line: {line!r}\n{err[-3000:]}")
    return match


@pytest.fixture()
def stop() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        proc.terminate()
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def test_serve_demo_prints_one_ready_line(tmp_path: Path, stop: list[subprocess.Popen[str]]) -> None:
    data = tmp_path / "data"
    for _attempt in range(2):  # the second start finds the demo account and says the same
        proc = start([sys.executable, "-m", "photoservice", "serve", "--demo", "--port", "0", "--data", str(data)], {})
        stop.append(proc)
        match = ready_line(proc)
        url, _, demo, folder = match.groups()
        assert demo == "sign in as demo, password demo" and Path(folder) == data.resolve()
        assert httpx.get(url + "health", timeout=10).json()["status"] == "ok"  # up when the line says so
        page = httpx.get(url, timeout=10).text
        appid = re.search(r'name="photoservice-appid" content="([0-9a-f]+)"', page).group(1)
        login = httpx.post(
            url + "V3.0/login",
            data={"appid": appid, "username": "demo", "password": "demo", "output": "json"},
            timeout=10,
        )
        assert login.status_code == 200 and json.loads(login.content)["LoginResponse"]["User"] == "demo"
        proc.terminate()
        proc.communicate(timeout=20)
    # without --demo no account is mentioned (nor created)
    proc = start([sys.executable, "-m", "photoservice", "serve", "--port", "0", "--data", str(tmp_path / "other")], {})
    stop.append(proc)
    assert ready_line(proc).group(3) is None


def _installed_by_the_scripts() -> bool:
    stamp = ROOT / ".venv" / ".photoservice-installed"
    if not stamp.exists():
        return False
    wanted = subprocess.run(
        "cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1",
        shell=True,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
    ).stdout.strip()
    return stamp.read_text().strip() == wanted


@pytest.mark.skipif(
    not _installed_by_the_scripts(),
    reason=".venv was not installed by scripts/test.sh or scripts/serve.sh for this pyproject.toml",
)
def test_serve_sh_starts_without_installing_and_help_creates_nothing(
    tmp_path: Path, stop: list[subprocess.Popen[str]]
) -> None:
    data = tmp_path / "data"
    helped = subprocess.run(
        ["bash", "scripts/serve.sh", "--help"],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PHOTOSERVICE_DATA": str(data)},
    )
    assert helped.returncode == 0 and "--demo" in helped.stdout and "installing" not in helped.stdout
    assert not data.exists()  # --help created nothing

    proc = start(["bash", "scripts/serve.sh", "--port", "0"], {"PHOTOSERVICE_DATA": str(data)})
    stop.append(proc)
    url, _, demo, folder = ready_line(proc).groups()  # the first line: no install on a second start
    assert demo and Path(folder) == data.resolve()
    assert httpx.get(url + "health", timeout=10).status_code == 200
