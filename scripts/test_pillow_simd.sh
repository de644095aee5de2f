#!/usr/bin/env bash
# Proves that pillow-simd works as a drop-in replacement for Pillow for imgpipe (a project requirement):
# builds it into ./.venv-simd and runs tests/imgpipe against it. Fails if it does not build or a test fails.
# Usage: bash scripts/test_pillow_simd.sh [pytest arguments]   (scripts/test.sh runs it last)
set -euo pipefail
cd "$(dirname "$0")/.."

# pillow-simd ships only as source. jpeg and zlib are required by its build; without the others it
# builds a PIL lacking WebP, ICC (LittleCMS), ... and the imgpipe tests would not prove much.
HEADER_PACKAGES="libjpeg62-turbo-dev zlib1g-dev libwebp-dev libtiff-dev libfreetype-dev liblcms2-dev libopenjp2-7-dev libpng-dev"
if command -v dpkg >/dev/null 2>&1; then
    missing=""
    for pkg in $HEADER_PACKAGES; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
    done
    if [ -n "$missing" ]; then
        if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
            echo "installing Debian packages:$missing"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
        else
            echo "error: building pillow-simd needs these Debian packages:$missing" >&2
            echo "       install them as root (apt-get install$missing), or skip this step with IMGPIPE_SKIP_PILLOW_SIMD=1" >&2
            exit 1
        fi
    fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv-simd/bin/python ]; then
    "$PYTHON" -m venv .venv-simd
    .venv-simd/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
fi
PY=.venv-simd/bin/python
PIP=("$PY" -m pip install -q --disable-pip-version-check)
SIMD_VERSION="12.1.1.post0"  # pinned to the release checked here: a new upload cannot break CI unannounced

# AVX2 is what pillow-simd is for, but a binary built with it dies (SIGILL) on a CPU without it.
simd_cc="${CC:-cc}"
if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then simd_cc="$simd_cc -mavx2"; fi
# The wheel is built once per compiler flags, Python and header versions, kept in a cache of its own (pip's
# wheel cache would hand out a wheel built with other flags), and installed from there on later runs.
headers="$(dpkg-query -W -f='${Package}=${Version} ' $HEADER_PACKAGES 2>/dev/null || true)"
key="$(printf '%s|%s|%s|%s' "$SIMD_VERSION" "$simd_cc" "$("$PY" -c 'import sys; print(sys.version)')" "$headers" \
       | sha256sum | cut -c1-16)"
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/fastmime-imgpipe/pillow-simd/$key"
built="reused"
if [ "$("$PY" -c 'import importlib.metadata as m; print(m.version("pillow-simd"))' 2>/dev/null)" != "$SIMD_VERSION" ]; then
    if ! ls "$wheels"/pillow_simd-*.whl > /dev/null 2>&1; then
        mkdir -p "$wheels"
        if ! CC="$simd_cc" "$PY" -m pip wheel -q --disable-pip-version-check --no-deps --no-cache-dir \
                -w "$wheels" "pillow-simd==$SIMD_VERSION"; then
            echo "error: pillow-simd did not build (CC=\"$simd_cc\"); its headers come from: $HEADER_PACKAGES" >&2
            exit 1
        fi
        built="built"
    fi
    "${PIP[@]}" --no-deps "$wheels"/pillow_simd-*.whl
else
    built="installed already"
fi

# --no-deps: the project depends on pillow, which pip would install over pillow-simd's PIL. Hence also
# the build requirements by hand, and only the test requirements that do not pull Pillow in
# (pytest-benchmark because pyproject's pytest addopts use its --benchmark-disable; pytest-xdist to run the
# tests in two processes). Done again only when the project's metadata or the parser's source changed.
stamp=.venv-simd/.test-installed
project="$(cat pyproject.toml setup.py fastmime/_parser.py fastmime/_parser.pxd | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$project" ]; then
    rm -f "$stamp"
    "${PIP[@]}" "setuptools>=77" wheel "Cython>=3.0"
    "${PIP[@]}" --no-deps --no-build-isolation -e .
    "${PIP[@]}" "pytest>=8" "pytest-benchmark>=4" "pytest-xdist>=3.5" "hypothesis>=6"
    echo "$project" > "$stamp"
fi

# Pillow's versions have no ".post"; pillow-simd's do (12.1.1.post0). Anything else means PIL is Pillow.
version="$("$PY" - <<'PYEOF'
import sys
import PIL, PIL.features
import fastmime, imgpipe
print(f"PIL {PIL.__version__} (webp {PIL.features.check('webp')}, lcms {PIL.features.check('littlecms2')}), "
      f"imgpipe COLOR_MANAGEMENT {imgpipe.COLOR_MANAGEMENT}, fastmime {fastmime.IMPLEMENTATION}, "
      f"Python {sys.version.split()[0]}")
if "post" not in PIL.__version__:
    sys.exit(f"error: PIL {PIL.__version__} in .venv-simd is Pillow, not pillow-simd")
PYEOF
)"
echo "pillow-simd $built: $version"

"$PY" -m pytest tests/imgpipe -q -p no:cacheprovider -n "${PYTEST_WORKERS:-auto}" "$@" | tee .venv-simd/last-run.log
result="$(grep -E '^[0-9]+ passed' .venv-simd/last-run.log | tail -n 1)"
echo "pillow-simd check: $result; wheel $built (CC=\"$simd_cc\")"
