/**
 * The `coalesce` option: readiness held back so that one wakeup serves many datagrams. A
 * Python sender paces datagrams from another process; the tests count the wakeups the facade
 * gets (its readiness callback) and check that every datagram still comes, in order, through
 * recv, recvBatch, for await and active mode.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { UDP, type RecvData, type Socket } from '../lib';
import { closeAll, expectTransportError, listen, portOf } from './helpers/sockets';

afterEach(() => closeAll());

const SENDER = path.join(__dirname, 'peers', 'paced_sender.py');
const DIST = path.join(__dirname, '..', 'dist');

/** Sends `count` datagrams ("0", "1", …) to `port` at `rate` a second from a Python process. */
async function paced(port: number, count: number, rate: number): Promise<void> {
  const child = spawn('python3', [SENDER, String(port), String(count), String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [code] = await once(child, 'exit');
  expect(code).toBe(0);
}

/** Counts the readiness reports the facade gets for `socket` (its wakeups). */
function countWakeups(socket: Socket): { readonly count: number } {
  const target = socket as unknown as { onReady(events: number, errno: number): void };
  const onReady = target.onReady;
  const counter = { count: 0 };
  target.onReady = function (this: typeof target, events: number, errno: number) {
    counter.count++;
    onReady.call(this, events, errno);
  };
  return counter;
}

const inOrder = (texts: string[], count: number): boolean => texts.length === count && texts.every((text, i) => text === String(i));

describe('the option', () => {
  test('is off by default; takes { usecs } and { usecs, packets }; false turns it off; each reads back as set', () => {
    const socket = listen(0, { ip: '127.0.0.1' });
    expect(UDP.getopts(socket, ['coalesce'])).toEqual({ coalesce: false });
    UDP.setopts(socket, { coalesce: { usecs: 250 } });
    expect(UDP.getopts(socket, ['coalesce'])).toEqual({ coalesce: { usecs: 250 } });
    UDP.setopts(socket, { coalesce: { usecs: 1_000_000, packets: 64 } });
    expect(UDP.getopts(socket, ['coalesce'])).toEqual({ coalesce: { usecs: 1_000_000, packets: 64 } });
    UDP.setopts(socket, { coalesce: false });
    expect(UDP.getopts(socket, ['coalesce'])).toEqual({ coalesce: false });
    const other = listen(0, { ip: '127.0.0.1', coalesce: { usecs: 1, packets: 1 } });
    expect(UDP.getopts(other, ['coalesce'])).toEqual({ coalesce: { usecs: 1, packets: 1 } });
  });

  test.each([
    [true], [0], [{}], [{ usecs: 0 }], [{ usecs: 1_000_001 }], [{ usecs: 1.5 }], [{ usecs: '100' }],
    [{ usecs: 100, packets: 0 }], [{ usecs: 100, packets: 65537 }], [{ usecs: 100, window: 3 }], [[100]],
  ])('%j is badarg, saying what it takes, and changes nothing', (value) => {
    const socket = listen(0, { ip: '127.0.0.1', coalesce: { usecs: 300 } });
    try {
      UDP.setopts(socket, { coalesce: value as never });
      throw new Error('accepted');
    } catch (error) {
      expectTransportError(error, 'badarg', { message: /coalesce.*expected false or \{ usecs: 1 to 1000000, packets\?: 1 to 65536 \}/ });
    }
    expect(UDP.getopts(socket, ['coalesce'])).toEqual({ coalesce: { usecs: 300 } });
  });

  test('a value the caller changes afterwards is not the one kept', () => {
    const socket = listen(0, { ip: '127.0.0.1' });
    const value = { usecs: 400 };
    UDP.setopts(socket, { coalesce: value });
    value.usecs = 5;
    const read = UDP.getopts(socket, ['coalesce']).coalesce as { usecs: number };
    read.usecs = 7;
    expect(UDP.getopts(socket, ['coalesce'])).toEqual({ coalesce: { usecs: 400 } });
  });
});

describe('one wakeup serves many datagrams', () => {
  const COUNT = 400;
  const RATE = 4000; // 100 ms of traffic, a datagram every 250 µs

  test.each([
    ['recvBatch(64)', async (socket: Socket, got: string[]) => {
      while (got.length < COUNT) for (const datagram of await UDP.recvBatch(socket, 64, 5000)) got.push(String(datagram.data));
    }],
    ['recv', async (socket: Socket, got: string[]) => {
      while (got.length < COUNT) got.push(String((await UDP.recv(socket, 0, 5000)).data));
    }],
    ['for await', async (socket: Socket, got: string[]) => {
      for await (const datagram of socket) {
        got.push(String(datagram.data));
        if (got.length === COUNT) break;
      }
    }],
    ['active mode', async (socket: Socket, got: string[]) => {
      const done = new Promise<void>((resolve) => {
        socket.on('udp', (datagram: RecvData) => {
          got.push(String(datagram.data));
          if (got.length === COUNT) resolve();
        });
      });
      UDP.setopts(socket, { active: true });
      await done;
    }],
  ])('%s: a 5 ms hold gathers a datagram every 250 µs into a few wakeups, all in order', async (_name, consume) => {
    const socket = listen(0, { ip: '127.0.0.1', coalesce: { usecs: 5000 } });
    const wakeups = countWakeups(socket);
    const got: string[] = [];
    const receiving = consume(socket, got);
    await paced(portOf(socket), COUNT, RATE);
    await receiving;
    expect(inOrder(got, COUNT)).toBe(true);
    // About 20 datagrams a hold: 20 wakeups for 400. Without the hold, one each (checked below).
    expect(wakeups.count).toBeLessThanOrEqual(COUNT / 5);
  });

  test('without the option the same sender wakes the receiver for most datagrams', async () => {
    const socket = listen(0, { ip: '127.0.0.1' });
    const wakeups = countWakeups(socket);
    const got: string[] = [];
    const receiving = (async () => {
      while (got.length < COUNT) for (const datagram of await UDP.recvBatch(socket, 64, 5000)) got.push(String(datagram.data));
    })();
    await paced(portOf(socket), COUNT, RATE);
    await receiving;
    expect(inOrder(got, COUNT)).toBe(true);
    expect(wakeups.count).toBeGreaterThan(COUNT / 5);
  });

  test('packets ends holds sooner: after the first, about that many datagrams a wakeup', async () => {
    const socket = listen(0, { ip: '127.0.0.1', coalesce: { usecs: 20000, packets: 4 } });
    const sizes: number[] = [];
    const got: string[] = [];
    const receiving = (async () => {
      while (got.length < COUNT) {
        const batch = await UDP.recvBatch(socket, 64, 5000);
        sizes.push(batch.length);
        for (const datagram of batch) got.push(String(datagram.data));
      }
    })();
    await paced(portOf(socket), COUNT, RATE);
    await receiving;
    expect(inOrder(got, COUNT)).toBe(true);
    // The first hold runs its 20 ms (about 80 datagrams); the rest are cut near 4 each.
    const later = sizes.slice(1).sort((a, b) => a - b);
    const median = later[Math.floor(later.length / 2)];
    expect(median).toBeGreaterThanOrEqual(2);
    expect(median).toBeLessThanOrEqual(12);
    expect(sizes.length).toBeGreaterThan(COUNT / 20);
  });
});

describe('holding', () => {
  test('a lone datagram waits for the hold: it is not delivered before usecs have passed', async () => {
    const socket = listen(0, { ip: '127.0.0.1', coalesce: { usecs: 200_000 } });
    const sent = process.hrtime.bigint();
    const arrival = UDP.recv(socket, 0, 5000).then(() => Number(process.hrtime.bigint() - sent) / 1e6);
    await paced(portOf(socket), 1, 1000);
    expect(await arrival).toBeGreaterThanOrEqual(199);
  });

  test('turning the option off during a hold delivers what it held now, not when the hold would end', async () => {
    const socket = listen(0, { ip: '127.0.0.1', coalesce: { usecs: 1_000_000 } });
    const wakeups = countWakeups(socket);
    const first = UDP.recv(socket, 0, 'infinity');
    await paced(portOf(socket), 1, 1000);
    // Held: the readiness has not reached the facade. The recv's own timeout is the clock here:
    // the hold would outlast it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(wakeups.count).toBe(0);
    UDP.setopts(socket, { coalesce: false });
    await expect(Promise.race([first, UDP.recv(socket, 0, 600).then(() => 'second')])).resolves.toMatchObject({ data: Buffer.from('0') });
  });

  test('a socket closed during a hold rejects its recv closed and leaves nothing running', async () => {
    const socket = listen(0, { ip: '127.0.0.1', coalesce: { usecs: 1_000_000 } });
    const pending = UDP.recv(socket, 0, 'infinity');
    await paced(portOf(socket), 3, 1000);
    UDP.close(socket);
    await expect(pending).rejects.toMatchObject({ reason: 'closed' });
  });

  test('a worker terminated during a hold exits, and the process lives on', async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { UDP } = require(${JSON.stringify(DIST)});
       const socket = UDP.listen(0, { ip: '127.0.0.1', coalesce: { usecs: 1000000 } });
       UDP.recv(socket, 0, 'infinity').catch(() => {});
       parentPort.postMessage(UDP.sockname(socket).port);`,
      { eval: true },
    );
    const [port] = await once(worker, 'message');
    await paced(port, 5, 1000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(worker.terminate()).resolves.toBe(1);
  });

  test('the option travels with a hand-over, and the adopting thread holds too', async () => {
    const socket = listen(0, { ip: '127.0.0.1', coalesce: { usecs: 5000, packets: 32 } });
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { UDP } = require(${JSON.stringify(DIST)});
       parentPort.once('message', async (handoff) => {
         const socket = UDP.adopt(handoff);
         const option = UDP.getopts(socket, ['coalesce']).coalesce;
         parentPort.postMessage({ ready: true });
         let got = 0, batches = 0;
         while (got < 200) { got += (await UDP.recvBatch(socket, 64, 5000)).length; batches++; }
         parentPort.postMessage({ option, got, batches });
       });`,
      { eval: true },
    );
    try {
      UDP.controllingProcess(socket, worker);
      worker.postMessage(socket.handoff);
      expect((await once(worker, 'message'))[0]).toEqual({ ready: true });
      const answer = once(worker, 'message');
      await paced(portOf(socket), 200, 4000);
      const [result] = await answer;
      expect(result).toMatchObject({ option: { usecs: 5000, packets: 32 }, got: 200 });
      expect(result.batches).toBeLessThanOrEqual(200 / 5);
    } finally {
      await worker.terminate();
    }
  });
});
