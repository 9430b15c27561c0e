/**
 * Every file of examples/ (the README's recipes) run against an independent peer: node:dgram
 * or Python's socket module. Scripts run as a user runs them (`node examples/<file>`, stopped
 * with SIGINT); modules are loaded as the scripts load them, from the compiled package ('..').
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);
const examples = path.join(__dirname, '..', 'examples');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startEchoServer } = require(path.join(examples, 'multihomed-echo.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startServer } = require(path.join(examples, 'multicore-server.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { receivePolled } = require(path.join(examples, 'polled-receiver.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { listenCoalesced, receiveInto } = require(path.join(examples, 'coalesced-receiver.js'));
// The build the examples load ('..'), so that its sockets are the ones the example takes.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { UDP } = require(path.join(__dirname, '..'));

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A node:dgram client on loopback, its replies in arrival order. */
async function dgramClient(): Promise<{ socket: dgram.Socket; replies: { text: string; port: number }[]; send(text: string, port: number): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const replies: { text: string; port: number }[] = [];
  socket.on('message', (message, from) => replies.push({ text: String(message), port: from.port }));
  return {
    socket,
    replies,
    send: (text, port) => new Promise((resolve, reject) => socket.send(text, port, '127.0.0.1', (error) => (error ? reject(error) : resolve()))),
  };
}

async function until(done: () => boolean, ms = 10000): Promise<void> {
  for (const deadline = Date.now() + ms; !done() && Date.now() < deadline;) await pause(2);
}

/** `node examples/<file> 0`, once it printed "listening on 127.0.0.1:<port>"; its later lines as they come. */
async function startScript(file: string): Promise<{ child: ChildProcessWithoutNullStreams; port: number; lines: string[]; stderr: string[] }> {
  const child = spawn(process.execPath, [path.join(examples, file), '0'], { stdio: 'pipe' });
  const lines: string[] = [];
  const stderr: string[] = [];
  child.stderr.on('data', (chunk) => stderr.push(String(chunk)));
  const output = readline.createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    output.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening: ${stderr.join('')}`)));
  });
  const port = Number(/^listening on 127\.0\.0\.1:(\d+)$/.exec(first)?.[1]);
  expect(port).toBeGreaterThan(0);
  output.on('line', (line) => lines.push(line));
  return { child, port, lines, stderr };
}

/** SIGINT, as Ctrl-C sends it; resolves with the exit code (null: killed by the signal). */
async function interrupt(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

describe('Writing a server (examples/server.js)', () => {
  test('answers each client in upper case from its port, and on SIGINT closes the socket, ends its loop and exits 0', async () => {
    const server = await startScript('server.js');
    const a = await dgramClient();
    const b = await dgramClient();
    try {
      await a.send('hello', server.port);
      await b.send('from b', server.port);
      await a.send('again', server.port);
      await until(() => a.replies.length === 2 && b.replies.length === 1);
      expect(a.replies).toEqual([{ text: 'HELLO', port: server.port }, { text: 'AGAIN', port: server.port }]);
      expect(b.replies).toEqual([{ text: 'FROM B', port: server.port }]);
      // The loop ended (it printed 'closed' after it) and nothing kept the process alive.
      expect(await interrupt(server.child)).toBe(0);
      expect(server.lines).toEqual(['closed']);
      expect(server.stderr.join('')).toBe('');
    } finally {
      server.child.kill('SIGKILL');
      a.socket.close();
      b.socket.close();
    }
  });
});

describe.each([
  ['sockets handed over to the workers', true],
  ['each worker listening with reuseport', false],
])('Using several cores (examples/multicore-server.js), %s', (_name, handOver) => {
  test('spreads clients over the workers, each client always to the same one, loses and duplicates nothing, stops cleanly', async () => {
    const server = await startServer({ workers: 2, handlerModule: path.join(examples, 'upper-handler.js'), handOver });
    const clients = await Promise.all(Array.from({ length: 16 }, async () => {
      const client = dgram.createSocket('udp4');
      client.bind(0, '127.0.0.1');
      await once(client, 'listening');
      return client;
    }));
    const replies = new Map<string, number>();
    const perWorker = [0, 0];
    const workersOf = clients.map(() => new Set<number>());
    clients.forEach((client, index) => {
      client.on('message', (message) => {
        const [worker, body] = String(message).split(':');
        perWorker[Number(worker)]++;
        workersOf[index].add(Number(worker));
        replies.set(body, (replies.get(body) ?? 0) + 1);
      });
    });
    // A moderate rate is one the server keeps up with however slow this build is (ASan):
    // rounds of 100, each sent once the previous one was answered, so the kernel never has
    // cause to drop and any loss is the server's.
    const total = 1600;
    for (let i = 0; i < total; i++) {
      clients[i % clients.length].send(`m${i}`, server.port, '127.0.0.1');
      if (i % 100 === 99) await until(() => replies.size >= i + 1);
    }
    // In flight when the stop comes: answered before the workers close their sockets.
    for (let i = total; i < total + 64; i++) clients[i % clients.length].send(`m${i}`, server.port, '127.0.0.1');
    await pause(20);
    const handled: number[] = await server.stop();
    await pause(100);
    for (const client of clients) client.close();

    expect(handled.reduce((a, b) => a + b, 0)).toBe(total + 64);
    expect(replies.size).toBe(total + 64);
    expect([...replies.values()].every((count) => count === 1)).toBe(true);
    expect(replies.get('M0')).toBe(1);
    // SO_REUSEPORT hashes each client's address and port to one socket: with 16 clients both
    // workers get some, and every client hears from one worker only.
    expect(perWorker[0]).toBeGreaterThan(0);
    expect(perWorker[1]).toBeGreaterThan(0);
    expect(perWorker).toEqual(handled);
    expect(workersOf.map((workers) => workers.size)).toEqual(clients.map(() => 1));
  });
});

describe('Answering from the address a datagram came to (examples/multihomed-echo.js)', () => {
  test('sends the received pktinfo back unchanged: each reply comes from the address its datagram was sent to, echoing TTL and TOS', async () => {
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
});

describe('Timestamps (examples/timestamps.js)', () => {
  test("prints each datagram with the kernel's receive time as a date, between the send and the read", async () => {
    const receiver = await startScript('timestamps.js');
    const client = await dgramClient();
    try {
      const before = Date.now();
      await client.send('stamp me', receiver.port);
      await until(() => receiver.lines.length === 1);
      const after = Date.now();
      const [line] = receiver.lines;
      const match = /^(\S+) 127\.0\.0\.1:(\d+) "stamp me", read (\d+) ms later$/.exec(line);
      expect(match).not.toBeNull();
      const [, iso, port, waited] = match!;
      expect(Number(port)).toBe(client.socket.address().port);
      const at = Date.parse(iso);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
      expect(Number(waited)).toBeLessThanOrEqual(after - before);
      expect(await interrupt(receiver.child)).toBe(0);
    } finally {
      receiver.child.kill('SIGKILL');
      client.socket.close();
    }
  });
});

describe('Many datagrams per wakeup (examples/coalesced-receiver.js)', () => {
  test('a hold gathers datagrams paced 2 ms apart into a few reads, each datagram whole and in order, and ends when the socket closes', async () => {
    // A 200 ms hold: the 30 datagrams (60 ms of traffic) come in one read, two if this machine
    // stalls; read as they come, it would be about one read each.
    const socket = listenCoalesced(0, 200_000);
    const got: { text: string; address: string; port: number }[] = [];
    const receiving = receiveInto(socket, (bytes: Buffer, offset: number, length: number, address: string, port: number) => {
      got.push({ text: bytes.toString('latin1', offset, offset + length), address, port });
    });
    const { stdout } = await run('python3', [path.join(__dirname, 'peers', 'paced_sender.py'), String(UDP.sockname(socket).port), '30', '500']);
    expect(JSON.parse(stdout)).toMatchObject({ sent: 30 });
    await until(() => got.length === 30);
    socket.close();
    const totals = await receiving;

    expect(got.map(({ text }) => text)).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    expect(got.every(({ address, port }) => address === '127.0.0.1' && port > 0)).toBe(true);
    expect(totals.datagrams).toBe(30);
    expect(totals.reads).toBeLessThanOrEqual(3);
  });
});

test('the polled receiver sleeps a period after a batch, so what comes meanwhile is one read, and serves a lone datagram at once', async () => {
  const period = 500;
  const socket = UDP.listen(0, { ip: 'loopback' });
  const port = UDP.sockname(socket).port;
  const client = dgram.createSocket('udp4');
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  const send = (text: string) => new Promise((resolve) => client.send(text, port, '127.0.0.1', resolve));
  const batches: { texts: string[]; at: number }[] = [];
  const batchCount = (count: number) => until(() => batches.length >= count);

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
