#!/usr/bin/env bash
# The published package, checked the way a user gets it:
#  1. `npm ci` and `npm pack` in a clean copy of the checkout (prepack builds dist/ and both
#     prebuilds, linux-x64 and linux-arm64 with Debian's cross compiler, in one step);
#  2. the tarball holds exactly the whitelist: compiled JS and .d.ts, the ESM entry, both
#     prebuilds, binding.gyp and native/ (the fallback build), examples/, README, BENCHMARK,
#     CONTRIBUTING, LICENSE, package.json; and every relative link of its Markdown files
#     names a file in it (and every #anchor a heading of that file);
#  3. installed into an empty project where every compiler, make and cmake fail and log
#     their use, with the package's install script approved (npm's allowScripts) so that
#     node-gyp-build really runs, it installs without compiling, and a UDP round trip runs
#     from CommonJS (require) and from ESM (import), on the prebuild;
#  4. a .ts (CommonJS) and a .mts (ESM) consumer type-check against it (module nodenext),
#     written as a new TypeScript user writes (a socket's methods, typed events, the family's
#     address shapes, the hand-over token, RecvArena, coalesce), and the facade's internals
#     are not in the published .d.ts.
# The tarball is left in the checkout (abyss-transport-<version>.tgz, where `npm pack` puts
# it) for the steps after this one: glibc-floor.sh, arm64.sh, install-ways.sh, node-versions.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export JOBS=2  # node-gyp's make

if ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v aarch64-linux-gnu-strip >/dev/null; then
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends g++-aarch64-linux-gnu >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "pack: $*" >&2; exit 1; }

# 1. A fresh checkout: tracked files only, its own node_modules.
src=$work/src
mkdir "$src"
git ls-files -z | xargs -0 cp --parents -t "$src"
cd "$src"
npm ci --no-audit --no-fund >"$work/ci.log" 2>&1 || { tail -40 "$work/ci.log" >&2; fail "npm ci failed"; }
mkdir "$work/out"
npm pack --pack-destination "$work/out" >"$work/pack.log" 2>&1 || { tail -40 "$work/pack.log" >&2; fail "npm pack failed"; }
tarball=$(ls "$work"/out/*.tgz)
cp "$tarball" "$root/"

# 2. What the tarball holds.
tar tzf "$tarball" | sort >"$work/contents.txt"
echo "pack: $(basename "$tarball"), $(stat -c %s "$tarball") bytes, $(wc -l <"$work/contents.txt") files:" >&2
sed 's/^/  /' "$work/contents.txt" >&2
node - "$work/contents.txt" "$root" <<'CHECK'
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const files = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n');
const tracked = execFileSync('git', ['-C', process.argv[3], 'ls-files'], { encoding: 'utf8' }).trim().split('\n');
const problems = [];
const allowed = [
  /^package\/(package\.json|README\.md|BENCHMARK\.md|CONTRIBUTING\.md|LICENSE|binding\.gyp)$/,
  /^package\/dist\/((dgram|native)\/)?index\.(mjs|d\.mts)$/,
  /^package\/prebuilds\/linux-(x64|arm64)\/abyss-transport\.glibc\.node$/,
];
const libs = tracked.filter((f) => /^lib\/.+\.ts$/.test(f) && !f.endsWith('.d.ts')).map((f) => f.slice(4, -3));
for (const name of libs) allowed.push(new RegExp(`^package/dist/${name.replace(/\//g, '\\/')}\\.(js|d\\.ts)$`));
const natives = tracked.filter((f) => /^native\/[^/]+\.(cc|h)$/.test(f));
const examples = tracked.filter((f) => /^examples\/[^/]+\.js$/.test(f));
for (const f of [...natives, ...examples]) allowed.push(new RegExp(`^package/${f.replace(/\./g, '\\.')}$`));
for (const f of files) if (!allowed.some((re) => re.test(f))) problems.push(`not in the whitelist: ${f}`);
const required = [
  'package.json', 'README.md', 'BENCHMARK.md', 'CONTRIBUTING.md', 'LICENSE', 'binding.gyp',
  ...['', 'dgram/', 'native/'].flatMap((n) => [`dist/${n}index.mjs`, `dist/${n}index.d.mts`]),
  'prebuilds/linux-x64/abyss-transport.glibc.node',
  'prebuilds/linux-arm64/abyss-transport.glibc.node',
  ...libs.flatMap((n) => [`dist/${n}.js`, `dist/${n}.d.ts`]),
  ...natives,
  ...examples,
];
for (const f of required) if (!files.includes(`package/${f}`)) problems.push(`missing: ${f}`);
if (problems.length) {
  console.error(problems.map((p) => `pack: ${p}`).join('\n'));
  process.exit(1);
}
CHECK
tar xzf "$tarball" -C "$work" package

# The Markdown shipped links only to what ships: a reader of node_modules/abyss-transport (or
# of the API reference, which copies what README.md links to) finds every file it names.
node - "$work/package" <<'LINKS'
const fs = require('node:fs');
const path = require('node:path');
const root = process.argv[2];
const withoutCode = (text) => text.replace(/^```[\s\S]*?^```$/gm, '');
// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
const slug = (heading) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
const anchors = (file) => new Set([...withoutCode(fs.readFileSync(file, 'utf8')).matchAll(/^#+ (.+)$/gm)].map(([, h]) => slug(h)));
const problems = [];
let links = 0;
for (const name of fs.readdirSync(root).filter((f) => f.endsWith('.md'))) {
  const text = withoutCode(fs.readFileSync(path.join(root, name), 'utf8'));
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // https:, mailto:
    links++;
    const [where, anchor] = target.split('#');
    const file = path.resolve(root, where || name);
    if (!file.startsWith(`${root}${path.sep}`) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      problems.push(`${name} links to ${target}, which the package does not hold`);
    } else if (anchor !== undefined && !anchors(file).has(anchor)) {
      problems.push(`${name} links to ${target}: ${path.basename(file)} has no such heading`);
    }
  }
}
if (problems.length) {
  console.error(problems.map((p) => `pack: ${p}`).join('\n'));
  process.exit(1);
}
console.error(`pack: the ${links} relative links of the package's Markdown resolve in it`);
LINKS
file -b "$work/package/prebuilds/linux-x64/abyss-transport.glibc.node" | tee "$work/file.txt" >&2
grep -q 'ELF 64-bit LSB shared object, x86-64' "$work/file.txt" || fail "the linux-x64 prebuild is not an x86-64 shared object"
grep -q ', stripped' "$work/file.txt" || fail "the linux-x64 prebuild is not stripped"
readelf -d "$work/package/prebuilds/linux-x64/abyss-transport.glibc.node" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/pack: linux-x64 NEEDED \1/p' >&2

# 3. An empty project where nothing can compile.
shims=$work/shims
shimlog=$work/shims.log
mkdir "$shims"
: >"$shimlog"
for tool in cc gcc g++ c++ cpp clang clang++ make gmake cmake ninja ld gcc-12 g++-12 \
            x86_64-linux-gnu-gcc x86_64-linux-gnu-g++ aarch64-linux-gnu-gcc aarch64-linux-gnu-g++; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\necho "%s: no compiler here" >&2\nexit 1\n' "$tool" "$shimlog" "$tool" >"$shims/$tool"
  chmod +x "$shims/$tool"
done
export PATH="$shims:$PATH" CC="$shims/cc" CXX="$shims/c++"
[ "$(command -v g++)" = "$shims/g++" ] && ! make --version >/dev/null 2>&1 || fail "the compiler shims are not in effect"
: >"$shimlog"

app=$work/app
mkdir "$app"
cd "$app"
printf '{ "name": "abyss-consumer", "version": "1.0.0", "private": true, "allowScripts": { "abyss-transport": true } }\n' >package.json
npm install --no-audit --no-fund --prefer-offline --foreground-scripts "$tarball" >"$work/install.log" 2>&1 \
  || { tail -40 "$work/install.log" >&2; sed 's/^/pack: shim called: /' "$shimlog" >&2; fail "npm install of the tarball failed"; }
grep -q '^> node-gyp-build ' "$work/install.log" || { cat "$work/install.log" >&2; fail "the install script did not run"; }
if [ -s "$shimlog" ]; then
  cat "$shimlog" >&2
  fail "installing ran a compiler or make"
fi
installed=$app/node_modules/abyss-transport
[ -f "$installed/package.json" ] || fail "abyss-transport is not installed"
[ ! -e "$installed/build" ] || fail "installing compiled the addon (build/ exists)"
prebuild=$installed/prebuilds/linux-x64/abyss-transport.glibc.node

# The same round trip from each module system: UDP is what `require` or `import` gave.
cat >roundtrip-common.cjs <<'COMMON'
const assert = require('node:assert');
const fs = require('node:fs');

exports.roundTrip = async function roundTrip(UDP, label, expectedAddon) {
  const server = UDP.listen(0, { ip: '127.0.0.1' });
  const client = UDP.open(0, { ip: '127.0.0.1' });
  const { port } = UDP.sockname(server);
  const payload = Buffer.from([0, 1, 2, 0xfe, 0xff, ...Buffer.from(`from ${label}`)]);
  await UDP.send(client, '127.0.0.1', port, payload);
  const got = await UDP.recv(server, 0, 5000);
  assert.deepStrictEqual(got.data, payload);
  await UDP.send(server, got.address, got.port, ['pong ', Buffer.from(label)]);
  assert.strictEqual(String((await UDP.recv(client, 0, 5000)).data), `pong ${label}`);
  UDP.close(server);
  UDP.close(client);
  const addons = fs.readFileSync('/proc/self/maps', 'utf8').split('\n')
    .map((l) => l.split(/\s+/)[5]).filter((p) => p && p.endsWith('.node'));
  assert.deepStrictEqual([...new Set(addons)], [expectedAddon]);
  console.log(`${label} round trip: ${payload.length} bytes there and back, on ${addons[0]}`);
};
COMMON

cat >roundtrip.cjs <<'CJS'
const { UDP } = require('abyss-transport');
require('./roundtrip-common.cjs').roundTrip(UDP, 'CommonJS', process.argv[2]).catch((e) => {
  console.error(e);
  process.exit(1);
});
CJS

cat >roundtrip.mjs <<'MJS'
import assert from 'node:assert';
import { createRequire } from 'node:module';
import abyss, { UDP, Socket, TransportError, DgramUDP } from 'abyss-transport';
import * as namespace from 'abyss-transport';
import { roundTrip } from './roundtrip-common.cjs';

// One instance for both: the ESM entry re-exports the CommonJS build, every name of it.
const cjs = createRequire(import.meta.url)('abyss-transport');
assert.strictEqual(abyss, cjs);
assert.strictEqual(UDP, cjs.UDP);
assert.strictEqual(Socket, cjs.Socket);
assert.strictEqual(TransportError, cjs.TransportError);
assert.strictEqual(DgramUDP, cjs.DgramUDP);
assert.deepStrictEqual(Object.keys(namespace).filter((k) => k !== 'default').sort(), Object.keys(cjs).sort(),
  'dist/index.mjs must export exactly the names of dist/index.js');
// The subpaths, each the CommonJS build's instance: the addon's here, and the node:dgram one.
for (const subpath of ['dgram', 'native']) {
  const esm = await import(`abyss-transport/${subpath}`);
  const common = createRequire(import.meta.url)(`abyss-transport/${subpath}`);
  assert.deepStrictEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), Object.keys(common).sort(),
    `dist/${subpath}/index.mjs must export exactly the names of dist/${subpath}/index.js`);
  assert.strictEqual(esm.UDP, subpath === 'native' ? UDP : DgramUDP);
}
assert.strictEqual(abyss.isNative, true, `the prebuild must run here: ${abyss.nativeUnavailable?.message}`);
await roundTrip(UDP, 'ESM', process.argv[2]);
MJS

node roundtrip.cjs "$prebuild" >&2 || fail "the CommonJS round trip failed"
node roundtrip.mjs "$prebuild" >&2 || fail "the ESM round trip failed"

# 4. Types, for a CommonJS (.ts) and an ES module (.mts) consumer.
cat >check.ts <<'TS'
import { UDP, Socket, TransportError, DgramUDP, RecvArena, isNative, nativeUnavailable } from 'abyss-transport';
import type { RecvData, SocketHandoff, SocketInfo, SocketOptions, TransportReason } from 'abyss-transport';
import type { Worker } from 'node:worker_threads';
import abyss = require('abyss-transport');
import fallback = require('abyss-transport/dgram');
import native = require('abyss-transport/native');

export const why: string | undefined = isNative ? undefined : nativeUnavailable?.message;
export const transports: (typeof fallback.UDP | typeof native.UDP)[] = [fallback.UDP, native.UDP];

export async function echo(): Promise<Buffer> {
  const server: Socket = UDP.listen(0, { ip: '127.0.0.1' });
  const info: SocketInfo = UDP.sockname(server);
  const port: number = typeof info === 'object' && 'port' in info ? info.port : 0;
  await abyss.UDP.send(server, '127.0.0.1', port, 'x');
  const got: RecvData = await UDP.recv(server, 0, 1000);
  const options: Partial<SocketOptions> = UDP.getopts(server, ['recbuf']);
  void options;
  const dgram: typeof DgramUDP = DgramUDP;
  void dgram;
  const isError = (e: unknown): e is TransportError => e instanceof TransportError;
  void isError;
  // @ts-expect-error not part of the API: the types are real, not `any`
  UDP.notAFunction();
  // @ts-expect-error the port is a number
  UDP.open('5353');
  return got.data;
}

// What a new TypeScript user writes, under strict: the socket's own methods, its family's
// shapes without narrowing, the hand-over token, RecvArena and the coalesce option.
export async function newcomer(worker: Worker): Promise<number> {
  const socket = UDP.listen(0, { ip: '127.0.0.1', coalesce: { usecs: 1000, packets: 64 } });
  const port: number = UDP.sockname(socket).port;
  const same: number = socket.sockname().port;
  await socket.send('127.0.0.1', port, ['a', Buffer.from('b')]);
  await socket.send({ address: '127.0.0.1', port: same }, 'c');
  const first = await socket.recv(0, 1000, { signal: AbortSignal.timeout(2000) });
  const sender: string = first.address;
  for await (const datagram of socket) {
    const data: Buffer = datagram.data;
    void [sender, data];
    break;
  }
  const arena = new RecvArena({ slots: 8, slotSize: 2048 });
  const count: number = await UDP.recvInto(socket, arena, 0);
  const more: number = await socket.recvInto(arena, 0);
  const bytes: Buffer = arena.data.subarray(arena.offset(0), arena.offset(0) + arena.length(0));
  void [count, more, bytes];
  socket.on('udp', (datagram) => {
    const data: Buffer = datagram.data;
    const from: string = datagram.address;
    // @ts-expect-error the listener's argument is a RecvData, not `any`
    void datagram.msg;
    void [data, from];
  });
  socket.on('udp_error', (error) => {
    const reason: TransportReason = error.reason;
    void reason;
  });
  socket.on('udp_passive', (passive) => void passive.closed);
  const kept: typeof socket = socket.unref().ref();
  void kept;
  const coalesce = socket.getopts(['coalesce']).coalesce;
  void coalesce;
  socket.controllingProcess(worker);
  const handoff: SocketHandoff = socket.handoff;
  worker.postMessage({ handoff });
  // @ts-expect-error the token is opaque
  void handoff.abyssSocket;
  // @ts-expect-error ref() is node:dgram's method now, not the token
  UDP.adopt(socket.ref);
  // @ts-expect-error internal: not in the published .d.ts
  void socket.receive;
  // @ts-expect-error internal: not in the published .d.ts
  void socket.transmit;
  // @ts-expect-error internal: not in the published .d.ts
  void socket.shut;
  // @ts-expect-error internal: not in the published .d.ts
  void socket.native;
  socket.close();
  const local = UDP.listen(0, { ip: { local: '/tmp/abyss-consumer.sock' } });
  // @ts-expect-error a unix socket's name has no port
  void local.sockname().port;
  const path: string = local.sockname().local;
  local.close();
  return path.length;
}
TS
cat >check.mts <<'MTS'
import abyss, { UDP, Socket, TransportError } from 'abyss-transport';
import type { RecvData, Timeout } from 'abyss-transport';
import { UDP as DgramTransport } from 'abyss-transport/dgram';
import { UDP as NativeTransport } from 'abyss-transport/native';

const native: boolean = abyss.isNative;
void [native, DgramTransport.listen, NativeTransport.listen];

const socket: Socket = UDP.open(0, { ip: '127.0.0.1' });
const timeout: Timeout = 'infinity';
const ip = UDP.listen(0, { ip: '127.0.0.1' });
const ipPort: number = ip.sockname().port;
for await (const { data } of ip) void [data.length, ipPort];
ip.on('udp', ({ address }) => void address.length);
ip.close();
const pending: Promise<RecvData> = abyss.UDP.recv(socket, 0, timeout);
void pending;
const isError = (e: unknown): e is TransportError => e instanceof TransportError;
void isError;
// @ts-expect-error not part of the API: the types are real, not `any`
UDP.notAFunction();
// @ts-expect-error the port is a number
UDP.open('5353');
export {};
MTS
cat >tsconfig.json <<JSON
{
  "compilerOptions": {
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "target": "ES2022",
    "strict": true,
    "noEmit": true,
    "skipLibCheck": false,
    "typeRoots": ["$root/node_modules/@types"],
    "types": ["node"]
  },
  "files": ["check.ts", "check.mts"]
}
JSON
node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json --listFiles >"$work/tsc.log" 2>&1 \
  || { cat "$work/tsc.log" >&2; fail "the consumer does not type-check"; }
for declaration in dist/index.d.ts dist/index.d.mts dist/dgram/index.d.ts dist/dgram/index.d.mts dist/native/index.d.ts dist/native/index.d.mts; do
  grep -qxF "$installed/$declaration" "$work/tsc.log" || fail "tsc did not resolve $declaration"
done
echo "pack: the .ts and .mts consumers type-check (dist/index.d.ts and dist/index.d.mts)" >&2
echo "pack: $(basename "$tarball") installs with no compiler and runs from require and import"
