#!/usr/bin/env bash
# `make check-template`: three pinned judges of what we deploy, any error or warning fails:
#   - cfn-lint on template.yaml, with the SAM transform applied;
#   - `sam validate --lint` (aws-sam-cli) on template.yaml, offline (it needs no AWS account);
#   - asl-validator (npm) on the state machine, infra/statemachine/release.asl.json.
# cfn-lint and aws-sam-cli are pinned in tools/requirements-lint.txt (.venv-tools), asl-validator
# in tests/fidelity/package-lock.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tools/venv.sh lint
tools/npm-tools.sh
echo "$(.venv-tools/bin/cfn-lint --version) on template.yaml"
.venv-tools/bin/cfn-lint template.yaml
echo "cfn-lint: template.yaml is clean"
# A scratch HOME and region so sam reads no user configuration and asks nothing; no telemetry.
sam_home="$root/target/sam-home"
mkdir -p "$sam_home"
HOME="$sam_home" AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 \
  .venv-tools/bin/sam validate --lint --template-file template.yaml
echo "asl-validator $(tests/fidelity/node_modules/.bin/asl-validator --version) on the state machine"
tests/fidelity/node_modules/.bin/asl-validator --json-path infra/statemachine/release.asl.json
