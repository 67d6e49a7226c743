#!/usr/bin/env bash
# `make setup`: everything `make demo` and `make test` need beyond Rust and Python 3, installed
# when missing and quick when already there. CI (.ci/run) calls this same script.
#   - python3-venv (Debian) for the project's virtual environments;
#   - headless Chromium (Debian's `chromium`) for the status page's browser tests;
#   - the local stack's pinned moto, into .venv.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/system-packages.sh
. "$root/tools/system-packages.sh"

need_python_venv
need_debian_package "command -v chromium || command -v chromium-browser" chromium \
  "the status page's browser tests (make test)"
"$root/infra/local/setup.sh"
