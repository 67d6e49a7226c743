#!/usr/bin/env bash
# `make fidelity`: the platforms' own command-line tools judge Baton's simulators.
# Installs the pinned wrangler, anypoint-cli-v4 and asl-validator (tools/npm-tools.sh), then runs
# the fidelity suite (`cargo test -p baton-fidelity`), which starts each simulator and runs the
# tools against it as a user would.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tools/npm-tools.sh
tools/venv.sh lint
cargo test -p baton-fidelity "$@"
