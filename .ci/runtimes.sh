#!/usr/bin/env bash
# The package under Bun or Deno, each pinned and from the npm registry (@oven/bun-linux-x64,
# @deno/linux-x64-glibc: a binary in a package), with jest itself running under that runtime
# (--runInBand: every test in the runtime's own process, and what a test starts with
# process.execPath is that runtime too) over the whole suite. The addon runs there natively,
# its sockets heard through its readiness thread (native/loop_thread.cc): Bun and Deno give
# addons no libuv loop that works. The node:dgram transport's half of the suite runs too.
# Every failure must be one that .ci/runtimes.js lists as impossible under that runtime, with
# why; a listed test that passes fails the run too. Prints `<runtime> <version>: N passed,
# N failed (N of them listed …)`.
#   bash .ci/runtimes.sh bun|deno
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runtime=$1
fail() { echo "runtimes: $*" >&2; exit 1; }

BUN=1.4.5
DENO=2.9.6

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case "$runtime" in
  bun)
    version=$BUN
    (cd "$work" && npm pack --silent "@oven/bun-linux-x64@$BUN" >/dev/null && tar xzf "oven-bun-linux-x64-$BUN.tgz")
    bin=$work/package/bin/bun
    [ "$("$bin" --version)" = "$BUN" ] || fail "@oven/bun-linux-x64@$BUN is not Bun $BUN"
    jest=("$bin" node_modules/jest/bin/jest.js)
    ;;
  deno)
    version=$DENO
    (cd "$work" && npm pack --silent "@deno/linux-x64-glibc@$DENO" >/dev/null && tar xzf "deno-linux-x64-glibc-$DENO.tgz")
    bin=$work/package/deno
    "$bin" --version | grep -qx "deno $DENO (stable, release, x86_64-unknown-linux-gnu)" || fail "@deno/linux-x64-glibc@$DENO is not Deno $DENO"
    jest=("$bin" run --allow-all node_modules/jest/bin/jest.js)
    ;;
  *) fail "usage: $0 bun|deno" ;;
esac

log=$work/jest.log
status=0
# --forceExit: under Bun, jest does not exit by itself after the last test even when every
# socket is closed, which the same suite on Node does.
(cd "$root" && "${jest[@]}" --runInBand --forceExit --json --outputFile="$work/results.json" >"$log" 2>&1) || status=$?
[ -f "$work/results.json" ] || { tail -40 "$log" >&2; fail "jest under $runtime $version wrote no results"; }
node .ci/runtimes.js "$work/results.json" "$runtime" "$version"
