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
[ -x .venv-simd/bin/python ] || "$PYTHON" -m venv .venv-simd
PY=.venv-simd/bin/python
"$PY" -m pip install -q --upgrade pip

# AVX2 is what pillow-simd is for, but a binary built with it dies (SIGILL) on a CPU without it.
simd_cc="${CC:-cc}"
if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then simd_cc="$simd_cc -mavx2"; fi
# --no-cache-dir: a cached wheel may have been built with other flags. Already installed (a reused
# .venv-simd): pip keeps it and builds nothing.
# Pinned to the release checked here, so that a new upload to PyPI cannot break CI unannounced.
if ! CC="$simd_cc" "$PY" -m pip install -q --no-cache-dir "pillow-simd==12.1.1.post0"; then
    echo "error: pillow-simd did not build (CC=\"$simd_cc\"); its headers come from: $HEADER_PACKAGES" >&2
    exit 1
fi

# --no-deps: the project depends on pillow, which pip would install over pillow-simd's PIL. Hence also
# the build requirements by hand, and only the test requirements that do not pull Pillow in
# (pytest-benchmark because pyproject's pytest addopts use its --benchmark-disable).
"$PY" -m pip install -q "setuptools>=77" wheel "Cython>=3.0"
"$PY" -m pip install -q --no-deps --no-build-isolation -e .
"$PY" -m pip install -q "pytest>=8" "pytest-benchmark>=4" "hypothesis>=6"

# Pillow's versions have no ".post"; pillow-simd's do (12.1.1.post0). Anything else means PIL is Pillow.
"$PY" - <<'EOF'
import sys
import PIL, PIL.features
import fastmime, imgpipe
print(f"pillow-simd check: PIL {PIL.__version__} (webp {PIL.features.check('webp')}, "
      f"lcms {PIL.features.check('littlecms2')}), imgpipe COLOR_MANAGEMENT {imgpipe.COLOR_MANAGEMENT}, "
      f"fastmime {fastmime.IMPLEMENTATION}, Python {sys.version.split()[0]}")
if "post" not in PIL.__version__:
    sys.exit(f"error: PIL {PIL.__version__} in .venv-simd is Pillow, not pillow-simd")
EOF

"$PY" -m pytest tests/imgpipe -q -p no:cacheprovider "$@"
echo "pillow-simd check passed in ${SECONDS}s (CC=\"$simd_cc\")"
