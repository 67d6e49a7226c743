#!/usr/bin/env bash
# Installs the local stack's Python dependencies (pinned moto) into the project's .venv.
# Idempotent and quick when already done: it only reinstalls when requirements.txt changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"
req="$root/infra/local/requirements.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/moto_server" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir -r "$req"
echo "$want" > "$stamp"
echo "installed $(grep -v '^#' "$req" | tr '\n' ' ') into .venv"
