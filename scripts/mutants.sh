#!/usr/bin/env bash
# Mutation testing of one crate with cargo-mutants (https://mutants.rs/); a manual step, too
# slow for CI on 2 cores. Configuration: .cargo/mutants.toml; results: docs/mutants.md.
#
#   scripts/mutants.sh palisade-replay            # every mutant of one crate
#   scripts/mutants.sh palisade-replay --list     # only list the mutants (seconds)
#   scripts/mutants.sh palisade-rbac -f src/scope.rs   # extra arguments go to cargo-mutants
#
# Install once: `cargo install cargo-mutants --locked`.
# Builds happen in a copy of the tree (never in place), in their own target directory,
# target/mutants-build, kept between runs so the dependencies are built once. Not target/
# itself: cargo names a workspace member's artifacts from its workspace-relative path, so the
# copy and the checkout would overwrite each other's palisade-* libraries in one target
# directory, and a `cargo test` in the checkout during a run would both test a mutant and
# hand the run an unmutated library (a false "missed"). The report is written to
# target/mutants/<crate>/mutants.out (caught.txt, missed.txt, timeout.txt, unviable.txt,
# outcomes.json). Only the mutated crate's own tests run. Needs no service (no Redis/Postgres).
#
# Environment: MUTANTS_JOBS (default 1), MUTANTS_TARGET_DIR (default target/mutants-build),
# MUTANTS_OUTPUT (default target/mutants/<crate>), MUTANTS_TIMEOUT (seconds per test run, default from
# the config: 5 x baseline, at least 120 s).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -lt 1 ]; then
    echo "usage: $0 CRATE [cargo-mutants arguments...]" >&2
    exit 2
fi
crate="$1"
shift

if ! cargo mutants --version >/dev/null 2>&1; then
    echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2
    exit 2
fi

output="${MUTANTS_OUTPUT:-target/mutants/$crate}"
args=(--package "$crate" --jobs "${MUTANTS_JOBS:-1}" --output "$output")
if [ -n "${MUTANTS_TIMEOUT:-}" ]; then
    args+=(--timeout "$MUTANTS_TIMEOUT")
fi
mkdir -p "$output"
export CARGO_TARGET_DIR="${MUTANTS_TARGET_DIR:-$PWD/target/mutants-build}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
exec cargo mutants "${args[@]}" "$@"
