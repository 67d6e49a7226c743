#!/usr/bin/env bash
# `make check-template`: cfn-lint (pinned in tools/requirements-lint.txt, installed into .venv-tools)
# on template.yaml, with the SAM transform applied. Any error or warning fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tools/venv.sh lint
echo "$(.venv-tools/bin/cfn-lint --version) on template.yaml"
.venv-tools/bin/cfn-lint template.yaml
echo "cfn-lint: template.yaml is clean"
