#!/usr/bin/env bash
# CI's test command (.ci/run runs exactly this; README: "Set-up"). Steps, each announced on one line that
# ends with how long it took; their own output goes to a log that is shown only when the step fails:
#   1. Debian packages the tests drive (exiftool, curl, chromium, PostgreSQL) and pillow-simd's build headers,
#      installed when missing and when this user may (root with apt-get): one quiet apt-get run;
#   2. ./.venv with fastmime + imgpipe + photoservice and the test requirements (the compiled parser
#      required), installed only when .venv is missing or pyproject.toml, setup.py or the parser's source
#      changed since the last install;
#   3. lint and format: ruff check and ruff format --check on the whole checkout (pyproject's [tool.ruff]);
#   4. the types: mypy --strict on fastmime, imgpipe and photoservice (pyproject's [tool.mypy]);
#   5. the API reference: mkdocs build --strict (a broken link or reference, or a public name without a
#      docstring, fails it), into a temporary folder;
#   6. the distributions: scripts/check_dist.py builds the sdist and the wheel into a temporary folder,
#      repairs the wheel for manylinux, runs twine check, and installs each into a fresh environment
#      without a C compiler (the wheel's compiled parser, the sdist's pure one with its warning);
#   7. the whole pytest suite, in one process per core (pytest-xdist; PYTEST_WORKERS=N for N, 0 for this
#      process alone); pytest's own output is shown as it runs;
#   8. tests/imgpipe against pillow-simd (scripts/test_pillow_simd.sh; IMGPIPE_SKIP_PILLOW_SIMD=1 skips it).
# Usage: bash scripts/test.sh [pytest arguments]   (they go to step 7; e.g. -x -q tests/photoservice)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT
STEPS=7
[ "${IMGPIPE_SKIP_PILLOW_SIMD:-}" = 1 ] || STEPS=8
STEP=0
SUMMARY="$LOGS/summary"

# step "what" command...: one line "[n/N] what ... <summary> (N s)"; the command's output goes to a log,
# shown with the failure when it fails. A step writes its summary (a few words) to $SUMMARY.
# `set -e` does not apply inside a function run as an `if` condition: each step says `|| return` itself.
step() {
    local what="$1"; shift
    local started=$SECONDS log="$LOGS/step$((STEP + 1)).log"
    STEP=$((STEP + 1))
    printf '[%d/%d] %s ... ' "$STEP" "$STEPS" "$what"
    : > "$SUMMARY"
    if "$@" > "$log" 2>&1; then
        printf '%s (%d s)\n' "$(cat "$SUMMARY")" $((SECONDS - started))
    else
        local status=$?
        printf 'FAILED after %d s; its output:\n' $((SECONDS - started))
        cat "$log"
        exit "$status"
    fi
}

# -------------------------------------------------------------------------------- 1. Debian packages
# The tests' programs: a test whose program is missing skips and names the package to install.
TEST_PACKAGES="libimage-exiftool-perl curl chromium chromium-driver postgresql"
# What pillow-simd's build needs (scripts/test_pillow_simd.sh checks them again and says so).
SIMD_HEADERS="libjpeg62-turbo-dev zlib1g-dev libwebp-dev libtiff-dev libfreetype-dev liblcms2-dev libopenjp2-7-dev libpng-dev"
debian_packages() {
    local wanted="$TEST_PACKAGES" missing=""
    [ "${IMGPIPE_SKIP_PILLOW_SIMD:-}" = 1 ] || wanted="$wanted $SIMD_HEADERS"
    if ! command -v dpkg-query > /dev/null 2>&1; then
        echo "not Debian: skipped (the tests that need a program skip)" > "$SUMMARY"
        return 0
    fi
    for pkg in $wanted; do
        [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing="$missing $pkg"
    done
    if [ -z "$missing" ]; then
        echo "all present" > "$SUMMARY"
    elif command -v apt-get > /dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq || return
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 $missing \
            || return
        echo "installed$missing" > "$SUMMARY"
    else
        echo "missing$missing (not root: the tests that need them skip)" > "$SUMMARY"
    fi
}
step "Debian packages" debian_packages

# -------------------------------------------------------------------------------- 2. the virtualenv
# What an install depends on: the metadata and the compiled parser's source.
install_key() { cat pyproject.toml setup.py fastmime/_parser.py fastmime/_parser.pxd | sha256sum | cut -d' ' -f1; }
python_env() {
    local stamp=.venv/.test-installed key
    key="$(install_key)"
    if [ ! -x .venv/bin/python ]; then
        "$PYTHON" -m venv .venv || return
        .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip || return
    fi
    if [ "$(cat "$stamp" 2> /dev/null)" = "$key" ]; then
        printf 'up to date, ' > "$SUMMARY"
    else
        rm -f "$stamp"
        # CI must fail when the Cython extension does not build, instead of testing the pure path twice.
        FASTMIME_REQUIRE_EXTENSION=1 .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]" \
            || return
        echo "$key" > "$stamp"
        # .[dev] holds .[service]: scripts/serve.sh needs no install of its own after this one.
        cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1 > .venv/.photoservice-installed
        printf 'installed, ' > "$SUMMARY"
    fi
    .venv/bin/python -c "import fastmime, sys; print('fastmime', fastmime.IMPLEMENTATION, end=''); \
sys.exit(fastmime.IMPLEMENTATION != 'cython')" >> "$SUMMARY"
}
step "Python environment (.venv)" python_env

# -------------------------------------------------------------------------------- 3-6. the checks
lint() {
    .venv/bin/ruff check --no-cache . || return
    .venv/bin/ruff format --check --no-cache . || return
    echo "clean: $(tail -n 1 "$LOGS/step$STEP.log")" > "$SUMMARY"
}
step "lint and format: ruff check, ruff format --check" lint

types() {
    .venv/bin/python -m mypy || return
    echo "no issue in $(tail -n 1 "$LOGS/step$STEP.log" | grep -o '[0-9]* source files')" > "$SUMMARY"
}
step "types: mypy --strict (fastmime, imgpipe, photoservice)" types

reference() {
    NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --site-dir "$LOGS/site" || return
    echo "$(find "$LOGS/site" -name index.html | wc -l) pages, no warning" > "$SUMMARY"
}
step "API reference: mkdocs build --strict" reference

distributions() {
    .venv/bin/python scripts/check_dist.py || return
    tail -n 1 "$LOGS/step$STEP.log" > "$SUMMARY"
}
step "distributions: build, repair, twine check, install and check (scripts/check_dist.py)" distributions

# -------------------------------------------------------------------------------- 7. pytest
# The suite is CPU-bound and the machines have 2 cores: pytest-xdist runs it in one process per core.
# Tests that start servers use free ports and temporary folders; each process starts its own PostgreSQL
# and moto_server when it needs them; loadgroup keeps the tests of one xdist_group (several instances of
# one service) in one process.
STEP=$((STEP + 1))
WORKERS="${PYTEST_WORKERS:-auto}"
[ "$WORKERS" = auto ] && WORKERS="$(.venv/bin/python -c 'import os; print(len(os.sched_getaffinity(0)))')"
echo "[$STEP/$STEPS] pytest ($([ "$WORKERS" = 0 ] && echo "one process" || echo "$WORKERS processes"), Hypothesis profile ${HYPOTHESIS_PROFILE:-ci}):"
started=$SECONDS
status=0
# --durations: the slowest tests are named in every run, so that a test that grew slow is seen at once.
if [ "$WORKERS" = 0 ]; then
    .venv/bin/python -m pytest -p no:cacheprovider --durations=10 "$@" || status=$?
else
    .venv/bin/python -m pytest -p no:cacheprovider --durations=10 -n "$WORKERS" --dist loadgroup "$@" || status=$?
fi
echo "[$STEP/$STEPS] pytest: $([ $status = 0 ] && echo passed || echo "FAILED (exit $status)") ($((SECONDS - started)) s)"
[ $status = 0 ] || exit $status

# -------------------------------------------------------------------------------- 8. pillow-simd
# pillow-simd must work as a drop-in for Pillow (a project requirement); only a real build proves it.
pillow_simd() {
    bash scripts/test_pillow_simd.sh || return
    tail -n 1 "$LOGS/step$STEP.log" | sed 's/^pillow-simd check: //' > "$SUMMARY"
}
if [ "${IMGPIPE_SKIP_PILLOW_SIMD:-}" != 1 ]; then
    step "pillow-simd: build (or reuse) and tests/imgpipe" pillow_simd
fi
echo "all steps passed in $SECONDS s"
