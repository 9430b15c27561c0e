#!/usr/bin/env bash
# The ways a package reaches a project without its install script running, and from git.
# Each installs into an empty project and runs .ci/smoke.js (a round trip and more, through
# the public API), which checks the process mapped the addon it must use:
#  1. npm install --ignore-scripts <tarball>: the prebuild, found at run time;
#  2. pnpm (pinned, from the npm registry), which runs no dependency's build script unless
#     the project allows it ("Ignored build scripts"): the prebuild;
#  3. npm's allowScripts (npm 11): an unreviewed package's script still runs, with a warning;
#     denied with `npm install-scripts deny`, it is skipped and the prebuild loads at run time;
#  4. npm install git+file://<a fresh clone>: npm runs `prepare` (dist/ from TypeScript, with
#     the devDependencies) and, as a clone holds no prebuild, the install script compiles the
#     addon: build/Release is what loads;
#  5. where no prebuild fits and nothing can compile (the tarball without its prebuilds, every
#     compiler failing): the install script fails to build, warns, and the install succeeds;
#     importing gives isNative false, why, and a node:dgram round trip.
# The tarball of .ci/pack.sh serves 1-3 and 5.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
root=$PWD
fail() { echo "install-ways: $*" >&2; exit 1; }
export JOBS=2  # node-gyp's make, for the git install

PNPM=10.34.9  # pnpm 11+ hands over to a native binary it fetches; 10 is the JavaScript one

tarball=$root/$(node -p 'const p = require("./package.json"); `${p.name}-${p.version}.tgz`')
[ -f "$tarball" ] || fail "no $tarball: run .ci/pack.sh first"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# An empty project directory.
project() {
  mkdir "$work/$1"
  printf '{ "name": "%s", "version": "1.0.0", "private": true }\n' "$1" >"$work/$1/package.json"
  echo "$work/$1"
}
smoke() {  # <project> <the .node it must load, relative to the installed package>
  local installed=$1/node_modules/abyss-transport
  [ -f "$installed/dist/index.js" ] || fail "$1: the installed package has no dist/index.js"
  node .ci/smoke.js "$installed" "$installed/$2" >"$work/smoke.log" 2>&1 || { cat "$work/smoke.log" >&2; fail "$1: the smoke test failed"; }
  sed -n 's/^smoke: node .*, loaded /loaded /p' "$work/smoke.log"
}
prebuild=prebuilds/linux-x64/abyss-transport.glibc.node

# 1. npm --ignore-scripts.
app=$(project ignore-scripts)
(cd "$app" && npm install --no-audit --no-fund --ignore-scripts --foreground-scripts "$tarball" >"$work/1.log" 2>&1) \
  || { tail -20 "$work/1.log" >&2; fail "npm install --ignore-scripts failed"; }
! grep -q '^> node-gyp-build ' "$work/1.log" || fail "--ignore-scripts ran the install script"
echo "install-ways: npm install --ignore-scripts: $(smoke "$app" "$prebuild")"

# 2. pnpm.
(cd "$work" && npm pack --silent "pnpm@$PNPM" >/dev/null && mkdir pnpm-cli && tar xzf "pnpm-$PNPM.tgz" -C pnpm-cli --strip-components=1)
app=$(project pnpm)
(cd "$app" && node "$work/pnpm-cli/bin/pnpm.cjs" add --store-dir "$work/pnpm-store" "$tarball" >"$work/2.log" 2>&1) \
  || { tail -20 "$work/2.log" >&2; fail "pnpm add failed"; }
grep -q 'Ignored build scripts' "$work/2.log" || { cat "$work/2.log" >&2; fail "pnpm did not say it skipped the install script"; }
[ ! -e "$app/node_modules/abyss-transport/build" ] || fail "pnpm built the addon"
echo "install-ways: pnpm $PNPM add (build scripts ignored): $(smoke "$app" "$prebuild")"

# 3. npm's allowScripts: unreviewed, then denied.
app=$(project allow-scripts)
(cd "$app" && npm install --no-audit --no-fund --foreground-scripts "$tarball" >"$work/3.log" 2>&1) \
  || { tail -20 "$work/3.log" >&2; fail "npm install failed"; }
grep -q 'npm warn install-scripts' "$work/3.log" || { cat "$work/3.log" >&2; fail "npm did not warn about the unreviewed install script"; }
grep -q '^> node-gyp-build ' "$work/3.log" || { cat "$work/3.log" >&2; fail "the unreviewed install script did not run"; }
echo "install-ways: npm $(npm --version), install script unreviewed (runs, with a warning): $(smoke "$app" "$prebuild")"
(cd "$app" && npm install-scripts deny abyss-transport >"$work/3-deny.log" 2>&1 && rm -rf node_modules \
  && npm install --no-audit --no-fund --foreground-scripts >"$work/3-again.log" 2>&1) \
  || { tail -20 "$work/3-deny.log" "$work/3-again.log" >&2; fail "npm install-scripts deny, then npm install, failed"; }
grep -q '"allowScripts"' "$app/package.json" || fail "npm install-scripts deny wrote no allowScripts"
! grep -q '^> node-gyp-build ' "$work/3-again.log" || fail "the denied install script ran"
echo "install-ways: npm, install script denied (allowScripts false, skipped): $(smoke "$app" "$prebuild")"

# 4. From git: a fresh clone of this checkout's HEAD, installed by URL.
git clone --quiet "$root" "$work/repo"
app=$(project git)
start=$SECONDS
(cd "$app" && npm install --no-audit --no-fund --foreground-scripts "git+file://$work/repo" >"$work/4.log" 2>&1) \
  || { tail -40 "$work/4.log" >&2; fail "npm install git+file:// failed"; }
seconds=$((SECONDS - start))
grep -q '^> npm run build:dist$' "$work/4.log" || { tail -40 "$work/4.log" >&2; fail "the git install did not run prepare"; }
[ ! -e "$app/node_modules/abyss-transport/prebuilds" ] || fail "the git install has prebuilds: they are not in git"
echo "install-ways: npm install git+file:// (prepare built dist/, the addon compiled) in ${seconds}s: $(smoke "$app" build/Release/abyss_transport.node)"

# 5. No prebuild fits, nothing compiles.
mkdir "$work/bare"
tar xzf "$tarball" -C "$work/bare"
rm -r "$work/bare/package/prebuilds"
tar czf "$work/bare.tgz" -C "$work/bare" package
shims=$work/shims
mkdir "$shims"
for tool in cc gcc g++ c++ make cmake; do
  printf '#!/bin/sh\necho "%s: no compiler here" >&2\nexit 1\n' "$tool" >"$shims/$tool"
  chmod +x "$shims/$tool"
done
app=$(project no-compiler)
printf '{ "name": "no-compiler", "version": "1.0.0", "private": true, "allowScripts": { "abyss-transport": true } }\n' >"$app/package.json"
(cd "$app" && PATH="$shims:$PATH" CC="$shims/cc" CXX="$shims/c++" \
  npm install --no-audit --no-fund --foreground-scripts "$work/bare.tgz" >"$work/5.log" 2>&1) \
  || { tail -40 "$work/5.log" >&2; fail "the install failed where the addon cannot be built"; }
grep -q 'gyp ERR!' "$work/5.log" || { tail -40 "$work/5.log" >&2; fail "node-gyp did not try (and fail) to build"; }
grep -q 'abyss-transport: the addon was not built here' "$work/5.log" || { tail -40 "$work/5.log" >&2; fail "the install did not warn"; }
(cd "$app" && node -e '
  const assert = require("node:assert");
  const { UDP, DgramUDP, isNative, nativeUnavailable } = require("abyss-transport");
  assert.strictEqual(isNative, false);
  assert.strictEqual(UDP, DgramUDP);
  assert.match(nativeUnavailable.message, /No native build was found/);
  (async () => {
    const a = UDP.open(0, { ip: "127.0.0.1" }), b = UDP.open(0, { ip: "127.0.0.1" });
    await UDP.send(a, "127.0.0.1", UDP.sockname(b).port, "fallback");
    assert.strictEqual(String((await UDP.recv(b, 0, 5000)).data), "fallback");
    UDP.close(a);
    UDP.close(b);
    console.log(`isNative false (${nativeUnavailable.cause.message.split("\n")[0]}); a node:dgram round trip`);
  })().catch((e) => { console.error(e); process.exit(1); });
' >"$work/5-run.log" 2>&1) || { cat "$work/5-run.log" >&2; fail "importing after a failed build did not fall back"; }
echo "install-ways: no prebuild, no compiler: installs with a warning; $(cat "$work/5-run.log")"
