/**
 * A socket that something waits on (a pending recv, an async iterator, active mode, a send
 * waiting for room) stays open whatever the program holds, as a libuv handle keeps a
 * node:dgram socket; only one nothing waits on may be collected (test/leaks.test.ts).
 * Each shape runs in a process of its own with forced collections (test/scripts/lifetime.js).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.join(__dirname, 'scripts', 'lifetime.js');

async function shape(name: string): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--expose-gc', SCRIPT, name], { timeout: 60000 });
  return stdout.trim() === '' ? 'the process exited without an answer' : JSON.parse(stdout);
}

test.each(['recv', 'forAwait', 'active', 'recvBatch', 'polled'])(
  'a server waiting in %s, referenced by nothing else, answers after forced collections',
  async (name) => {
    expect(await shape(name)).toEqual({ first: 'ping', second: 'ping' });
  },
);

test('sends waiting for room in a full unix queue, by a socket nothing else references, all go out in order', async () => {
  expect(await shape('waitingSends')).toEqual({ received: 2000, inOrder: true, done: true });
});
