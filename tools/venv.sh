#!/usr/bin/env bash
# Installs one pinned tools requirements file (tools/requirements-<set>.txt) into the project-local
# .venv-tools. Idempotent and quick when done: it reinstalls a set only when its file changed.
#   tools/venv.sh package   # cargo-lambda + ziglang, for `make package`
#   tools/venv.sh lint      # cfn-lint, for `make check-template`
set -euo pipefail
set_name="${1:?usage: tools/venv.sh <package|lint>}"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-tools"
req="$root/tools/requirements-$set_name.txt"
[ -f "$req" ] || { echo "tools/venv.sh: no $req" >&2; exit 2; }
stamp="$venv/.requirements-$set_name.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# shellcheck source=tools/system-packages.sh
. "$root/tools/system-packages.sh"
need_python_venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir -r "$req"
echo "$want" > "$stamp"
echo "installed $(grep -v '^#' "$req" | tr '\n' ' ')into .venv-tools"
