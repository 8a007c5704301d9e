#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for FUZZ_SECONDS each, growing a
# working corpus seeded from tests/fuzz/corpus/<name>/ (kept in build-fuzz/).
set -euo pipefail
build=${1:-build-fuzz}
secs=${FUZZ_SECONDS:-60}
src=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); name=${name#fuzz_}
  work="$build/corpus/$name"; mkdir -p "$work"
  echo "== fuzzing $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -max_len=4096 "$work" "$src/corpus/$name"; then
    echo "!! $name found a crash (see crash-* files)"; status=1
  fi
done
exit $status
