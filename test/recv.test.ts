import dgram from 'node:dgram';
import { UDP, type RecvData, type Socket } from '../lib';
import { threadReadiness } from '../lib/native/binding';
import { Peer, type PeerSocket, stopPeers } from './helpers/peer';
import { closeAll, expectRejects, expectTransportError, listen as listenUDP, portOf, settleWithin, sleep } from './helpers/sockets';
import { eachTransport } from './helpers/transports';

let peer: Peer;
let sender: PeerSocket;
beforeAll(async () => {
  peer = await Peer.start();
  sender = await peer.bind('inet', '127.0.0.2');
});
afterAll(() => stopPeers());
afterEach(() => closeAll());

/** Waits (bounded) until the socket holds a datagram (in the kernel, or DgramUDP's queue). */
async function queued(socket: Socket): Promise<void> {
  const end = Date.now() + 1000;
  while (Date.now() < end) {
    if (socket.getstat().kernel.rx_queue > 0) return;
    await sleep(5);
  }
}

const pattern = (length: number, seed = 0): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff));

eachTransport(({ T, listen }) => {
  function server(): { socket: Socket; port: number } {
    const socket = listen(0, { ip: '127.0.0.1' });
    return { socket, port: portOf(socket) };
  }

  describe('recv(socket, 0, timeout): the next whole datagram', () => {
    test('exact bytes, sender address and port, and nothing else in the record', async () => {
      const { socket, port } = server();
      const payload = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0a, 0x0d, 0x00]);
      await sender.send('127.0.0.1', port, payload);
      const got = await T.recv(socket, 0, 3000);
      expect(got).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: payload });
      expect(Buffer.isBuffer(got.data)).toBe(true);
      expect('ancillary' in got).toBe(false);
      expect('truncated' in got).toBe(false);
    });

    test('the sender address is the one it is bound to (127.0.0.2 to 127.0.0.3)', async () => {
      const socket = listen(0, { ip: '127.0.0.3' });
      await sender.send('127.0.0.3', portOf(socket), 'three');
      expect(await T.recv(socket, 0, 3000)).toEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('three') });
    });

    test('a 65507-byte datagram (the IPv4 maximum) arrives whole', async () => {
      const { socket, port } = server();
      const payload = pattern(65507, 3);
      await sender.send('127.0.0.1', port, payload);
      const got = await T.recv(socket, 0, 3000);
      expect(got.data.length).toBe(65507);
      expect(got.data.equals(payload)).toBe(true);
      expect(got.truncated).toBeUndefined();
    });

    test('an empty datagram is a datagram: data of length 0, not a timeout', async () => {
      const { socket, port } = server();
      await sender.send('127.0.0.1', port, Buffer.alloc(0));
      expect(await T.recv(socket, 0, 3000)).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.alloc(0) });
    });

    test('datagrams keep their boundaries and their order', async () => {
      const { socket, port } = server();
      const payloads = ['a', 'bb', 'ccc', '', 'dddd'].map((text) => Buffer.from(text));
      for (const payload of payloads) await sender.send('127.0.0.1', port, payload);
      const got: Buffer[] = [];
      for (let i = 0; i < payloads.length; i++) got.push((await T.recv(socket, 0, 3000)).data);
      expect(got.map(String)).toEqual(['a', 'bb', 'ccc', '', 'dddd']);
    });
  });

  describe('recv(socket, n > 0, timeout): at most n bytes of the next datagram', () => {
    test('a longer datagram gives its first n bytes exactly and truncated: true', async () => {
      const { socket, port } = server();
      const payload = pattern(1000, 1);
      await sender.send('127.0.0.1', port, payload);
      const got = await T.recv(socket, 10, 3000);
      expect(got).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: payload.subarray(0, 10), truncated: true });
    });

    test('the rest of a truncated datagram is discarded: the next recv gets the next datagram', async () => {
      const { socket, port } = server();
      await sender.send('127.0.0.1', port, 'first datagram, long');
      await sender.send('127.0.0.1', port, 'second');
      const first = await T.recv(socket, 5, 3000);
      expect({ data: String(first.data), truncated: first.truncated }).toEqual({ data: 'first', truncated: true });
      const second = await T.recv(socket, 0, 3000);
      expect(second).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('second') });
    });

    test('a datagram of exactly n bytes is whole: no truncated flag', async () => {
      const { socket, port } = server();
      await sender.send('127.0.0.1', port, 'exactly16bytes!!');
      const got = await T.recv(socket, 16, 3000);
      expect(got).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('exactly16bytes!!') });
    });

    test('a shorter datagram is whole: no truncated flag', async () => {
      const { socket, port } = server();
      await sender.send('127.0.0.1', port, 'short');
      const got = await T.recv(socket, 4096, 3000);
      expect(got).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('short') });
    });

    test('n = 1 gives one byte of a large datagram', async () => {
      const { socket, port } = server();
      const payload = pattern(30000, 9);
      await sender.send('127.0.0.1', port, payload);
      const got = await T.recv(socket, 1, 3000);
      expect(got).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: payload.subarray(0, 1), truncated: true });
    });

    test("'buffer' caps what recv(…, 0) returns: the first bytes, truncated: true", async () => {
      const socket = listen(0, { ip: '127.0.0.1', buffer: 4 });
      await sender.send('127.0.0.1', portOf(socket), 'abcdefgh');
      expect(await T.recv(socket, 0, 3000)).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('abcd'), truncated: true });
    });
  });

  describe('timeouts', () => {
    test('timeout 0 polls once: a queued datagram is returned', async () => {
      const { socket, port } = server();
      await sender.send('127.0.0.1', port, 'ready');
      await queued(socket);
      expect(await T.recv(socket, 0, 0)).toEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('ready') });
    });

    test("timeout 0 polls once: nothing queued rejects 'timeout' without waiting", async () => {
      const { socket } = server();
      const outcome = await settleWithin(T.recv(socket, 0, 0), 1000);
      expect(outcome.state).toBe('rejected');
      expectTransportError((outcome as { error: unknown }).error, 'timeout');
    });

    test("a finite timeout rejects 'timeout' once it has passed, not before", async () => {
      const { socket } = server();
      const started = Date.now();
      const error = await expectRejects(() => T.recv(socket, 0, 150), 'timeout', {}, 3000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(error.message).toMatch(/recv/);
    });

    test('a datagram that comes within the timeout resolves the recv', async () => {
      const { socket, port } = server();
      const receiving = T.recv(socket, 0, 3000);
      await sleep(50);
      await sender.send('127.0.0.1', port, 'in time');
      expect(await receiving).toEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('in time') });
    });

    test('a timeout beyond setTimeout\'s limit (2^31 ms) waits instead of firing at once', async () => {
      const { socket, port } = server();
      const receiving = T.recv(socket, 0, 2 ** 31 + 1000);
      expect((await settleWithin(receiving, 300)).state).toBe('pending');
      await sender.send('127.0.0.1', port, 'long wait');
      expect(await settleWithin(receiving, 3000))
        .toEqual({ state: 'fulfilled', value: { address: '127.0.0.2', port: sender.port, data: Buffer.from('long wait') } });
    });

    test('a poll (timeout 0) behind a waiting recv times out and leaves the next datagram to the waiting one', async () => {
      const { socket, port } = server();
      const waiting = T.recv(socket, 0, 3000);
      await expectRejects(() => T.recv(socket, 0, 0), 'timeout', {}, 1000);
      await sender.send('127.0.0.1', port, 'for the first caller');
      expect(await waiting).toEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('for the first caller') });
    });

    test.each([['infinity'], [Infinity]] as const)('%s waits past any short timeout until a datagram comes', async (timeout) => {
      const { socket, port } = server();
      const receiving = T.recv(socket, 0, timeout);
      expect((await settleWithin(receiving, 300)).state).toBe('pending');
      await sender.send('127.0.0.1', port, `waited ${String(timeout)}`);
      const outcome = await settleWithin(receiving, 3000);
      expect(outcome).toEqual({ state: 'fulfilled', value: { address: '127.0.0.2', port: sender.port, data: Buffer.from(`waited ${String(timeout)}`) } });
    });
  });

  describe('several recv waiting on one socket', () => {
    test('are served in call order, one datagram each', async () => {
      const { socket, port } = server();
      const waiting = [T.recv(socket, 0, 3000), T.recv(socket, 0, 3000), T.recv(socket, 0, 'infinity'), T.recv(socket, 0, Infinity)];
      await sleep(20);
      for (const text of ['one', 'two', 'three', 'four']) await sender.send('127.0.0.1', port, text);
      const got = await Promise.all(waiting.map((promise) => settleWithin(promise, 3000)));
      expect(got.map((outcome) => (outcome.state === 'fulfilled' ? String(outcome.value.data) : outcome.state)))
        .toEqual(['one', 'two', 'three', 'four']);
    });

    test('fifty waiting recv get fifty datagrams, one each, in call order', async () => {
      const { socket, port } = server();
      const waiting = Array.from({ length: 50 }, (_, i) => T.recv(socket, i % 2 ? 0 : 8, 5000));
      await sleep(20);
      for (let i = 0; i < 50; i++) await sender.send('127.0.0.1', port, `datagram ${i}`);
      const got = await Promise.all(waiting.map((promise) => settleWithin(promise, 5000)));
      expect(got.map((outcome) => (outcome.state === 'fulfilled' ? String(outcome.value.data) : outcome.state)))
        .toEqual(Array.from({ length: 50 }, (_, i) => (i % 2 ? `datagram ${i}` : `datagram ${i}`.slice(0, 8))));
    });

    test('each keeps its own numBytes', async () => {
      const { socket, port } = server();
      const first = T.recv(socket, 3, 3000);
      const second = T.recv(socket, 0, 3000);
      const third = T.recv(socket, 100, 3000);
      await sleep(20);
      for (const text of ['abcdef', 'ghijkl', 'mnopqr']) await sender.send('127.0.0.1', port, text);
      expect(await first).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('abc'), truncated: true });
      expect(await second).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('ghijkl') });
      expect(await third).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('mnopqr') });
    });

    test('a recv that times out first does not take a datagram from the one behind it', async () => {
      const { socket, port } = server();
      const short = T.recv(socket, 0, 80);
      const long = T.recv(socket, 0, 5000);
      const shortError = await short.then(() => undefined, (e: unknown) => e);
      expectTransportError(shortError, 'timeout');
      await sender.send('127.0.0.1', port, 'for the patient one');
      expect(await long).toEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('for the patient one') });
    });

    test('a timed-out recv does not consume a datagram: a later recv gets it', async () => {
      const { socket, port } = server();
      await expectRejects(() => T.recv(socket, 0, 50), 'timeout');
      await expectRejects(() => T.recv(socket, 0, 0), 'timeout');
      await sender.send('127.0.0.1', port, 'later');
      expect(await T.recv(socket, 0, 3000)).toEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('later') });
    });

    test('a long wait behind a timed-out one still gets datagrams in order', async () => {
      const { socket, port } = server();
      const a = T.recv(socket, 0, 5000);
      const b = T.recv(socket, 0, 60);
      const c = T.recv(socket, 0, 5000);
      expectTransportError(await b.then(() => undefined, (e: unknown) => e), 'timeout');
      await sender.send('127.0.0.1', port, 'x1');
      await sender.send('127.0.0.1', port, 'x2');
      expect(String((await a).data)).toBe('x1');
      expect(String((await c).data)).toBe('x2');
    });
  });

  describe('close and pending recv', () => {
    test("close rejects every pending recv with 'closed' at once", async () => {
      const { socket } = server();
      const pending = [T.recv(socket, 0, 'infinity'), T.recv(socket, 10, 10000), T.recv(socket, 0, Infinity)];
      const outcomes = pending.map((promise) => settleWithin(promise, 200));
      T.close(socket);
      for (const outcome of await Promise.all(outcomes)) {
        expect(outcome.state).toBe('rejected');
        expectTransportError((outcome as { error: unknown }).error, 'closed');
      }
    });

    test("recv on a closed socket rejects 'closed' (a promise, no throw)", async () => {
      const { socket } = server();
      T.close(socket);
      await expectRejects(() => T.recv(socket, 0, 0), 'closed');
      await expectRejects(() => T.recv(socket, 0, 'infinity'), 'closed', {}, 500);
    });

    test("recv after close rejects 'closed' even when a datagram was queued", async () => {
      const { socket, port } = server();
      await sender.send('127.0.0.1', port, 'lost');
      await queued(socket);
      T.close(socket);
      await expectRejects(() => T.recv(socket, 0, 100), 'closed');
    });
  });

  describe('recvBatch', () => {
    test('waits for the first datagram, then returns it with the ones already queued, at most max', async () => {
      const { socket, port } = server();
      const waiting = T.recvBatch(socket, 3, 3000);
      await sleep(20);
      await sender.send('127.0.0.1', port, 'b1');
      const first: RecvData[] = await waiting;
      expect(first.map((d) => String(d.data))).toEqual(['b1']);
      for (const text of ['b2', 'b3', 'b4', 'b5']) await sender.send('127.0.0.1', port, text);
      await queued(socket);
      await sleep(20);
      const batch = await T.recvBatch(socket, 3, 3000);
      expect(batch).toEqual(['b2', 'b3', 'b4'].map((text) => ({ address: '127.0.0.2', port: sender.port, data: Buffer.from(text) })));
      const rest = await T.recvBatch(socket, 3, 3000);
      expect(rest.map((d) => String(d.data))).toEqual(['b5']);
    });

    test("rejects 'timeout' when nothing comes", async () => {
      const { socket } = server();
      await expectRejects(() => T.recvBatch(socket, 4, 50), 'timeout');
    });

    test('large and small datagrams in one batch arrive byte-exact and in order', async () => {
      const socket = listen(0, { ip: '127.0.0.1', recbuf: 1 << 20 });
      const port = portOf(socket);
      // Around the size where a datagram stops being copied and keeps the memory it was read into.
      const sizes = [10, 16383, 16384, 3, 65507, 0, 40000, 1400];
      const payloads = sizes.map((size, seed) => pattern(size, seed));
      for (const payload of payloads) await sender.send('127.0.0.1', port, payload);
      await queued(socket);
      await sleep(20);
      const batch = await T.recvBatch(socket, 64, 3000);
      while (batch.length < payloads.length) batch.push(...(await T.recvBatch(socket, 64, 3000)));
      expect(batch.map((d) => d.data.length)).toEqual(sizes);
      batch.forEach((d, i) => expect(d.data.equals(payloads[i])).toBe(true));
      // A datagram held on to is not overwritten by the ones read after it.
      const held = batch.map((d) => Buffer.from(d.data));
      for (const payload of payloads) await sender.send('127.0.0.1', port, Buffer.from(payload.map((byte) => byte ^ 0xff)));
      for (let i = 0; i < payloads.length; i++) await T.recv(socket, 0, 3000);
      batch.forEach((d, i) => expect(d.data.equals(held[i])).toBe(true));
    });
  });

  describe('ICMP errors on a connected socket', () => {
    test("recv after sending to a closed port rejects 'econnrefused', then the socket works on", async () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      const closed = await peer.closedPort('inet');
      T.connect(socket, '127.0.0.1', closed);
      await T.send(socket, 'knock');
      const error = await expectRejects(() => T.recv(socket, 0, 3000), 'econnrefused');
      expect(error.syscall).toEqual(expect.stringMatching(/^recv/));
      expect(error.message).toMatch(/recv/);
      // The error was reported once; the socket is usable.
      await expectRejects(() => T.recv(socket, 0, 50), 'timeout');
    });
  });
});

describe('UDP: the addon\'s watch', () => {
  test('a loop that waits again as soon as it is served costs no watch call per datagram (on libuv)', async () => {
    const socket = listenUDP(0, { ip: '127.0.0.1' });
    const port = portOf(socket);
    // Count the native side's watch calls; the facade applies the watch cells through them.
    const native = (socket as unknown as { native: { watch(): number } }).native;
    const watch = native.watch;
    let calls = 0;
    native.watch = function (this: typeof native) {
      calls++;
      return watch.call(this);
    };
    // node:dgram sends at once, so each datagram arrives while this loop waits for it.
    const client = dgram.createSocket('udp4');
    try {
      for (let i = 0; i < 100; i++) {
        const next = UDP.recv(socket, 0, 3000);
        client.send(`datagram ${i}`, port, '127.0.0.1');
        expect(String((await next).data)).toBe(`datagram ${i}`);
      }
    } finally {
      client.close();
    }
    // The first wait starts the watch; serving a recv whose caller waits again changes nothing.
    // On the readiness thread (Bun, Deno) the runtime may run the caller's continuation after
    // the hand-over has returned (Node's thread-safe functions do), and it applies the cells
    // itself: one call per datagram at most.
    expect(calls).toBeLessThan(threadReadiness ? 105 : 5);
  });
});
