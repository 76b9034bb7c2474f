#!/usr/bin/env bash
# Installs every Debian package that Sluice's build, tests and benchmarks need.
# Idempotent: packages already present are skipped, and apt is only touched when
# something is missing. Runs as root (or through sudo when it is available).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake make pkg-config git clang-format
  # engine libraries
  libboost-dev
  libzmq3-dev cppzmq-dev
  capnproto libcapnp-dev
  librocksdb-dev
  libspdlog-dev libfmt-dev
  libyaml-cpp-dev nlohmann-json3-dev libsimdjson-dev
  libre2-dev libcli11-dev libxxhash-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # tools the tests drive
  procps python3 iproute2
  xgboost  # regenerates the payments XGBoost fixtures (tests/data/payments/xgboost/)
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once before installing.
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -q >&2
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
