/**
 * The package's entries where the addon runs and where it cannot: `abyss-transport` (UDP is
 * the addon's, or DgramUDP with isNative false and the reason), `abyss-transport/dgram`
 * (always DgramUDP) and `abyss-transport/native` (the addon, or the enotsup error saying why
 * not), each from require and from import, resolved through the package's own "exports".
 * Where the addon cannot run the main entry's UDP makes a round trip with a node:dgram socket
 * and refuses, `enotsup`, what only the addon does. test/scripts/entries.js reports the facts
 * from a process of its own: once in this checkout, and in copies of the compiled package
 * (package.json, dist/) whose addon cannot load.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.join(__dirname, '..');
const SCRIPT = path.join(__dirname, 'scripts', 'entries.js');
/** The addon this checkout loads: build/Release, or the prebuild (the copies .ci/node-versions.sh tests). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ADDON: string = require('node-gyp-build').path(ROOT);

interface Thrown { name: string; reason: string; message: string; isTransportError: boolean; cause?: string }
interface Facts {
  runtime: string;
  isNative: boolean;
  nativeUnavailable?: Thrown;
  mainIsDgram: boolean;
  dgramEntryIsDgram: boolean;
  nativeEntry: Thrown | { loaded: true; isMain: boolean };
  dgramLacks?: string[];
  esm: { sameAsRequire: boolean; dgram: boolean };
  esmNative: Thrown | { loaded: true; isMain: boolean };
  roundTrip?: Record<string, unknown>;
  addonOnly?: Record<string, Thrown>;
}

function report(script: string): Promise<Facts> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script], { timeout: 20000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${script} failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Facts);
    });
  });
}

const copies: string[] = [];
/** The compiled package without build/ or prebuilds/, plus what `prepare` puts in it. */
function copyOfPackage(prepare: (dir: string) => void = () => undefined): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'abyss-entries-')), 'abyss-transport');
  copies.push(path.dirname(dir));
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(SCRIPT, path.join(dir, 'entries.js'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  prepare(dir);
  return path.join(dir, 'entries.js');
}

afterAll(() => {
  for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
});

test.each([
  ['no addon at all (another OS or CPU, no compiler): node-gyp-build finds none', () => copyOfPackage(), /No native build was found/],
  ['an addon for another CPU (its ELF header says aarch64): dlopen refuses it', () => copyOfPackage((dir) => {
    fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
    const foreign = fs.readFileSync(ADDON);
    foreign.writeUInt16LE(183, 18); // e_machine: EM_AARCH64
    fs.writeFileSync(path.join(dir, 'build', 'Release', 'abyss_transport.node'), foreign);
  }), /cannot open shared object file/],
])('where the addon cannot run, %s: UDP is DgramUDP, isNative false and says why', async (_name, make, cause) => {
  const facts = await report(make());
  expect(facts.isNative).toBe(false);
  const unavailable = facts.nativeUnavailable!;
  expect(unavailable).toMatchObject({ name: 'TransportError', reason: 'enotsup', isTransportError: true });
  expect(unavailable.message).toMatch(/^abyss-transport: the native addon cannot run here: /);
  expect(unavailable.message).toMatch(cause);
  expect(unavailable.cause).toMatch(cause);
  expect(facts.mainIsDgram).toBe(true);
  expect(facts.dgramEntryIsDgram).toBe(true);
  // abyss-transport/native throws the same error, from require and from import.
  expect(facts.nativeEntry).toEqual(unavailable);
  expect(facts.esmNative).toEqual(unavailable);
  expect(facts.esm).toEqual({ sameAsRequire: true, dgram: true });
  if (process.versions.bun !== undefined) {
    // Bun's node:dgram binds on a later turn of the event loop: DgramUDP's listen cannot return a bound socket.
    for (const outcome of [facts.roundTrip, facts.addonOnly]) {
      expect(outcome).toMatchObject({ reason: 'enotsup', message: expect.stringMatching(/^listen: .*does not bind within the call/) });
    }
    return;
  }
  expect(facts.roundTrip).toEqual({
    atPeer: 'ping from UDP', peerSawPort: true, atUDP: 'pong from node:dgram', from: '127.0.0.1:true', socketClass: 'DgramSocket',
  });
  for (const [what, outcome] of Object.entries(facts.addonOnly!)) {
    expect([what, outcome.reason, outcome.isTransportError]).toEqual([what, 'enotsup', true]);
  }
  expect(Object.keys(facts.addonOnly!).sort()).toEqual(['errorQueue', 'listenRecvttl', 'localSocket', 'sendWithTtl']);
});

test('in this checkout the addon runs (Node, Bun and Deno alike): UDP is the addon\'s, abyss-transport/native is the same, DgramUDP has its every method', async () => {
  const facts = await report(SCRIPT);
  expect(facts).toEqual({
    runtime: process.versions.bun !== undefined ? 'bun' : process.versions.deno !== undefined ? 'deno' : 'node',
    isNative: true,
    mainIsDgram: false,
    dgramEntryIsDgram: true,
    nativeEntry: { loaded: true, isMain: true },
    dgramLacks: [],
    esm: { sameAsRequire: true, dgram: true },
    esmNative: { loaded: true, isMain: true },
  });
});
