import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { eachTransport } from './helpers/transports';

const run = promisify(execFile);
const SCRIPT = path.join(__dirname, 'scripts', 'leaks.js');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function check(name: string, transport = 'UDP'): Promise<any> {
  const { stdout } = await run(process.execPath, ['--expose-gc', SCRIPT, name], { timeout: 120000, env: { ...process.env, ABYSS_TRANSPORT: transport } });
  return JSON.parse(stdout);
}

eachTransport(({ name }) => {
  test('10 000 opens and closes leave no descriptor behind', async () => {
    const { before, after } = await check('openClose', name);
    expect(after).toBe(before);
  });

  test('5 000 timed-out waits leave no descriptor, timer or waiter behind', async () => {
    const result = await check('timedOutWaits', name);
    expect(result).toMatchObject({ timeouts: 5000, next: 'after' });
    expect(result.after).toEqual(result.before);
  });

  test('a datagram the program dropped is collected while its socket stays open', async () => {
    expect(await check('receivedReleased', name)).toEqual({ kept: [], texts: ['waiting', 'batch', 'first', 'second'] });
  });
});

// The addon's receive memory and its sockets' collection (a node:dgram socket is a libuv handle, never collected).
test('memory does not grow over 200 000 datagrams through recv', async () => {
  const { received, heapGrowth, externalGrowth } = await check('recvMemory');
  expect(received).toBe(19968 + 200000);
  // 200 000 datagrams of 100 bytes are 20 MB: growth must be a small fraction of that.
  expect(heapGrowth).toBeLessThan(2 * 1024 * 1024);
  expect(externalGrowth).toBeLessThan(2 * 1024 * 1024);
}, 120000);

test("an unref'd socket nobody references any more is closed by the garbage collector; a referenced one stays open", async () => {
  expect(await check('garbageCollected')).toEqual({ before: true, unreferenced: false, referenced: true, reReferenced: true });
});
