#!/usr/bin/env bash
# The pinned npm tools (tests/fidelity/package-lock.json: wrangler, anypoint-cli-v4,
# asl-validator), installed into tests/fidelity/node_modules when missing or when the lock changed.
# Installs Node from Debian's packages when missing. Used by `make fidelity` and
# `make check-template` (asl-validator).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/system-packages.sh
. "$root/tools/system-packages.sh"
need_debian_package "command -v node && command -v npm" nodejs "the pinned npm tools (make fidelity, make check-template)"
# wrangler 4 needs Node 20.3 or later (its package.json's engines).
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=3)?0:1)'; then
  echo "error: the pinned npm tools need Node 20.3 or later (wrangler 4); this is Node $(node --version)." >&2
  echo "  Install a newer nodejs package (e.g. from Debian trixie or NodeSource), then run make again." >&2
  exit 1
fi
dir="$root/tests/fidelity"
stamp="$dir/node_modules/.baton-lock.sha256"
want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing the pinned wrangler, anypoint-cli-v4 and asl-validator into tests/fidelity/node_modules"
  # The Anypoint CLI depends on puppeteer for browser logins, which the suite never uses.
  (cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
