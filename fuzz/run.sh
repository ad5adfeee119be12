#!/usr/bin/env bash
# Long libFuzzer runs (clang, ASan+UBSan) of the parsers, growing the corpora kept in the repo.
#   fuzz/run.sh [SECONDS] [TARGET...]     default: 600 s each for smtp imap pop3 mime csv
# Builds build-fuzz/ with clang (GOVMAIL_FUZZ=ON, GOVMAIL_SANITIZE=ON), runs each target for
# SECONDS on its seed corpus fuzz/corpus/<name>, then merges what found new coverage back into it
# (-merge=1 keeps the corpus minimal). A crash stops the run and leaves crash-* files in
# build-fuzz/fuzz-out/<name>/; CI replays the corpora through the fuzz.<name>_corpus tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(smtp imap pop3 mime csv)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
BUILD_DIR="$build" BUILD_TYPE=Release \
  CMAKE_ARGS="-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DGOVMAIL_FUZZ=ON -DGOVMAIL_SANITIZE=ON -DGOVMAIL_BENCH=OFF" \
  BUILD_TARGETS="$(printf 'libfuzzer_%s ' "${targets[@]}")" "$root/scripts/build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
  out="$build/fuzz-out/$t"
  rm -rf "$out" && mkdir -p "$out/new"
  echo "== $t: ${seconds}s"
  (cd "$out" && "$build/fuzz/libfuzzer_$t" -max_total_time="$seconds" -max_len=65536 \
     -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$out/new" "$root/fuzz/corpus/$t" \
     2>&1 | tail -25 | tee "$out/summary.txt")
  "$build/fuzz/libfuzzer_$t" -merge=1 "$root/fuzz/corpus/$t" "$out/new" >/dev/null 2>&1
  echo "== $t: corpus now $(ls "$root/fuzz/corpus/$t" | wc -l) files"
done
