#!/usr/bin/env bash
# Installs fastmime + imgpipe with everything the tests need, into ./.venv, and runs the whole suite,
# then the imgpipe tests against pillow-simd (scripts/test_pillow_simd.sh; IMGPIPE_SKIP_PILLOW_SIMD=1 skips it).
# Usage: bash scripts/test.sh [pytest arguments]       (README's test command; .ci/run calls it)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages some tests use. Installed when this user may (root with apt-get); a test whose
# program is still missing skips and says which package to install.
DEBIAN_PACKAGES="libimage-exiftool-perl curl chromium chromium-driver postgresql"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    missing=""
    for pkg in $DEBIAN_PACKAGES; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        echo "installing Debian packages:$missing"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing) \
            || echo "warning: could not install$missing; the tests that need them will skip"
    fi
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# CI must fail when the Cython extension does not build, instead of silently testing the pure path twice.
FASTMIME_REQUIRE_EXTENSION=1 .venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/python -c "import fastmime, sys; print('fastmime implementation:', fastmime.IMPLEMENTATION); sys.exit(fastmime.IMPLEMENTATION != 'cython')"
# The suite is CPU-bound and the machines have 2 cores: pytest-xdist runs it in one process per core
# (PYTEST_WORKERS=0 runs it in this process). Tests that start servers use free ports and temporary
# folders; each process starts its own PostgreSQL and moto_server when it needs them; loadgroup keeps the
# tests of one xdist_group (several instances of one service) in one process.
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" --dist loadgroup "$@"

# pillow-simd must work as a drop-in for Pillow (a project requirement); only a real build proves it.
if [ "${IMGPIPE_SKIP_PILLOW_SIMD:-}" != 1 ]; then
    bash scripts/test_pillow_simd.sh
fi
