#!/usr/bin/env bash
# One command: install what is missing, build, and run quayd on its embedded
# defaults (SQLite + blobs in ./quay-data, listening on 127.0.0.1:5000).
# Extra arguments go to `quayd serve`, e.g. scripts/run.sh --listen 127.0.0.1:8080
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/host/quayd serve "$@"
