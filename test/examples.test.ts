import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const examples = path.join(__dirname, '..', 'examples');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startEchoServer } = require(path.join(examples, 'multihomed-echo.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startServer } = require(path.join(examples, 'multicore-server.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { receivePolled } = require(path.join(examples, 'polled-receiver.js'));
// The build the examples load ('..'), so that its sockets are the ones the example takes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { UDP } = require(path.join(__dirname, '..'));

test('the multi-homed echo server answers from the address each datagram was sent to, echoing TTL and TOS', async () => {
  const server = startEchoServer(0);
  try {
    const { stdout } = await run('python3', [
      path.join(__dirname, 'peers', 'multihomed_client.py'), String(server.port), '127.0.0.2:17:32', '127.0.0.3:42:72',
    ]);
    expect(JSON.parse(stdout)).toEqual([
      { data: 'to 127.0.0.2', from: '127.0.0.2', port: server.port, ttl: 17, tos: 32 },
      { data: 'to 127.0.0.3', from: '127.0.0.3', port: server.port, ttl: 42, tos: 72 },
    ]);
  } finally {
    await server.stop();
  }
});

test('the multi-core server spreads load over its workers, loses and duplicates nothing, and stops cleanly', async () => {
  const server = await startServer({ workers: 2, handlerModule: path.join(examples, 'upper-handler.js') });
  const clients = await Promise.all(Array.from({ length: 16 }, async () => {
    const client = dgram.createSocket('udp4');
    client.bind(0, '127.0.0.1');
    await once(client, 'listening');
    return client;
  }));
  const replies = new Map<string, number>();
  const perWorker = [0, 0];
  for (const client of clients) {
    client.on('message', (message) => {
      const [worker, body] = String(message).split(':');
      perWorker[Number(worker)]++;
      replies.set(body, (replies.get(body) ?? 0) + 1);
    });
  }
  // A moderate rate is one the server keeps up with however slow this build is (ASan):
  // rounds of 100, each sent once the previous one was answered, so the kernel never has
  // cause to drop and any loss is the server's.
  const total = 1600;
  const answered = async (count: number) => {
    for (const deadline = Date.now() + 10000; replies.size < count && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  for (let i = 0; i < total; i++) {
    clients[i % clients.length].send(`m${i}`, server.port, '127.0.0.1');
    if (i % 100 === 99) await answered(i + 1);
  }
  // In flight when the stop comes: answered before the workers close their sockets.
  for (let i = total; i < total + 64; i++) clients[i % clients.length].send(`m${i}`, server.port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, 20));
  const handled: number[] = await server.stop();
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (const client of clients) client.close();

  expect(handled.reduce((a, b) => a + b, 0)).toBe(total + 64);
  expect(replies.size).toBe(total + 64);
  expect([...replies.values()].every((count) => count === 1)).toBe(true);
  expect(replies.get('M0')).toBe(1);
  // SO_REUSEPORT hashes each client to one socket: with 16 clients both workers get some.
  expect(perWorker[0]).toBeGreaterThan(0);
  expect(perWorker[1]).toBeGreaterThan(0);
  expect(perWorker).toEqual(handled);
});

test('the polled receiver sleeps a period after a batch, so what comes meanwhile is one read, and serves a lone datagram at once', async () => {
  const period = 500;
  const socket = UDP.listen(0, { ip: 'loopback' });
  const port = UDP.sockname(socket).port;
  const client = dgram.createSocket('udp4');
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  const send = (text: string) => new Promise((resolve) => client.send(text, port, '127.0.0.1', resolve));
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const batches: { texts: string[]; at: number }[] = [];
  const batchCount = async (count: number) => {
    for (const deadline = Date.now() + 10000; batches.length < count && Date.now() < deadline;) await pause(2);
  };

  for (let i = 0; i < 10; i++) await send(`a${i}`);
  await pause(50);
  const done = receivePolled(socket, (batch: { data: Buffer }[]) => {
    batches.push({ texts: batch.map((datagram) => String(datagram.data)), at: Date.now() });
  }, { periodMs: period });
  await batchCount(1);
  // While it sleeps: ten datagrams, 5 ms apart, all before the period ends.
  for (let i = 0; i < 10; i++) {
    await send(`b${i}`);
    await pause(5);
  }
  await batchCount(2);
  // Quiet now; after its period it waits for readiness again. A lone datagram is served at
  // once, and so is the next: a batch of one does not make it sleep.
  await pause(period + 100);
  await send('c0');
  await batchCount(3);
  const sent = Date.now();
  await send('c1');
  await batchCount(4);
  UDP.close(socket);
  client.close();
  const { datagrams, reads } = await done;

  expect(batches.map((batch) => batch.texts)).toEqual([
    Array.from({ length: 10 }, (_, i) => `a${i}`),
    Array.from({ length: 10 }, (_, i) => `b${i}`),
    ['c0'],
    ['c1'],
  ]);
  expect({ datagrams, reads }).toEqual({ datagrams: 22, reads: 4 });
  expect(batches[3].at - sent).toBeLessThan(period / 2);
});
