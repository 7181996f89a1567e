#!/usr/bin/env bash
# The test command of the README: starts what the tests need when it is not running
# (PostgreSQL on 127.0.0.1:5432, Redis on 6379, a 3-master Redis Cluster on 7001-7003, from
# Debian's packages, through .ci/services), then runs every test of the workspace.
#
#   bash scripts/test.sh              # everything
#   bash scripts/test.sh -p palisade-redis   # extra arguments go to `cargo test`
#
# Installing the services needs root (or sudo) and Debian's package repositories; on another
# system start PostgreSQL (trust auth on 127.0.0.1, database `test`) and Redis yourself, and the
# script finds them answering and only runs the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

.ci/services
if [ "$#" -eq 0 ]; then
    set -- --workspace
fi
exec cargo test --all-features "$@"
