/**
 * A socket that something waits on (a pending recv, an async iterator, active mode, a send
 * waiting for room) stays open whatever the program holds, as a libuv handle keeps a
 * node:dgram socket; only one nothing waits on may be collected (test/leaks.test.ts).
 * Each shape runs in a process of its own with forced collections (test/scripts/lifetime.js).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { eachTransport } from './helpers/transports';

const run = promisify(execFile);
const SCRIPT = path.join(__dirname, 'scripts', 'lifetime.js');

eachTransport(({ name, native }) => {
  async function shape(shapeName: string): Promise<unknown> {
    const { stdout } = await run(process.execPath, ['--expose-gc', SCRIPT, shapeName], { timeout: 60000, env: { ...process.env, ABYSS_TRANSPORT: name } });
    return stdout.trim() === '' ? 'the process exited without an answer' : JSON.parse(stdout);
  }

  // 'polled' is examples/polled-receiver.js, written for UDP's recvBatch.
  test.each(['recv', 'forAwait', 'active', 'recvBatch', ...(native ? ['polled'] : [])])(
    'a server waiting in %s, referenced by nothing else, answers after forced collections',
    async (shapeName) => {
      expect(await shape(shapeName)).toEqual({ first: 'ping', second: 'ping' });
    },
  );

  // Unix datagram sockets, which DgramUDP refuses (test/unix.test.ts).
  if (native) {
    test('sends waiting for room in a full unix queue, by a socket nothing else references, all go out in order', async () => {
      expect(await shape('waitingSends')).toEqual({ received: 2000, inOrder: true, done: true });
    });
  }
});
