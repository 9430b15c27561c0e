#!/usr/bin/env bash
# The linux-arm64 prebuild, cross-compiled with Debian's aarch64 toolchain
# (`npm run prebuild:arm64`) in a copy of the checkout, so the checkout's own build/ stays.
# It cannot run here: checks that it is a stripped ELF64 aarch64 shared object that needs
# nothing beyond libc, libm, libstdc++ and libgcc_s, then puts it in prebuilds/linux-arm64/
# of the checkout, where .ci/pack.sh takes it into the tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export JOBS=2  # node-gyp's make
fail() { echo "arm64: $*" >&2; exit 1; }

if ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v aarch64-linux-gnu-strip >/dev/null; then
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends g++-aarch64-linux-gnu >/dev/null
fi
aarch64-linux-gnu-g++ --version | head -1 >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$work"
ln -s "$root/node_modules" "$work/node_modules"
cd "$work"
npm run prebuild:arm64 >"$work/build.log" 2>&1 || { tail -60 "$work/build.log" >&2; fail "npm run prebuild:arm64 failed"; }

shopt -s nullglob
built=(prebuilds/linux-arm64/*.node)
[ "${#built[@]}" -eq 1 ] || fail "expected one prebuild in prebuilds/linux-arm64, found ${#built[@]}"
addon=${built[0]}
[ "$(basename "$addon")" = abyss-transport.glibc.node ] || fail "unexpected name $addon"
[ -z "$(ls prebuilds | grep -vx linux-arm64)" ] || fail "the cross build wrote other prebuilds: $(ls prebuilds)"

echo "arm64: $addon, $(stat -c %s "$addon") bytes" >&2
description=$(file -b "$addon")
echo "arm64: file: $description" >&2
case $description in
  *"ELF 64-bit LSB shared object, ARM aarch64"*", stripped"*) ;;
  *) fail "not a stripped ELF64 aarch64 shared object" ;;
esac
readelf -h "$addon" >"$work/header.txt"
grep -E 'Class:|Type:|Machine:' "$work/header.txt" | sed 's/^ */arm64: /' >&2
grep -Eq 'Class:[[:space:]]+ELF64$' "$work/header.txt" || fail "not ELF64"
grep -Eq 'Type:[[:space:]]+DYN ' "$work/header.txt" || fail "not a shared object"
grep -Eq 'Machine:[[:space:]]+AArch64$' "$work/header.txt" || fail "not AArch64"

readelf -d "$addon" >"$work/dynamic.txt"
needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' "$work/dynamic.txt")
[ -n "$needed" ] || fail "no NEEDED entries (is it dynamically linked?)"
for lib in $needed; do
  case $lib in
    libc.so.6|libstdc++.so.6|libm.so.6|libgcc_s.so.1|ld-linux-aarch64.so.1) echo "arm64: NEEDED $lib" >&2 ;;
    *) fail "links against unexpected $lib" ;;
  esac
done
# The newest symbol versions it asks of glibc and libstdc++ (the oldest distribution it loads on).
for prefix in GLIBC_ GLIBCXX_ CXXABI_; do
  newest=$(aarch64-linux-gnu-objdump -T "$addon" | grep -o "${prefix}[0-9.]*" | sort -uV | tail -1 || true)
  echo "arm64: needs ${newest:-no ${prefix%_} symbols}" >&2
done

mkdir -p "$root/prebuilds"
rm -rf "$root/prebuilds/linux-arm64"
cp -r prebuilds/linux-arm64 "$root/prebuilds/"
echo "arm64: prebuilds/linux-arm64/$(basename "$addon") is an aarch64 shared object needing only $(echo $needed | sed 's/ /, /g')"
