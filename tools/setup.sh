#!/usr/bin/env bash
# `make setup`: what the project's commands need beyond Rust and Python 3, installed when
# missing and quick when already there. CI (.ci/run) calls this same script.
#   tools/setup.sh        everything `make test` needs (the default)
#   tools/setup.sh demo   what `make demo` and `make up` need (no browser)
# It installs:
#   - python3-venv (Debian) for the project's virtual environments;
#   - headless Chromium (Debian's `chromium`) for the status page's browser tests (test only);
#   - the local stack's pinned moto, into .venv.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/system-packages.sh
. "$root/tools/system-packages.sh"

purpose="${1:-test}"
case "$purpose" in
  test|demo) ;;
  *) echo "usage: tools/setup.sh [test|demo]" >&2; exit 2 ;;
esac

need_python_venv
if [ "$purpose" = test ]; then
  need_debian_package "command -v chromium || command -v chromium-browser" chromium \
    "the status page's browser tests (make test)"
fi
"$root/infra/local/setup.sh"
