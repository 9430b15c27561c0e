#!/usr/bin/env bash
# The addon built with cmake-js alone (CMakeLists.txt), then the whole jest suite against it.
# Fails on a failing test, or if any test process loaded an addon other than the one
# cmake-js just built (each test file reports what /proc/self/maps holds).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# A copy of the checkout: no build/, no prebuilds/, no dist/ (all untracked).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$work"
ln -s "$root/node_modules" "$work/node_modules"
cd "$work"
if [ -e build ] || [ -e prebuilds ]; then
  echo "cmake: the copy already holds build/ or prebuilds/" >&2
  exit 1
fi

log=$work/cmake.log
if ! CMAKE_BUILD_PARALLEL_LEVEL=2 npm run build:cmake >"$log" 2>&1; then
  tail -60 "$log" >&2
  echo "cmake: cmake-js build failed" >&2
  exit 1
fi
addon=$work/build/Release/abyss_transport.node
if [ ! -f build/CMakeCache.txt ] || [ ! -f "$addon" ] || [ -e build/config.gypi ]; then
  echo "cmake: build/ is not a cmake-js build of the addon" >&2
  exit 1
fi
grep -q '^CMAKE_JS_VERSION' build/CMakeCache.txt || { echo "cmake: not configured by cmake-js" >&2; exit 1; }
resolved=$(node -p 'require("node-gyp-build").path(process.argv[1])' "$work")
if [ "$resolved" != "$addon" ]; then
  echo "cmake: node-gyp-build resolves $resolved, not the cmake-js build" >&2
  exit 1
fi

# Every test file records the addons mapped into its process.
loaded=$work/loaded.txt
cat >"$work/loaded-probe.js" <<'PROBE'
afterAll(() => {
  const fs = require('node:fs');
  const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n');
  const addons = new Set(maps.map((line) => line.split(/\s+/)[5]).filter((p) => p && p.endsWith('.node')));
  for (const addon of addons) fs.appendFileSync(process.env.ABYSS_LOADED_LOG, `${addon}\n`);
});
PROBE

status=0
ABYSS_LOADED_LOG=$loaded npx jest --setupFilesAfterEnv "$work/loaded-probe.js" \
  --json --outputFile="$work/results.json" >"$log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then tail -80 "$log" >&2; fi

[ -f "$work/results.json" ] || { tail -40 "$log" >&2; echo "cmake: jest wrote no results" >&2; exit 1; }
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  console.log(`cmake-js build: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
  if (r.numTotalTests === 0) process.exit(1);
' "$work/results.json"

if [ ! -s "$loaded" ]; then
  echo "cmake: no test process loaded the addon" >&2
  exit 1
fi
if others=$(sort -u "$loaded" | grep -vxF "$addon"); then
  echo "cmake: test processes loaded other addons:" >&2
  echo "$others" >&2
  exit 1
fi
echo "cmake: $(wc -l <"$loaded") test files ran on $addon" >&2
exit "$status"
