/**
 * A socket that something waits on (a pending recv, an async iterator, active mode, a send
 * waiting for room) stays open whatever the program holds, as a libuv handle keeps a
 * node:dgram socket; only one nothing waits on may be collected (test/leaks.test.ts).
 * Each shape runs in a process of its own with forced collections (test/scripts/lifetime.js).
 */
import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { eachTransport } from './helpers/transports';

const run = promisify(execFile);
const SCRIPT = path.join(__dirname, 'scripts', 'lifetime.js');
const REF_SCRIPT = path.join(__dirname, 'scripts', 'ref.js');

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

  describe("ref() and unref(), node:dgram's meaning", () => {
    /** Starts ref.js; resolves its port once its socket waits, and its exit. */
    async function waiter(mode: string, waiting: string) {
      const child = spawn(process.execPath, [REF_SCRIPT, mode, waiting], { env: { ...process.env, ABYSS_TRANSPORT: name } });
      const exited = once(child, 'exit');
      const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const { port } = JSON.parse((await lines.next()).value);
      return { child, port: port as number, exited, next: async () => JSON.parse((await lines.next()).value) };
    }

    test.each(['recv', 'active'])("unref'd, a socket waiting in %s lets the process exit", async (waiting) => {
      const { child, exited } = await waiter('unref', waiting);
      // Bounded, and killed after, so that a child that does not exit fails this test and is not left running.
      let timer: NodeJS.Timeout | undefined;
      const stillRunning = new Promise((resolve) => { timer = setTimeout(resolve, 10000, 'still running'); });
      try {
        expect(await Promise.race([exited, stillRunning])).toEqual([0, null]);
      } finally {
        clearTimeout(timer);
        child.kill();
      }
    });

    test.each([['referenced', 'recv'], ['referenced', 'active'], ['unrefRef', 'recv']])('%s, a socket waiting in %s keeps the process alive until its datagram', async (mode, waiting) => {
      const { child, port, exited, next } = await waiter(mode, waiting);
      let ended = false;
      void exited.then(() => { ended = true; });
      // Long enough for an unreferenced loop to have ended (the unref'd cases exit at once).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(ended).toBe(false);
      const sender = dgram.createSocket('udp4');
      sender.send('wake', port, '127.0.0.1');
      try {
        expect(await next()).toEqual({ got: 'wake' });
        expect(await exited).toEqual([0, null]);
      } finally {
        sender.close();
        child.kill();
      }
    });
  });
});
