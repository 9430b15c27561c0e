#!/usr/bin/env bash
# The whole jest suite against an AddressSanitizer + UndefinedBehaviorSanitizer build of the
# addon (clang from Debian). The build is node-gyp's own from binding.gyp, with clang and the
# sanitizer flags added through the environment, so its sources, defines and flags cannot
# drift from the shipped build's. The suite runs twice: on libuv's loop (Node's backend) and on
# the addon's readiness thread (native/loop_thread.cc, the backend of Bun and Deno), which
# ABYSS_TRANSPORT_READINESS=thread selects on Node. Fails on a failing test or on any
# sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if ! command -v clang++ >/dev/null || [ ! -e "$(clang++ -print-file-name=libclang_rt.asan-x86_64.so)" ]; then
  apt-get update -q && apt-get install -y -q clang libclang-rt-14-dev >/dev/null
fi
runtime=$(clang++ -print-file-name=libclang_rt.asan-x86_64.so)

# A copy of the checkout whose build/Release holds the instrumented addon.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$work"
ln -s "$root/node_modules" "$work/node_modules"
cd "$work"
# vptr: node-addon-api's ObjectWrap casts this to the derived class inside its own constructor
# (and node-gyp builds without RTTI, which vptr checks need).
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-sanitize=vptr -shared-libsan"
# ABYSS_CHECKED: a precondition the facade broke stops the process (native/checks.h).
CC=clang CXX=clang++ \
CFLAGS="-g -O1 -fno-omit-frame-pointer $sanitize" CXXFLAGS="-g -O1 -fno-omit-frame-pointer -DABYSS_CHECKED $sanitize" \
LDFLAGS="$sanitize" JOBS=2 \
  npx node-gyp rebuild >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; echo "sanitize: the build failed" >&2; exit 1; }
addon=$work/build/Release/abyss_transport.node
nm -D "$addon" | grep __asan_init >/dev/null || { echo "sanitize: the addon is not instrumented" >&2; exit 1; }

status=0
for readiness in libuv thread; do
  log=$work/sanitize-$readiness.log
  run=0
  ABYSS_TRANSPORT_READINESS=$readiness LD_PRELOAD=$runtime \
  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1:verify_asan_link_order=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    npx jest --json --outputFile="$work/results-$readiness.json" >"$log" 2>&1 || run=$?

  if grep -E "ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer" "$log" >&2; then
    echo "sanitize: sanitizer reports above ($readiness)" >&2
    exit 1
  fi
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`sanitize: ${r.numPassedTests} passed, ${r.numFailedTests} failed under ASan+UBSan, readiness on ${process.argv[2]}`);
    if (r.numTotalTests === 0) process.exit(1);
  ' "$work/results-$readiness.json" "$readiness"
  if [ "$run" -ne 0 ]; then
    tail -60 "$log" >&2
    status=$run
  fi
done
exit "$status"
