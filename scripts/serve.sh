#!/usr/bin/env bash
# Installs fastmime + imgpipe + photoservice (with the "service" extra) into ./.venv and starts the reference
# upload service on embedded defaults: SQLite + a folder in the data directory (PHOTOSERVICE_DATA, default
# ~/.local/share/photoservice, the same one the admin commands use), http://127.0.0.1:8080.
# The install runs only when .venv is missing or pyproject.toml / setup.py changed since the last one, so a
# second start takes a few seconds. `--help` installs nothing more (only a missing .venv) and creates nothing.
# The local user "demo" (password "demo") is created when missing, so that the page at / can be tried at
# once; PHOTOSERVICE_NO_DEMO=1 skips that. Arguments go to `photoservice serve` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
stamp=".venv/.photoservice-installed"
wanted="$(cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/photoservice ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "installing into .venv (first start, or the project's metadata changed; a minute or two)..."
    [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
    log="$(mktemp)"
    if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[service]" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "the install failed (see above)" >&2
        exit 1
    fi
    rm -f "$log"
    echo "$wanted" > "$stamp"
fi
for arg in "$@"; do
    case "$arg" in -h|--help) exec .venv/bin/photoservice serve --help ;; esac
done
demo=(--demo)
[ "${PHOTOSERVICE_NO_DEMO:-0}" = 1 ] && demo=()
exec .venv/bin/photoservice serve "${demo[@]}" "$@"
