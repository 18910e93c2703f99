#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cpp, CMake HUNCH_FUZZ=ON, clang) and runs each
# for a given time, one after the other, single process; prints executions and crashes per
# target in a table and exits non-zero if any target crashed, leaked, timed out or ran out of
# memory.
#
# Usage: scripts/fuzz.sh [seconds per target] [target...]
#   scripts/fuzz.sh                    every target, 60 s each
#   scripts/fuzz.sh 30                 what CI runs (.ci/run)
#   scripts/fuzz.sh 600                the long run: 10 minutes per target
#   scripts/fuzz.sh 120 fuzz_push_events fuzz_sequence_state
# Environment:
#   HUNCH_FUZZ_DIR      build folder (default build/fuzz); corpora grow in $dir/corpus/<target>,
#                       crash inputs land in $dir/artifacts/<target>/, logs in $dir/logs/
#   HUNCH_FUZZ_FORK=1   keep going after a crash (libFuzzer -fork=1 -ignore_crashes=1: still one
#                       fuzzing process at a time) and count them: for long runs
#   HUNCH_FUZZ_CFLAGS   extra compiler flags for the whole fuzz build (e.g.
#                       -fno-sanitize=nonnull-attribute to look past a known, unfixed report)
#   HUNCH_JOBS          build parallelism (default 2)
# A crash input found here belongs in tests/fuzz/regressions/<target>/ once understood (see
# tests/fuzz/README.md); tests/native/test-fuzz-regressions.cpp replays that folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-60}
shift || true
dir=${HUNCH_FUZZ_DIR:-build/fuzz}
jobs=${HUNCH_JOBS:-2}
case "$seconds" in (*[!0-9]*|'') echo "fuzz.sh: seconds must be a whole number, got '$seconds'" >&2; exit 2 ;; esac

all=()
for src in tests/fuzz/fuzz_*.cpp; do all+=("$(basename "$src" .cpp)"); done
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/$t.cpp" ] || { echo "fuzz.sh: no target '$t' (have: ${all[*]})" >&2; exit 2; }
done

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (scripts/setup.sh installs clang)" >&2; exit 2; }

# HUNCH_FUZZ=ON instruments every library for coverage and ASan + UBSan (CMakeLists.txt), so a
# bug in the core is found and reported where it happens. XNNPACK is a prebuilt library without
# that instrumentation: the reference kernels are fuzzed instead.
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHUNCH_FUZZ=ON -DHUNCH_TESTS=OFF -DHUNCH_XNNPACK=OFF -DHUNCH_MPI=OFF -DCMAKE_CXX_FLAGS="${HUNCH_FUZZ_CFLAGS:-}" >/dev/null
cmake --build "$dir" -j"$jobs" --target "${targets[@]}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

# Seeds. Read-only seed folders are passed after the working corpus (libFuzzer writes new inputs
# to the first folder only), so the repository is never written.
seed() {
  local t=$1 work=$2
  case "$t" in
    fuzz_model_reader|fuzz_model_reader_nocrc)
      # The fixtures, the broken-model corpus, and small models the target writes itself.
      cp tests/data/fixtures/*.hunch tests/data/broken/*.hunch "$work"/
      HUNCH_FUZZ_WRITE_SEEDS="$work" "$dir/$t" ;;
    fuzz_sequence_state|fuzz_push_events|fuzz_checkpoint)
      # Real saved states / event programs of the target's own fixed models.
      HUNCH_FUZZ_WRITE_SEEDS="$work" "$dir/$t" ;;
    fuzz_events_csv|fuzz_events_jsonl|fuzz_events_access_log|fuzz_events_analytics)
      # The ingestion test logs behind a few option prefixes (see the target's header comment).
      local f o
      for f in tests/data/events/*; do
        for o in '\x00\x00' '\x03\x00' '\x80\x20' '\x40\x01' '\x00\x06'; do
          { printf "$o"; cat "$f"; } > "$work/$(basename "$f")-$(printf '%s' "$o" | tr -d '\\x')"
        done
      done ;;
  esac
}

mkdir -p "$dir/logs"
rows=()
failed=0
for t in "${targets[@]}"; do
  work="$dir/corpus/$t"
  artifacts="$dir/artifacts/$t"
  log="$dir/logs/$t.log"
  mkdir -p "$work" "$artifacts"
  [ -n "$(ls -A "$work")" ] || seed "$t" "$work"
  before=$(ls "$artifacts" | wc -l)
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  [ "${HUNCH_FUZZ_FORK:-0}" = 1 ] && args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  seeds=()
  [ -d "tests/fuzz/corpus/$t" ] && seeds+=("tests/fuzz/corpus/$t")
  echo "== $t: $seconds s (log $log)"
  set +e
  "$dir/$t" "${args[@]}" "$work" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  set -e
  # Executions: the final stats in one process; in fork mode the last progress line.
  execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+$' || true)
  if [ -z "$execs" ]; then execs=$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true); fi
  execs=${execs:-0}
  if [ "${HUNCH_FUZZ_FORK:-0}" = 1 ]; then
    crashes=$(grep -Eo 'oom/timeout/crash: [0-9]+/[0-9]+/[0-9]+' "$log" | tail -1 | awk -F'[ /]' '{print $2+$3+$4}')
    crashes=${crashes:-0}
  else
    crashes=$(( rc != 0 ? 1 : 0 ))
  fi
  found=$(( $(ls "$artifacts" | wc -l) - before ))
  corpus=$(ls "$work" | wc -l)
  rows+=("$(printf '%-26s %8s %12s %10s %8s %10s %8s' "$t" "$seconds" "$execs" "$(( execs / (seconds > 0 ? seconds : 1) ))" "$crashes" "$found" "$corpus")")
  if [ "$crashes" -ne 0 ] || [ "$rc" -ne 0 ]; then
    failed=1
    echo "   CRASH: $t (exit $rc); new inputs in $artifacts/:"
    ls -t "$artifacts" | head -"$(( found > 0 ? found : 1 ))" | sed 's/^/     /'
    grep -E -m3 "ERROR: |runtime error:|fuzz invariant failed" "$log" | sed 's/^/     /' || true
  fi
done

echo
printf '%-26s %8s %12s %10s %8s %10s %8s\n' target seconds executions exec/s crashes artifacts corpus
for r in "${rows[@]}"; do echo "$r"; done
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: crashes found (inputs under $dir/artifacts/, logs under $dir/logs/)" >&2
  exit 1
fi
echo "fuzz.sh: no crashes"
