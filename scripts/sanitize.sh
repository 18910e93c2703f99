#!/usr/bin/env bash
# The whole native test suite under AddressSanitizer + UndefinedBehaviorSanitizer +
# LeakSanitizer (CMake option HUNCH_SANITIZE=ON), built in build/asan. Fails on a failing test
# and on any sanitizer report, even one a test's exit status would hide (a report printed from a
# child process, or by a test that exits 0 anyway): every test's output is scanned.
#
# Usage: scripts/sanitize.sh [gcc|clang]      (default: clang when installed, else gcc)
# Environment: HUNCH_JOBS (default 2), HUNCH_ASAN_DIR (default build/asan).
set -euo pipefail
cd "$(dirname "$0")/.."

compiler=${1:-}
if [ -z "$compiler" ]; then
  if command -v clang++ >/dev/null; then compiler=clang; else compiler=gcc; fi
fi
case "$compiler" in
  clang) export CC=clang CXX=clang++ ;;
  gcc)   export CC=gcc CXX=g++ ;;
  *) echo "sanitize.sh: unknown compiler '$compiler' (gcc or clang)" >&2; exit 2 ;;
esac
jobs=${HUNCH_JOBS:-2}
dir=${HUNCH_ASAN_DIR:-build/asan}

# XNNPACK is a prebuilt Debian library without instrumentation: the reference kernels keep every
# instruction of the core under the sanitizers. RelWithDebInfo: line numbers in the reports at a
# speed the trainer tests can bear. MPI off: OpenMPI's own start-up allocations would read as
# leaks, and the code it runs (train/collective) is the same sums the one-process build checks.
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUNCH_SANITIZE=ON -DHUNCH_MPI=OFF \
  -DHUNCH_XNNPACK=OFF -DHUNCH_TESTS=ON -DHUNCH_FUZZ=OFF >/dev/null
cmake --build "$dir" -j"$jobs"

# detect_leaks: LeakSanitizer at exit. halt_on_error / abort_on_error: the first report ends the
# process with a failure status. The build already uses -fno-sanitize-recover=all; the options
# also cover code built without it.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="report_objects=1"

log="$dir/sanitize-ctest.log"
echo "== native tests under ASan + UBSan + LSan ($compiler, $dir) =="
status=0
ctest --test-dir "$dir" --output-on-failure -j"$jobs" 2>&1 | tee "$log" || status=$?

# A report inside a test that still passed (a child process, a caught abort) fails the run too.
# --output-on-failure shows passing tests' output only in the log files, so read those.
reports=$(grep -El "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer" \
            "$log" "$dir"/Testing/Temporary/LastTest*.log 2>/dev/null || true)
if [ -n "$reports" ]; then
  echo "sanitize.sh: sanitizer reports found in: $reports" >&2
  grep -Eh -A3 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" $reports | head -60 >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "sanitize.sh: tests failed under the sanitizers (see above)" >&2
  exit "$status"
fi
echo "== sanitizers: all native tests passed, no reports =="
