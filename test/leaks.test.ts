import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.join(__dirname, 'scripts', 'leaks.js');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function check(name: string): Promise<any> {
  const { stdout } = await run(process.execPath, ['--expose-gc', SCRIPT, name], { timeout: 120000 });
  return JSON.parse(stdout);
}

test('10 000 opens and closes leave no descriptor behind', async () => {
  const { before, after } = await check('openClose');
  expect(after).toBe(before);
});

test('5 000 timed-out waits leave no descriptor, timer or waiter behind', async () => {
  const result = await check('timedOutWaits');
  expect(result).toMatchObject({ timeouts: 5000, next: 'after' });
  expect(result.after).toEqual(result.before);
});

test('memory does not grow over 200 000 datagrams through recv', async () => {
  const { received, heapGrowth, externalGrowth } = await check('recvMemory');
  expect(received).toBe(19968 + 200000);
  // 200 000 datagrams of 100 bytes are 20 MB: growth must be a small fraction of that.
  expect(heapGrowth).toBeLessThan(2 * 1024 * 1024);
  expect(externalGrowth).toBeLessThan(2 * 1024 * 1024);
}, 120000);

test('a socket nobody references any more is closed by the garbage collector', async () => {
  expect(await check('garbageCollected')).toEqual({ before: true, after: false });
});
