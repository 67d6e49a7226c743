#!/usr/bin/env bash
# Debian packages the project's commands need, installed when missing. Sourced by the setup
# scripts: `need_debian_package CHECK PACKAGE WHY` runs CHECK (a shell command); when it fails it
# installs PACKAGE with apt-get if this is root on Debian, and otherwise stops at once with the
# exact command to run. Nothing is downloaded from anywhere but Debian's archive.

apt_updated=""

need_debian_package() {
  local check="$1" package="$2" why="$3"
  if eval "$check" >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $package from Debian's packages ($why)"
    if [ -z "$apt_updated" ]; then
      apt-get update -qq
      apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
    if eval "$check" >/dev/null 2>&1; then
      return 0
    fi
    echo "error: installed $package but '$check' still fails" >&2
    exit 1
  fi
  echo "error: $why needs $package, which is not installed. Install it, then run make again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y $package" >&2
  exit 1
}

# Python's venv module (Debian ships it apart from python3).
need_python_venv() {
  need_debian_package "python3 -c 'import venv, ensurepip'" python3-venv "a Python virtual environment for pinned tools"
}
