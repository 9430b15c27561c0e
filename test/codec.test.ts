import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The pure native parts, compiled on their own (no Node, no sockets) and run on crafted buffers.
const root = path.join(__dirname, '..');
const directory = mkdtempSync(path.join(os.tmpdir(), 'abyss-codec-'));
const binary = path.join(directory, 'codec_test');
execFileSync(process.env.CXX ?? 'g++', [
  '-std=c++17', '-O1', '-g', '-Wall', '-Werror', '-Wno-missing-field-initializers', '-o', binary,
  path.join(root, 'test/native/codec_test.cc'), path.join(root, 'native/cmsg.cc'), path.join(root, 'native/options.cc'),
], { stdio: 'inherit' });
const cases = execFileSync(binary, ['--list'], { encoding: 'utf8' }).trim().split('\n');

afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('native codec', () => {
  test('has cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });
  test.each(cases)('%s', (name) => {
    const run = spawnSync(binary, [name], { encoding: 'utf8' });
    expect(run.stdout.trim()).toBe('');
    expect(run.status).toBe(0);
  });
});
