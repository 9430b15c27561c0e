import dgram from 'node:dgram';
import path from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { threadId } from 'node:worker_threads';
import { UDP, TransportError, type Socket } from '../lib';
import { closeAll, expectThrows } from './helpers/sockets';
import { DGRAM } from './helpers/transports';

const DIST = path.join(__dirname, '..', 'dist');

/** A worker that adopts the refs it is sent and runs `body` (JS source) with `UDP`, `socket`, `parentPort`. */
function adopter(body: string): Worker {
  return new Worker(
    `const { parentPort } = require('node:worker_threads');
     const { UDP } = require(${JSON.stringify(DIST)});
     parentPort.on('message', async (message) => {
       try {
         const socket = UDP.adopt(message.ref);
         ${body}
       } catch (error) {
         parentPort.postMessage({ error: error.reason ?? String(error), message: error.message });
       }
     });
     parentPort.postMessage({ ready: true });`,
    { eval: true },
  );
}

async function ready(worker: Worker): Promise<void> {
  const [message] = await once(worker, 'message');
  expect(message).toEqual({ ready: true });
}

async function peer(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}

function portOf(socket: Socket): number {
  return (UDP.sockname(socket) as { port: number }).port;
}

const sockets: Socket[] = [];
const workers: Worker[] = [];
const peers: dgram.Socket[] = [];
function open(): Socket {
  const socket = UDP.open(0, { ip: 'loopback' });
  sockets.push(socket);
  return socket;
}

afterEach(async () => {
  closeAll();
  for (const socket of sockets.splice(0)) {
    try {
      UDP.close(socket);
    } catch {
      // Owned by a worker that is gone or still owns it.
    }
  }
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
  for (const socket of peers.splice(0)) socket.close();
});

describe('controllingProcess and adopt', () => {
  test('the worker receives and sends on the handed socket; the old owner gets not_owner', async () => {
    const socket = open();
    const worker = adopter(`
      const datagram = await UDP.recv(socket, 0, 5000);
      await UDP.send(socket, datagram.address, datagram.port, 'echo:' + datagram.data);
      parentPort.postMessage({ got: String(datagram.data), stats: UDP.getstat(socket).recv_cnt });`);
    workers.push(worker);
    await ready(worker);
    const pending = UDP.recv(socket, 0, 5000);
    UDP.controllingProcess(socket, worker);
    await expect(pending).rejects.toMatchObject({ reason: 'not_owner', code: 'NOT_OWNER' });
    await expect(UDP.recv(socket, 0, 0)).rejects.toMatchObject({ reason: 'not_owner' });
    await expect(UDP.send(socket, '127.0.0.1', 9, 'x')).rejects.toMatchObject({ reason: 'not_owner' });
    expect(() => UDP.setopts(socket, { ttl: 3 })).toThrow(expect.objectContaining({ reason: 'not_owner' }));
    expect(() => UDP.close(socket)).toThrow(expect.objectContaining({ reason: 'not_owner' }));
    expect(() => UDP.controllingProcess(socket, worker)).toThrow(expect.objectContaining({ reason: 'not_owner' }));
    // Reading is not changing: getopts, sockname and getstat stay open to everyone.
    expect(UDP.getopts(socket, ['reuseaddr'])).toEqual({ reuseaddr: true });
    expect(UDP.sockname(socket)).toMatchObject({ address: '127.0.0.1', port: portOf(socket) });

    worker.postMessage({ ref: socket.handoff });
    const client = await peer();
    peers.push(client);
    const reply = once(client, 'message');
    client.send('hello', portOf(socket), '127.0.0.1');
    const [message] = await once(worker, 'message');
    expect(message).toEqual({ got: 'hello', stats: 1 });
    const [echoed, from] = await reply;
    expect(String(echoed)).toBe('echo:hello');
    expect(from.port).toBe(portOf(socket));
    expect(UDP.getstat(socket)).toMatchObject({ recv_cnt: 1, recv_oct: 5, send_cnt: 1, send_oct: 10 });
  });

  test('a thread that was never handed the socket cannot adopt it', async () => {
    const socket = open();
    const worker = adopter(`parentPort.postMessage({ adopted: true });`);
    workers.push(worker);
    await ready(worker);
    worker.postMessage({ ref: socket.handoff });
    const [message] = await once(worker, 'message');
    expect(message).toMatchObject({ error: 'not_owner' });
    expect(() => UDP.adopt(socket.handoff)).toThrow(expect.objectContaining({ reason: 'badarg' }));
    expect(() => UDP.adopt({ abyssSocket: -5, carry: [] } as never)).toThrow(expect.objectContaining({ reason: 'badarg' }));
    expect(() => UDP.adopt('nope' as never)).toThrow(TransportError);
  });

  test('an unknown or exited thread is badarg and the socket stays usable', async () => {
    const socket = open();
    expect(() => UDP.controllingProcess(socket, 987654)).toThrow(expect.objectContaining({ reason: 'badarg' }));
    expect(() => UDP.controllingProcess(socket, -1)).toThrow(expect.objectContaining({ reason: 'badarg' }));
    expect(() => UDP.controllingProcess(socket, 'x' as never)).toThrow(expect.objectContaining({ reason: 'badarg' }));
    const worker = new Worker('setTimeout(() => {}, 10)', { eval: true });
    await once(worker, 'exit');
    expect(() => UDP.controllingProcess(socket, worker)).toThrow(expect.objectContaining({ reason: 'badarg' }));
    const client = await peer();
    peers.push(client);
    client.send('still mine', portOf(socket), '127.0.0.1');
    expect(String((await UDP.recv(socket, 0, 2000)).data)).toBe('still mine');
  });

  test('a Worker that had loaded the package and has exited is badarg, as a Worker and as its threadId', async () => {
    const socket = open();
    const worker = adopter('');
    await ready(worker);
    const thread = worker.threadId;
    // Its environment ends after the worker's last turn: the addon remembers the thread as
    // exited then. (Deno's Worker keeps its threadId after 'exit', Node's says -1: the addon's
    // memory of exits is what refuses it there.)
    await worker.terminate();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expectThrows(() => UDP.controllingProcess(socket, worker), 'badarg');
    expectThrows(() => UDP.controllingProcess(socket, thread), 'badarg');
    const client = await peer();
    peers.push(client);
    client.send('still mine', portOf(socket), '127.0.0.1');
    expect(String((await UDP.recv(socket, 0, 2000)).data)).toBe('still mine');
  });

  test("a threadId works once its worker has loaded the package; before, badarg says to pass the Worker or wait, and the Worker works at once", async () => {
    const socket = open();
    // A live worker that has not loaded abyss-transport (yet): nothing can tell its id from a typo.
    const bare = new Worker(`require('node:worker_threads').parentPort.once('message', () => process.exit(0))`, { eval: true });
    workers.push(bare);
    await once(bare, 'online');
    const error = expectThrows(() => UDP.controllingProcess(socket, bare.threadId), 'badarg');
    expect(error.message).toBe(`controllingProcess: thread ${bare.threadId} has not loaded abyss-transport, or has exited: ` +
      'pass the Worker object, or wait until the worker has loaded abyss-transport');
    expect(() => UDP.controllingProcess(socket, 987654)).toThrow(error.message.replace(String(bare.threadId), '987654'));
    // Still this thread's socket.
    const client = await peer();
    peers.push(client);
    client.send('still mine', portOf(socket), '127.0.0.1');
    expect(String((await UDP.recv(socket, 0, 2000)).data)).toBe('still mine');
    // The Worker object is taken at once: its exit is watched, so a socket it never adopts is closed.
    UDP.controllingProcess(socket, bare);
    bare.postMessage('exit');
    await once(bare, 'exit');
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.closed).toBe(true);

    // Once the worker has loaded the package (it says so), its threadId is enough.
    const second = open();
    const worker = adopter(`
      const datagram = await UDP.recv(socket, 0, 5000);
      parentPort.postMessage({ got: String(datagram.data) });`);
    workers.push(worker);
    await ready(worker);
    UDP.controllingProcess(second, worker.threadId);
    worker.postMessage({ ref: second.handoff });
    client.send('to the worker', portOf(second), '127.0.0.1');
    expect((await once(worker, 'message'))[0]).toEqual({ got: 'to the worker' });
  });

  test('a worker terminated while it waits closes its sockets and disturbs nothing else', async () => {
    const socket = open();
    const bystander = open();
    const worker = adopter(`parentPort.postMessage({ waiting: true }); await UDP.recv(socket, 0, 'infinity');`);
    workers.push(worker);
    await ready(worker);
    UDP.controllingProcess(socket, worker);
    worker.postMessage({ ref: socket.handoff });
    expect((await once(worker, 'message'))[0]).toEqual({ waiting: true });
    await worker.terminate();
    expect(socket.closed).toBe(true);
    expect(() => UDP.getopts(socket, ['recbuf'])).toThrow(expect.objectContaining({ reason: 'closed' }));
    const client = await peer();
    peers.push(client);
    client.send('unharmed', portOf(bystander), '127.0.0.1');
    expect(String((await UDP.recv(bystander, 0, 2000)).data)).toBe('unharmed');
  });

  test('a socket handed to a worker that exits before adopting it is closed', async () => {
    const socket = open();
    const worker = new Worker(`require('node:worker_threads').parentPort.once('message', () => process.exit(0))`, { eval: true });
    workers.push(worker);
    await once(worker, 'online');
    UDP.controllingProcess(socket, worker);
    worker.postMessage('exit');
    await once(worker, 'exit');
    await new Promise((resolve) => setImmediate(resolve));
    expect(socket.closed).toBe(true);
  });

  test('reads racing the new owner closing the socket fail closed, never with a system error', async () => {
    const worker = adopter(`UDP.close(socket); parentPort.postMessage({ closed: true });`);
    workers.push(worker);
    await ready(worker);
    const reasons = new Set<string>();
    let reads = 0;
    for (let round = 0; round < 40; round++) {
      const socket = open();
      UDP.controllingProcess(socket, worker);
      worker.postMessage({ ref: socket.handoff });
      // Spin on the calls any thread may make while the worker adopts and closes: some land
      // before the close, some after, and some between this thread's check and its system call.
      const deadline = Date.now() + 5000;
      while (!socket.closed && Date.now() < deadline) {
        for (const read of [
          () => UDP.sockname(socket),
          () => UDP.getstat(socket),
          () => UDP.getopts(socket, ['recbuf', { raw: { level: 1, option: 8, length: 4 } }]),
        ]) {
          reads++;
          try {
            read();
          } catch (error) {
            reasons.add((error as TransportError).reason);
          }
        }
      }
      expect(socket.closed).toBe(true);
      expect((await once(worker, 'message'))[0]).toEqual({ closed: true });
    }
    expect(reads).toBeGreaterThan(40);
    expect([...reasons].filter((reason) => reason !== 'closed')).toEqual([]);
  });

  test('a hand-over under traffic loses and duplicates no datagram', async () => {
    const socket = open();
    UDP.setopts(socket, { recbuf: 1 << 20 });
    const worker = adopter(`
      const seen = [];
      for (;;) {
        try {
          seen.push(String((await UDP.recv(socket, 0, 300)).data));
        } catch (error) {
          if (error.reason === 'timeout') break;
          throw error;
        }
      }
      parentPort.postMessage({ seen });`);
    workers.push(worker);
    await ready(worker);
    const client = await peer();
    peers.push(client);
    const total = 2000;
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        client.send(`n${i}`, portOf(socket), '127.0.0.1');
        if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const mine: string[] = [];
    while (mine.length < 300) mine.push(String((await UDP.recv(socket, 0, 2000)).data));
    UDP.controllingProcess(socket, worker);
    expect(socket.handoff.carry.length).toBeGreaterThanOrEqual(0);
    worker.postMessage({ ref: socket.handoff });
    await sending;
    const [{ seen }] = await once(worker, 'message');
    const all = [...mine, ...seen];
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total);
    expect(all).toEqual(Array.from({ length: total }, (_, i) => `n${i}`));
  });

  test('datagrams read ahead travel with the ref through postMessage: each delivered once, in order, as Buffers', async () => {
    const socket = open();
    const worker = adopter(`
      const seen = [];
      for (let i = 0; i < 14; i++) {
        const d = await UDP.recv(socket, 0, 3000);
        seen.push({ text: String(d.data), buffer: Buffer.isBuffer(d.data), port: d.port, address: d.address });
      }
      parentPort.postMessage({ seen });`);
    workers.push(worker);
    await ready(worker);
    const client = await peer();
    peers.push(client);
    const port = portOf(socket);
    const sendAll = async (texts: string[]) => {
      for (const text of texts) await new Promise((resolve) => client.send(text, port, '127.0.0.1', resolve));
    };
    await sendAll(Array.from({ length: 10 }, (_, i) => `early${i}`));
    // One recv reads the ten ahead: nine wait in this thread's queue.
    expect(String((await UDP.recv(socket, 0, 2000)).data)).toBe('early0');
    UDP.controllingProcess(socket, worker);
    expect(socket.handoff.carry).toHaveLength(9);
    worker.postMessage({ ref: socket.handoff });
    await sendAll(Array.from({ length: 5 }, (_, i) => `late${i}`));
    const [message] = await once(worker, 'message');
    const clientPort = client.address().port;
    expect(message).toEqual({
      seen: [...Array.from({ length: 9 }, (_, i) => `early${i + 1}`), ...Array.from({ length: 5 }, (_, i) => `late${i}`)]
        .map((text) => ({ text, buffer: true, port: clientPort, address: '127.0.0.1' })),
    });
  });
});

describe('DgramUDP: a node:dgram socket stays in the thread that made it', () => {
  test('controllingProcess to another thread and adopt are enotsup, to its own thread nothing; bad owners are badarg; the socket stays usable', async () => {
    const socket = DGRAM.open(0, { ip: 'loopback' });
    const worker = new Worker('require("node:worker_threads").parentPort.once("message", () => {})', { eval: true });
    workers.push(worker);
    await once(worker, 'online');
    expectThrows(() => DGRAM.T.controllingProcess(socket, worker), 'enotsup');
    expectThrows(() => DGRAM.T.controllingProcess(socket, worker.threadId), 'enotsup');
    expectThrows(() => DGRAM.T.adopt({ abyssSocket: 1, carry: [] } as never), 'enotsup');
    // Where UDP stands for DgramUDP, the token a program posts is enotsup, not undefined.
    expectThrows(() => (socket as unknown as { handoff: unknown }).handoff, 'enotsup');
    expect(DGRAM.T.controllingProcess(socket, threadId)).toBeUndefined();
    expectThrows(() => DGRAM.T.controllingProcess(socket, -1), 'badarg');
    expectThrows(() => DGRAM.T.controllingProcess(socket, 'x' as never), 'badarg');
    const exited = new Worker('setTimeout(() => {}, 10)', { eval: true });
    await once(exited, 'exit');
    expectThrows(() => DGRAM.T.controllingProcess(socket, exited), 'badarg');
    const client = await peer();
    peers.push(client);
    client.send('still mine', (socket.sockname() as { port: number }).port, '127.0.0.1');
    expect(String((await DGRAM.T.recv(socket, 0, 2000)).data)).toBe('still mine');
  });
});
