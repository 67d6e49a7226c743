#!/usr/bin/env bash
# `make package`: one Lambda zip per function (functions/*), for arm64 (Graviton, provided.al2023),
# built by cargo-lambda with zig as the cross linker, both pinned in tools/requirements-package.txt
# and installed into .venv-tools. Output: target/lambda/<function>/bootstrap.zip (git-ignored).
# Fails when a zip is over the budget (LAMBDA_ZIP_BUDGET_BYTES, default 4 MB = 4,000,000 bytes).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
budget="${LAMBDA_ZIP_BUDGET_BYTES:-4000000}"

tools/venv.sh package
export PATH="$root/.venv-tools/bin:$PATH"   # cargo-lambda, and the venv's python for `-m ziglang`
# cargo-lambda adds a missing Rust target itself; doing it here first gives a clearer error.
if command -v rustup >/dev/null; then
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
    || rustup target add aarch64-unknown-linux-gnu
fi

# Every function crate: a directory under functions/ with a Cargo.toml; the package and its
# binary share the name (template.yaml's BuildProperties.Binary).
functions=()
for manifest in functions/*/Cargo.toml; do
  functions+=("$(basename "$(dirname "$manifest")")")
done
[ ${#functions[@]} -gt 0 ] || { echo "package: no functions/*/Cargo.toml" >&2; exit 1; }
# cargo-lambda writes under the resolved Cargo target dir (CARGO_TARGET_DIR or target/).
target_dir="$(cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
lambda_dir="$target_dir/lambda"

pkg_args=()
for f in "${functions[@]}"; do pkg_args+=(-p "$f"); done
for f in "${functions[@]}"; do rm -f "$lambda_dir/$f/bootstrap.zip"; done

started=$(date +%s)
cargo lambda build --release --arm64 --output-format zip --locked "${pkg_args[@]}"
elapsed=$(( $(date +%s) - started ))

over=0
printf '%-18s %12s %12s\n' function "zip bytes" "zip MB"
for f in "${functions[@]}"; do
  zip="$lambda_dir/$f/bootstrap.zip"
  if [ ! -f "$zip" ]; then
    echo "package: $zip was not produced" >&2; over=1; continue
  fi
  # The zip must hold an executable `bootstrap` built for aarch64 (ELF e_machine 183).
  if ! python3 - "$zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    info = z.getinfo("bootstrap")
    head = z.open(info).read(20)
    assert head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == 183, "not an aarch64 ELF"
    assert (info.external_attr >> 16) & 0o111, "bootstrap is not executable"
PY
  then
    echo "package: $zip does not hold an executable aarch64 bootstrap" >&2; over=1; continue
  fi
  size=$(stat -c %s "$zip")
  flag=""
  if [ "$size" -gt "$budget" ]; then flag="  OVER BUDGET"; over=1; fi
  printf '%-18s %12d %12s%s\n' "$f" "$size" "$(awk -v s="$size" 'BEGIN{printf "%.2f", s/1000000}')" "$flag"
done
echo "built ${#functions[@]} arm64 zips in $lambda_dir in ${elapsed} s (budget $budget bytes each)"
if [ "$over" -ne 0 ]; then
  echo "package: a zip is missing or over the budget of $budget bytes" >&2
  exit 1
fi
