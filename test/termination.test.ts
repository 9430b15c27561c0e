/**
 * The addon's C++ exception policy (binding.gyp: node-addon-api's CPP_EXCEPTIONS_ALL and
 * SWALLOW_UNTHROWABLE_EXCEPTIONS; native calls report failures as data): a worker terminated
 * in any call of the package ends only that worker, and a C++ exception inside a native call
 * is an Error in JavaScript, never an abort. Each runs in a process of its own.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.join(__dirname, 'scripts', 'terminate.js');

function run(mode: string): { status: number | null; signal: string | null; result: unknown; stderr: string } {
  const child = spawnSync(process.execPath, [SCRIPT, mode], { encoding: 'utf8', timeout: 60000 });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  return { status: child.status, signal: child.signal, result: line ? JSON.parse(line) : undefined, stderr: child.stderr.slice(-400) };
}

test('24 workers, each terminated in the middle of sends, batches, receives, options and closes: the process lives on', () => {
  expect(run('workers')).toEqual({ status: 0, signal: null, result: { terminated: 24 }, stderr: '' });
});

test('a C++ exception inside a native call (std::length_error) is an Error, and the socket is still open', () => {
  expect(run('allocation')).toEqual({ status: 0, signal: null, result: { thrown: true, open: true }, stderr: '' });
});
