#!/usr/bin/env bash
# Fuzzes the IDX and .npz readers with libFuzzer under AddressSanitizer and UBSan, each for a
# bounded time, on a copy of the seed corpus (the repository is not modified). Fails on any
# finding; prints how many inputs each fuzzer ran clean.
#
#   tests/fuzz/run.sh [SECONDS_PER_FUZZER]      (default 30; build folder: $FUZZ_BUILD or build-fuzz)
#
# Needs clang and libFuzzer: Debian's clang, libfuzzer-14-dev (and libclang-rt-14-dev).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-30}
build=${FUZZ_BUILD:-$root/build-fuzz}
cxx=${FUZZ_CXX:-clang++}

# -O1 -g1: the optimisation libFuzzer's documentation suggests, line tables for the reports, half
# the compile time of -O2 -g.
cmake --no-warn-unused-cli -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DAUTOGRAD_FUZZ=ON \
  -DAUTOGRAD_BUILD_TUTORIALS=OFF -DAUTOGRAD_BUILD_BENCH=OFF -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target idx_fuzzer npz_fuzzer >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/fuzz-findings"
status=0
for reader in idx npz; do
  cp -r "$root/tests/fuzz/corpus/$reader" "$work/$reader"
  log="$build/fuzz-findings/$reader.log"
  # -malloc_limit_mb: a single allocation over 512 MiB from inputs of at most 4 KiB is a finding.
  if "$build/tests/fuzz/${reader}_fuzzer" "$work/$reader" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
       -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
       -artifact_prefix="$build/fuzz-findings/$reader-" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz $reader: ${runs:-?} inputs in ${seconds} s, no finding"
  else
    echo "fuzz $reader: FINDING (log: $log; input saved under $build/fuzz-findings/)" >&2
    grep -E "ERROR|SUMMARY|==[0-9]+==|terminate|what\(\)" "$log" | head -20 >&2 || true
    status=1
  fi
done
exit "$status"
