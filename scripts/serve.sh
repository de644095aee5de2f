#!/usr/bin/env bash
# Installs fastmime + imgpipe + photoservice (with the "service" extra) into ./.venv and starts the reference
# upload service on embedded defaults: SQLite + a folder in the data directory (PHOTOSERVICE_DATA, default
# ~/.local/share/photoservice, the same one the admin commands use), http://127.0.0.1:8080.
# The install runs only when .venv is missing or pyproject.toml / setup.py changed since the last one.
# On first start it creates a local user "demo" (password "demo") so that the page at / can be tried at
# once; PHOTOSERVICE_NO_DEMO=1 skips that. Arguments go to `photoservice serve` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
stamp=".venv/.photoservice-installed"
wanted="$(cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/photoservice ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "installing into .venv (first start, or the project's metadata changed; about a minute)..."
    [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[service]"
    echo "$wanted" > "$stamp"
fi
for arg in "$@"; do
    case "$arg" in -h|--help) exec .venv/bin/photoservice serve --help ;; esac
done
if [ "${PHOTOSERVICE_NO_DEMO:-0}" != 1 ]; then
    .venv/bin/photoservice create-user demo --password demo >/dev/null 2>&1 \
        && echo "created the local user demo (password demo)" || true
fi
exec .venv/bin/photoservice serve "$@"
