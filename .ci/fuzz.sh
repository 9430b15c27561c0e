#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a bounded time from its seed corpus.
# Any crash, sanitizer report or broken invariant fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${ABYSS_FUZZ_SECONDS:-30}
if ! command -v clang++ >/dev/null || [ ! -e "$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; then
  apt-get update -q && apt-get install -y -q clang libclang-rt-14-dev >/dev/null
fi
bash fuzz/build.sh
for target in cmsg_decode send_encode option_codec address_parse segments coalesce; do
  work=$(mktemp -d)
  cp -r "fuzz/corpus/$target/." "$work/"
  echo "fuzz: $target for ${seconds}s" >&2
  if ! fuzz/bin/$target -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work" 2>"$work/log"; then
    tail -40 "$work/log" >&2
    echo "fuzz: $target found a problem; artifacts in $work" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units" "$work/log" | sed "s/^/fuzz: $target /" >&2
  rm -rf "$work"
done
