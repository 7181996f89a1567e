#!/usr/bin/env bash
# Fuzzing campaign: runs cargo-fuzz targets for a long time each, outside CI, and keeps what
# they found. For each target, in order:
#
#   1. runs it for FUZZ_CAMPAIGN_SECONDS (default 600) from its committed corpus
#      (fuzz/corpus/<target>) and its seeds (fuzz/seeds/<target>), built in release mode WITH
#      debug assertions and overflow checks, under AddressSanitizer (cargo fuzz's defaults);
#   2. minimizes the corpus it grew (`cargo fuzz cmin`) and writes it back to
#      fuzz/corpus/<target>, which is committed and which CI's smoke run reads;
#   3. appends a line of figures to fuzz/target/campaign/figures.tsv: seconds, executions,
#      executions per second, coverage (libFuzzer's `cov`: edges; `ft`: features) at the start
#      and at the end, the execution at which the last input with new coverage was found
#      (`NEW`; `REDUCE` lines only shrink inputs), the corpus size
#      after minimization, and the exit status (non-zero: a crash, written to
#      fuzz/artifacts/<target>/).
#
#   scripts/fuzz-campaign.sh                      # every target
#   scripts/fuzz-campaign.sh url_check auth_header
#   FUZZ_CAMPAIGN_SECONDS=60 scripts/fuzz-campaign.sh pii_envelope
#
# Parallel lanes (one core each): start the script several times with the same
# FUZZ_CAMPAIGN_CLAIMS directory; a lane claims a target (mkdir) before running it, so each
# target runs once, and a lane given the list in another order works from the other end.
#
#   export FUZZ_CAMPAIGN_CLAIMS=fuzz/target/campaign/claims-$(date +%s)
#   scripts/fuzz-campaign.sh & scripts/fuzz-campaign.sh $(cargo fuzz list | tac) &
#
# A crash does not stop the campaign: the next target runs, and the script exits 1 at the end.
# Logs: fuzz/target/campaign/<target>.log. See fuzz/README.md for the figures of the last
# campaign.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_CAMPAIGN_SECONDS:-600}"
export RUSTC_BOOTSTRAP=1
out=fuzz/target/campaign
mkdir -p "$out"
figures="$out/figures.tsv"
[ -f "$figures" ] || printf 'target\tseconds\texecutions\texec_per_s\tcov_start\tft_start\tcov_end\tft_end\tlast_new_at\tcorpus_files\tcorpus_bytes\tstatus\n' >"$figures"

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build || exit 1

failed=0
claims="${FUZZ_CAMPAIGN_CLAIMS:-}"
[ -n "$claims" ] && mkdir -p "$claims"
for t in "${targets[@]}"; do
    if [ -n "$claims" ] && ! mkdir "$claims/$t" 2>/dev/null; then
        continue # another lane runs it
    fi
    work="$out/$t.corpus"
    rm -rf "$work"
    mkdir -p "$work" "fuzz/corpus/$t"
    cp -r "fuzz/corpus/$t/." "$work/"
    reads=()
    [ -d "fuzz/seeds/$t" ] && reads=("fuzz/seeds/$t")
    log="$out/$t.log"
    echo "fuzz campaign: $t for ${seconds}s ($(date -u +%H:%M:%S))"
    status=0
    cargo fuzz run "$t" "$work" "${reads[@]}" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        >"$log" 2>&1 || status=$?

    # Minimize: only the inputs that add coverage are kept (seeds included, so they are
    # merged in too; they stay in fuzz/seeds as well).
    cargo fuzz cmin "$t" "$work" >"$out/$t.cmin.log" 2>&1 || true
    rm -rf "fuzz/corpus/$t"
    mkdir -p "fuzz/corpus/$t"
    cp -r "$work/." "fuzz/corpus/$t/"

    inited=$(grep -m1 -E '^#[0-9]+[[:space:]]+INITED' "$log" || true)
    done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 || true)
    last_new=$(grep -E '^#[0-9]+[[:space:]]+NEW' "$log" | tail -n 1 | sed -E 's/^#([0-9]+).*/\1/' || true)
    field() { sed -nE "s/.*[[:space:]]$1:[[:space:]]*([0-9]+).*/\\1/p" <<<"$2"; }
    execs=$(sed -nE 's/^stat::number_of_executed_units:[[:space:]]*([0-9]+)/\1/p' "$log")
    rate=$(sed -nE 's/^stat::average_exec_per_sec:[[:space:]]*([0-9]+)/\1/p' "$log")
    files=$(find "fuzz/corpus/$t" -type f | wc -l)
    bytes=$(find "fuzz/corpus/$t" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$seconds" "${execs:-?}" \
        "${rate:-?}" "$(field cov "$inited")" "$(field ft "$inited")" \
        "$(field cov "$done_line")" "$(field ft "$done_line")" "${last_new:-0}" \
        "$files" "$bytes" "$status" >>"$figures"
    tail -n 1 "$figures"
    if [ "$status" -ne 0 ]; then
        echo "fuzz campaign: $t FAILED (exit $status); see $log and fuzz/artifacts/$t/" >&2
        failed=1
    fi
done
exit "$failed"
