#!/usr/bin/env bash
# Fuzz each named target until it has used CPU_SECONDS of CPU (default one hour),
# counted from /proc (user + system time of the fuzzer and its threads), not wall
# time: at `nice -n 19` the fuzzer only takes CPU that nothing else wants, so a
# wall-clock limit would overstate how much fuzzing was done.
#
#   fuzz/cpu-hour.sh plan_import bundle        # one after the other
#
# Needs cargo-fuzz and a nightly toolchain; build first with
# `cargo +nightly fuzz build -O`. Corpora grow in $FUZZ_CORPUS/<target> (seeded
# from fuzz/corpus/<target>); each run's libFuzzer output goes to
# $FUZZ_LOGS/<target>.log (appended). CPU seconds add up across runs in
# $FUZZ_LOGS/<target>.total, so a run stopped early (SIGINT: libFuzzer finishes
# cleanly) is continued by the next. Never SIGSTOP a fuzzer: its per-input timeout
# runs on the wall clock, so a stopped process reports a false timeout on waking.
set -euo pipefail
cd "$(dirname "$0")"
CPU_SECONDS=${CPU_SECONDS:-3600}
FUZZ_CORPUS=${FUZZ_CORPUS:-/tmp/fuzzcorpus}
FUZZ_LOGS=${FUZZ_LOGS:-/tmp/fuzzlogs}
mkdir -p "$FUZZ_LOGS"
ticks=$(getconf CLK_TCK)

for target in "$@"; do
  if [ "$(cat "$FUZZ_LOGS/$target.total" 2>/dev/null || echo 0)" -ge "$CPU_SECONDS" ]; then
    echo "$target: already fuzzed for $CPU_SECONDS CPU seconds"; continue
  fi
  mkdir -p "$FUZZ_CORPUS/$target"
  binary=target/x86_64-unknown-linux-gnu/release/$target
  [ -x "$binary" ] || { echo "no $binary: run cargo +nightly fuzz build -O" >&2; exit 1; }
  ASAN_OPTIONS=detect_leaks=0 nice -n 19 "$binary" "$FUZZ_CORPUS/$target" "corpus/$target" \
    -artifact_prefix="artifacts/$target/" -rss_limit_mb=2048 -timeout=20 -detect_leaks=0 \
    -print_final_stats=1 >>"$FUZZ_LOGS/$target.log" 2>&1 &
  pid=$!
  before=$(cat "$FUZZ_LOGS/$target.total" 2>/dev/null || echo 0)
  used=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 10
    # utime + stime of the whole process (all threads), fields 14 and 15
    read -r -a stat <"/proc/$pid/stat" 2>/dev/null || break
    used=$(( (stat[13] + stat[14]) / ticks ))
    echo "$used" >"$FUZZ_LOGS/$target.cpu"
    if [ $((before + used)) -ge "$CPU_SECONDS" ]; then kill -INT "$pid"; fi
  done
  status=0; wait "$pid" || status=$?
  echo $((before + used)) >"$FUZZ_LOGS/$target.total"
  echo "$target: $used CPU seconds this run, $((before + used)) in all, exit $status" | tee -a "$FUZZ_LOGS/summary"
done
