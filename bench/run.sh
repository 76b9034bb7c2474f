#!/usr/bin/env bash
# Runs the benchmark suite (see bench/README.md). Usage: bench/run.sh BUILD_DIR [--quick] [--only NAME]...
set -euo pipefail
exec python3 "$(dirname "$0")/driver.py" "$@"
