#!/usr/bin/env bash
# Installs fastmime + imgpipe into ./.venv and starts the reference upload service on embedded defaults:
# SQLite + files in ./imgpipe-data, http://127.0.0.1:8080 (README's service command).
# On first start it creates a local user "demo" (password "demo") so that the page at / can be tried at
# once; IMGPIPE_NO_DEMO=1 skips that. Arguments go to `imgpipe serve` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
if [ "${IMGPIPE_NO_DEMO:-0}" != 1 ]; then
    .venv/bin/python -m imgpipe create-user demo --password demo >/dev/null 2>&1 \
        && echo "created the local user demo (password demo)" || true
fi
exec .venv/bin/python -m imgpipe serve "$@"
