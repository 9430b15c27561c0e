/**
 * DgramUDP (lib/dgram.ts): the transport contract on node:dgram, against an independent
 * peer on Python's socket module and against itself, on loopback. It loads no native code,
 * and it shows, under Bun and Deno (.ci/runtimes.sh), each way their node:dgram differs.
 * The contract suites run against DgramUDP as well (test/helpers/transports.ts).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { DgramUDP, DgramSocket } from '../lib/dgram';
import { TransportError } from '../lib/errors';
import type { IpSocketInfo, ListenOptions, RecvData, SocketInfo } from '../lib/types';
import { Peer, type PeerSocket, stopPeers } from './helpers/peer';

const U = DgramUDP;
const open = new Set<DgramSocket>();
/**
 * node:dgram sets SO_REUSEADDR (and SO_REUSEPORT) before bind, so on port 0 Linux may give a
 * reusing socket a port that a socket of another test file (jest runs two at once) holds, and
 * it would take that socket's datagrams: a port-0 socket here does not reuse unless the test
 * says so.
 */
function listen(options: ListenOptions = { ip: '127.0.0.1' }, port = 0): DgramSocket {
  const own = port === 0 && options.reuseaddr === undefined && options.reuseport === undefined;
  const socket = U.listen(port, own ? { ...options, reuseaddr: false, reuseport: false } : options);
  open.add(socket);
  return socket;
}
const portOf = (socket: DgramSocket): number => (U.sockname(socket) as { port: number }).port;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(check: () => boolean, limit = 3000): Promise<void> {
  const end = Date.now() + limit;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

function reasonOf(fn: () => unknown): { reason: string; code: string; syscall?: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TransportError);
    const e = error as TransportError;
    return { reason: e.reason, code: e.code, syscall: e.syscall, message: e.message };
  }
  throw new Error('expected a throw');
}

/** The call returns a promise (never throws) that rejects within `limit` ms. */
async function rejection(fn: () => Promise<unknown>, limit = 3000): Promise<TransportError> {
  const promise = fn();
  expect(promise).toBeInstanceOf(Promise);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    promise.then((value) => ({ value }), (error: unknown) => ({ error })),
    new Promise<{ pending: true }>((resolve) => { timer = setTimeout(() => resolve({ pending: true }), limit); }),
  ]);
  clearTimeout(timer);
  if ('pending' in outcome) throw new Error(`still pending after ${limit} ms`);
  if ('value' in outcome) throw new Error(`resolved with ${String(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(TransportError);
  return outcome.error as TransportError;
}

let peer: Peer;
let sender: PeerSocket;
beforeAll(async () => {
  peer = await Peer.start();
  sender = await peer.bind('inet', '127.0.0.2');
});
afterAll(() => stopPeers());
afterEach(() => {
  for (const socket of open) U.close(socket);
  open.clear();
});

describe('listen / open', () => {
  test("ip 'loopback', 'any', a literal; family from the literal; sockname", () => {
    expect(U.sockname(listen({ ip: 'loopback' }))).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(U.sockname(listen({ ip: 'any' }))).toMatchObject({ address: '0.0.0.0', family: 'IPv4' });
    expect(U.sockname(listen({}))).toMatchObject({ address: '0.0.0.0', family: 'IPv4' });
    expect(U.sockname(listen({ ip: '127.0.0.3' }))).toMatchObject({ address: '127.0.0.3', family: 'IPv4' });
    expect(U.sockname(listen({ ip: '::1' }))).toMatchObject({ address: '::1', family: 'IPv6' });
    expect(U.sockname(listen({ ip: 'loopback', family: 'inet6' }))).toMatchObject({ address: '::1', family: 'IPv6' });
    expect(U.sockname(listen({ ip: 'any', family: 'inet6' }))).toMatchObject({ address: '::', family: 'IPv6' });
    const socket = listen();
    expect(portOf(socket)).toBeGreaterThan(0);
    expect(socket).toBeInstanceOf(DgramSocket);
    expect(socket.closed).toBe(false);
    expect(Number.isInteger(socket.fd)).toBe(true);
    expect(socket.fd === -1 || socket.fd > 2).toBe(true);
  });

  test('open is listen; a taken port is eaddrinuse from bind, thrown synchronously', () => {
    const first = U.open(0, { ip: '127.0.0.1', reuseaddr: false, reuseport: false });
    open.add(first);
    const port = portOf(first);
    expect(reasonOf(() => U.open(port, { ip: '127.0.0.1', reuseaddr: false, reuseport: false }))).toMatchObject({ reason: 'eaddrinuse', code: 'EADDRINUSE', syscall: 'bind' });
    // SO_REUSEADDR on the second alone does not share a port the first holds without it.
    expect(reasonOf(() => U.listen(port, { ip: '127.0.0.1' })).reason).toBe('eaddrinuse');
    U.close(first);
    expect(portOf(listen({ ip: '127.0.0.1' }, port))).toBe(port);
  });

  test('reuseaddr (default true) lets two sockets share a port, and reads back', () => {
    const a = U.listen(0, { ip: '127.0.0.1' });
    open.add(a);
    const b = listen({ ip: '127.0.0.1' }, portOf(a));
    expect(portOf(b)).toBe(portOf(a));
    expect(U.getopts(a, ['reuseaddr'])).toEqual({ reuseaddr: true });
    expect(U.getopts(listen({ ip: '127.0.0.1', reuseaddr: false }), ['reuseaddr'])).toEqual({ reuseaddr: false });
  });

  test('reuseport: enotsup where node:dgram has no reusePort; false is always fine', () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    const supported = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
    expect(U.getopts(listen({ ip: '127.0.0.1', reuseport: false }), ['reuseport'])).toEqual({ reuseport: false });
    if (supported) {
      expect(U.getopts(listen({ ip: '127.0.0.1', reuseport: true }), ['reuseport'])).toEqual({ reuseport: true });
    } else {
      expect(reasonOf(() => listen({ ip: '127.0.0.1', reuseport: true })).reason).toBe('enotsup');
    }
  });

  test('options are applied at listen, all checked before the socket is made', () => {
    const socket = listen({ ip: '127.0.0.1', ttl: 33, broadcast: true, recbuf: 65536, buffer: 100 });
    expect(U.getopts(socket, ['ttl', 'broadcast', 'recbuf', 'buffer', 'active', 'mode'])).toEqual({
      ttl: 33, broadcast: true, recbuf: 131072, buffer: 100, active: false, mode: 'binary',
    });
    expect(reasonOf(() => U.listen(0, { ip: '127.0.0.1', ttl: 0 }))).toMatchObject({ reason: 'badarg', message: expect.stringContaining("'ttl'") });
    expect(reasonOf(() => U.listen(0, { ip: '127.0.0.1', gro: true })).reason).toBe('enotsup');
    expect(U.getopts(listen({ ip: '127.0.0.1', active: true }), ['active'])).toEqual({ active: true });
    expect(reasonOf(() => U.listen(0, { ip: '127.0.0.1', ipv6_v6only: true })).reason).toBe('einval');
    expect(U.getopts(listen({ ip: '::', family: 'inet6', ipv6_v6only: true }), ['ipv6_v6only'])).toEqual({ ipv6_v6only: true });
    expect(U.getopts(listen({ ip: '::', family: 'inet6', ipv6_v6only: false }), ['ipv6_v6only'])).toEqual({ ipv6_v6only: false });
  });

  test('what node:dgram cannot open is enotsup; bad arguments are badarg', () => {
    expect(reasonOf(() => U.listen(0, { ip: { local: '/tmp/x' } })).reason).toBe('enotsup');
    expect(reasonOf(() => U.listen(0, { family: 'local' })).reason).toBe('enotsup');
    expect(reasonOf(() => U.listen(0, { ip: '127.0.0.1', netns: '/run/netns/x' })).reason).toBe('enotsup');
    for (const [port, options] of [
      [-1, {}], [65536, {}], [1.5, {}], ['80', {}], [0, { ip: 'nope' }], [0, { ip: '::1', family: 'inet' }],
      [0, { family: 'ipx' }], [0, { ip: 42 }], [0, { fd: -3 }], [0, { inet_backend: 'nope' }], [0, { nope: 1 }],
      [0, { mode: 'list' }], [0, { header: 2 }], [0, null], [0, []],
    ] as [number, ListenOptions][]) {
      expect(reasonOf(() => U.listen(port, options)).reason).toBe('badarg');
    }
  });
});

describe('recv', () => {
  test('the next whole datagram: exact bytes, sender, no ancillary or truncated keys', async () => {
    const socket = listen();
    const payload = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0a]);
    await sender.send('127.0.0.1', portOf(socket), payload);
    const got = await U.recv(socket, 0, 3000);
    expect(got).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: payload });
  });

  test('n > 0: the first n bytes and truncated: true; an exact fit is not truncated', async () => {
    const socket = listen();
    const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    await sender.send('127.0.0.1', portOf(socket), payload);
    await sender.send('127.0.0.1', portOf(socket), 'abc');
    expect(await U.recv(socket, 10, 3000)).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: payload.subarray(0, 10), truncated: true });
    expect(await U.recv(socket, 3, 3000)).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('abc') });
  });

  test('boundaries and order kept; an empty datagram is one; 65507 bytes arrive whole', async () => {
    const socket = listen();
    const port = portOf(socket);
    for (const text of ['a', 'bb', '', 'dddd']) await sender.send('127.0.0.1', port, text);
    const big = Buffer.alloc(65507, 7);
    await sender.send('127.0.0.1', port, big);
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push(String((await U.recv(socket, 0, 3000)).data));
    expect(got).toEqual(['a', 'bb', '', 'dddd']);
    expect((await U.recv(socket, 0, 3000)).data.equals(big)).toBe(true);
  });

  test("'buffer' caps what recv(…, 0) returns", async () => {
    const socket = listen({ ip: '127.0.0.1', buffer: 4 });
    await sender.send('127.0.0.1', portOf(socket), 'abcdefgh');
    expect(await U.recv(socket, 0, 3000)).toMatchObject({ data: Buffer.from('abcd'), truncated: true });
  });

  test('waiters are served in call order, one datagram each; a timed-out one consumes nothing', async () => {
    const socket = listen();
    const port = portOf(socket);
    const first = U.recv(socket, 0, 3000);
    const short = U.recv(socket, 0, 30).catch((error: TransportError) => error);
    const third = U.recv(socket, 0, 3000);
    const timedOut = await short;
    expect(timedOut).toMatchObject({ reason: 'timeout', code: 'TIMEOUT' });
    await sender.send('127.0.0.1', port, 'one');
    await sender.send('127.0.0.1', port, 'two');
    expect(String((await first).data)).toBe('one');
    expect(String((await third).data)).toBe('two');
    await expect(U.recv(socket, 0, 50)).rejects.toMatchObject({ reason: 'timeout' });
  });

  test('timeout 0 polls once: what the kernel holds is returned, else timeout at once', async () => {
    const socket = listen();
    const started = Date.now();
    expect((await rejection(() => U.recv(socket, 0, 0))).reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(200);
    await sender.send('127.0.0.1', portOf(socket), 'held');
    // The peer's sendto returned: the datagram is in our kernel queue (loopback delivers inside it).
    expect(String((await U.recv(socket, 0, 0)).data)).toBe('held');
  });

  test('a timer only when the call has to wait', async () => {
    const socket = listen();
    await sender.send('127.0.0.1', portOf(socket), 'ready');
    await waitUntil(() => U.getstat(socket).kernel.rx_queue > 0);
    const spy = jest.spyOn(global, 'setTimeout');
    try {
      expect(String((await U.recv(socket, 0, 5000)).data)).toBe('ready');
      expect(spy).not.toHaveBeenCalled();
      await expect(U.recv(socket, 0, 20)).rejects.toMatchObject({ reason: 'timeout' });
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  test("'infinity' and Infinity wait; close rejects every pending recv 'closed' at once", async () => {
    const socket = listen();
    const pending = [U.recv(socket, 0, 'infinity'), U.recv(socket, 0, Infinity), U.recvBatch(socket, 5, 10_000)];
    const outcomes = pending.map((promise) => promise.catch((error: TransportError) => error.reason));
    U.close(socket);
    expect(await Promise.all(outcomes)).toEqual(['closed', 'closed', 'closed']);
    expect((await rejection(() => U.recv(socket, 0, 0))).reason).toBe('closed');
  });

  test("an AbortSignal withdraws a waiting recv or recvBatch at once ('aborted'), without consuming a datagram", async () => {
    const socket = listen();
    const controller = new AbortController();
    const aborted = [U.recv(socket, 0, 5000, { signal: controller.signal }), U.recvBatch(socket, 4, 'infinity', { signal: controller.signal })];
    const next = U.recv(socket, 0, 2000);
    setTimeout(() => controller.abort(new Error('stop')), 20);
    for (const promise of aborted) expect((await rejection(() => promise, 500)).reason).toBe('aborted');
    const sender = listen();
    await U.send(sender, '127.0.0.1', portOf(socket), 'kept');
    expect(String((await next).data)).toBe('kept');
    expect((await rejection(() => U.recv(socket, 0, 1000, { signal: AbortSignal.abort() }))).reason).toBe('aborted');
    expect((await rejection(() => U.recvBatch(socket, 2, 1000, { signal: 'x' } as never))).reason).toBe('badarg');
  });

  test('bad arguments reject badarg (no throw)', async () => {
    const socket = listen();
    for (const call of [
      () => U.recv(socket, -1, 0), () => U.recv(socket, 1.5, 0), () => U.recv(socket, 0, -1), () => U.recv(socket, 0, 'soon' as never),
      () => U.recv(socket, 0, NaN), () => U.recv({} as never, 0, 0), () => U.recvBatch(socket, 0, 0), () => U.recvBatch(socket, 'x' as never, 0),
    ]) {
      expect((await rejection(call)).reason).toBe('badarg');
    }
  });

  test('the queue is bounded by SO_RCVBUF; what it drops is counted in kernel.drops', async () => {
    const socket = listen({ ip: '127.0.0.1', recbuf: 4096 });
    const rcvbuf = U.getopts(socket, ['recbuf']).recbuf as number;
    expect(rcvbuf).toBeLessThan(20_000);
    await sender.send('127.0.0.1', portOf(socket), Buffer.alloc(1000, 1), { count: 100 });
    const stats = (): ReturnType<typeof U.getstat> => U.getstat(socket);
    // Every datagram is either waiting in the queue or dropped (by the kernel or the queue).
    await waitUntil(() => stats().kernel.rx_queue / 1000 + stats().kernel.drops >= 100);
    const { rx_queue: held, drops } = stats().kernel;
    expect(held).toBeLessThanOrEqual(rcvbuf);
    expect(held % 1000).toBe(0);
    let received = 0;
    for (;;) {
      try {
        await U.recv(socket, 0, 0);
        received++;
      } catch {
        break;
      }
    }
    expect(received * 1000).toBe(held);
    expect(received + drops).toBe(100);
    expect(received).toBeGreaterThan(0);
    expect(drops).toBeGreaterThan(0);
  });

  test('recvBatch: the first datagram, then what else is queued, at most max', async () => {
    const socket = listen();
    const port = portOf(socket);
    const waiting = U.recvBatch(socket, 3, 3000);
    await sender.send('127.0.0.1', port, 'x', { count: 5 });
    const first = await waiting;
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.length).toBeLessThanOrEqual(3);
    let total = first.length;
    while (total < 5) total += (await U.recvBatch(socket, 3, 3000)).length;
    expect(total).toBe(5);
    for (const record of first) expect(record).toStrictEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('x') });
    await sender.send('127.0.0.1', port, 'y', { count: 4 });
    await waitUntil(() => U.getstat(socket).kernel.rx_queue === 4);
    expect((await U.recvBatch(socket, 10, 0)).map((r: RecvData) => String(r.data))).toEqual(['y', 'y', 'y', 'y']);
  });
});

describe('send', () => {
  let receiver: PeerSocket;
  beforeAll(async () => {
    receiver = await peer.bind('inet', '127.0.0.1');
  });

  test('send/4, send/3 with a destination, send/5 with empty ancillary', async () => {
    const socket = listen();
    await expect(U.send(socket, '127.0.0.1', receiver.port, 'four')).resolves.toBeUndefined();
    expect(await receiver.recv()).toMatchObject({ data: Buffer.from('four'), address: '127.0.0.1', port: portOf(socket) });
    await U.send(socket, { address: '127.0.0.1', port: receiver.port }, Buffer.from('three'));
    expect(String((await receiver.recv()).data)).toBe('three');
    await U.send(socket, { address: '127.0.0.1', family: 'IPv4', port: receiver.port } as IpSocketInfo, 'info');
    expect(String((await receiver.recv()).data)).toBe('info');
    await U.send(socket, '127.0.0.1', receiver.port, {}, 'five');
    expect(String((await receiver.recv()).data)).toBe('five');
  });

  test('nested iodata is one datagram; an array shared twice is fine, a cycle is badarg', async () => {
    const socket = listen();
    const shared = ['ab', new Uint8Array([0x63])];
    await U.send(socket, '127.0.0.1', receiver.port, [shared, [[Buffer.from('-')], [], ''], shared, 'é']);
    const got = await receiver.recv();
    expect(got.data).toEqual(Buffer.from('abc-abcé'));
    const cyclic: unknown[] = ['x'];
    cyclic.push(cyclic);
    expect((await rejection(() => U.send(socket, '127.0.0.1', receiver.port, cyclic as never))).reason).toBe('badarg');
    const many = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + (i % 26)));
    await U.send(socket, '127.0.0.1', receiver.port, many);
    expect(String((await receiver.recv()).data)).toBe(many.join(''));
  });

  test('ancillary data is enotsup (unknown fields badarg); errors are the kernel reasons', async () => {
    const socket = listen();
    expect((await rejection(() => U.send(socket, '127.0.0.1', receiver.port, { ttl: 5 }, 'x'))).reason).toBe('enotsup');
    expect((await rejection(() => U.send(socket, '127.0.0.1', receiver.port, { segmentSize: 100 }, 'x'))).reason).toBe('enotsup');
    expect((await rejection(() => U.send(socket, '127.0.0.1', receiver.port, { colour: 1 } as never, 'x'))).reason).toBe('badarg');
    expect(await rejection(() => U.send(socket, 'x'))).toMatchObject({ reason: 'edestaddrreq', syscall: 'sendmsg' });
    expect(await rejection(() => U.send(socket, '127.0.0.1', receiver.port, Buffer.alloc(70_000)))).toMatchObject({ reason: 'emsgsize', code: 'EMSGSIZE', syscall: 'sendmsg' });
    expect((await rejection(() => U.send(socket, { local: '/tmp/x' }, 'x'))).reason).toBe('eafnosupport');
    expect((await rejection(() => U.send(socket, '::1', 9, 'x'))).reason).toBe('eafnosupport');
    expect((await rejection(() => U.send(socket, 'nope', 9, 'x'))).reason).toBe('nxdomain');
    for (const call of [
      () => U.send(socket, '127.0.0.1:9', 9, 'x'), () => U.send(socket, '127.0.0.1', 70000, 'x'),
      () => U.send(socket, '127.0.0.1', 9, 42 as never), () => U.send(socket, '127.0.0.1', 9, [1] as never),
      () => U.send(socket, 'unspec', 9, 'x'), () => (U.send as (...args: unknown[]) => Promise<void>)(socket),
    ]) {
      expect((await rejection(call)).reason).toBe('badarg');
    }
    await receiver.expectNone(50);
  });

  test('an IPv4 peer of a dual-stack IPv6 socket is written v4-mapped, as inet takes it; an IPv4 literal is eafnosupport', async () => {
    const socket = listen({ ip: '::', family: 'inet6', ipv6_v6only: false });
    expect((await rejection(() => U.send(socket, '127.0.0.1', receiver.port, 'plain'))).reason).toBe('eafnosupport');
    await U.send(socket, '::ffff:127.0.0.1', receiver.port, 'mapped');
    expect(await receiver.recv()).toMatchObject({ data: Buffer.from('mapped'), port: portOf(socket) });
  });

  test('sendBatch: in order, resolves with the count; a bad message sends nothing', async () => {
    const socket = listen();
    const batch = ['a', 'b', ['c', 'd'], ''].map((data) => ({ address: '127.0.0.1', port: receiver.port, data }));
    expect(await U.sendBatch(socket, batch)).toBe(4);
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push(String((await receiver.recv()).data));
    expect(got).toEqual(['a', 'b', 'cd', '']);
    expect(await U.sendBatch(socket, [])).toBe(0);
    const bad = [{ address: '127.0.0.1', port: receiver.port, data: 'ok' }, { address: '127.0.0.1', port: receiver.port, data: 7 }];
    expect((await rejection(() => U.sendBatch(socket, bad as never))).reason).toBe('badarg');
    expect((await rejection(() => U.sendBatch(socket, [{ address: '127.0.0.1', port: receiver.port, data: 'x', extra: 1 }] as never))).reason).toBe('badarg');
    expect((await rejection(() => U.sendBatch(socket, [{ address: '127.0.0.1', port: receiver.port, data: 'x', ancillary: { tos: 1 } }]))).reason).toBe('enotsup');
    expect((await rejection(() => U.sendBatch(socket, [{ port: 9, data: 'x' } as never]))).reason).toBe('edestaddrreq');
    await receiver.expectNone(50);
    const { send_cnt: count, send_oct: bytes } = U.getstat(socket);
    expect({ count, bytes }).toEqual({ count: 4, bytes: 4 });
  });

  test("a closed socket: send and sendBatch reject 'closed'", async () => {
    const socket = listen();
    U.close(socket);
    expect((await rejection(() => U.send(socket, '127.0.0.1', receiver.port, 'x'))).reason).toBe('closed');
    expect((await rejection(() => U.sendBatch(socket, []))).reason).toBe('closed');
  });
});

describe('connect and peername', () => {
  test('fixes the peer: send/2 reaches it, peername names it, others are filtered by the kernel', async () => {
    const client = await peer.bind('inet', '127.0.0.1');
    const stranger = await peer.bind('inet', '127.0.0.1');
    const socket = listen();
    expect(reasonOf(() => U.peername(socket))).toMatchObject({ reason: 'enotconn', syscall: 'getpeername' });
    U.connect(socket, '127.0.0.1', client.port);
    expect(U.peername(socket)).toEqual({ address: '127.0.0.1', family: 'IPv4', port: client.port });
    await U.send(socket, ['con', 'nected']);
    expect(String((await client.recv()).data)).toBe('connected');
    await U.send(socket, '127.0.0.1', client.port, 'same peer, explicit');
    expect(String((await client.recv()).data)).toBe('same peer, explicit');
    expect((await rejection(() => U.send(socket, '127.0.0.1', stranger.port, 'x'))).reason).toBe('enotsup');
    await stranger.send('127.0.0.1', portOf(socket), 'filtered');
    await client.send('127.0.0.1', portOf(socket), 'from the peer');
    expect(String((await U.recv(socket, 0, 3000)).data)).toBe('from the peer');
    // Connecting again moves the peer.
    U.connect(socket, '127.0.0.1', stranger.port);
    expect(U.peername(socket)).toMatchObject({ port: stranger.port });
    await U.send(socket, 'moved');
    expect(String((await stranger.recv()).data)).toBe('moved');
  });

  test('an ICMP port unreachable comes back as econnrefused on the next recv', async () => {
    const socket = listen();
    U.connect(socket, '127.0.0.1', await peer.closedPort());
    await U.send(socket, 'anyone?');
    expect(await rejection(() => U.recv(socket, 0, 2000))).toMatchObject({ reason: 'econnrefused', code: 'ECONNREFUSED' });
  });

  test('a refused connect throws the kernel reason synchronously', () => {
    const socket = listen();
    expect(reasonOf(() => U.connect(socket, '255.255.255.255', 9))).toMatchObject({ reason: 'eacces', syscall: 'connect' });
    expect(reasonOf(() => U.peername(socket)).reason).toBe('enotconn');
    U.setopts(socket, { broadcast: true });
    U.connect(socket, '255.255.255.255', 9);
    expect(U.peername(socket)).toMatchObject({ address: '255.255.255.255', port: 9 });
    expect(reasonOf(() => U.connect(socket, 'nope', 9)).reason).toBe('badarg');
    expect(reasonOf(() => U.connect(socket, '127.0.0.1', -1)).reason).toBe('badarg');
  });
});

describe('getopts / setopts', () => {
  test.each([
    ['broadcast', true, true],
    ['recbuf', 65536, 131072],
    ['sndbuf', 65536, 131072],
    ['ttl', 9, 9],
    ['multicast_ttl', 4, 4],
    ['multicast_loop', false, false],
    ['multicast_if', '127.0.0.1', '127.0.0.1'],
    ['buffer', 1500, 1500],
    ['active', false, false],
    ['mode', 'binary', 'binary'],
    ['reuseaddr', false, false],
  ])('IPv4 %s round-trips', (name, value, readBack) => {
    const socket = listen();
    U.setopts(socket, { [name]: value });
    expect(U.getopts(socket, [name as never])).toEqual({ [name]: readBack });
  });

  test.each([
    ['unicast_hops', 12, 12],
    ['multicast_hops', 3, 3],
    ['multicast_if', 1, 1],
    ['multicast_loop', false, false],
  ])('IPv6 %s round-trips', (name, value, readBack) => {
    const socket = listen({ ip: '::1' });
    U.setopts(socket, { [name]: value });
    expect(U.getopts(socket, [name as never])).toEqual({ [name]: readBack });
  });

  test('defaults read back as the kernel has them', () => {
    const socket = listen();
    expect(U.getopts(socket, ['ttl', 'multicast_ttl', 'multicast_loop', 'multicast_if', 'broadcast', 'buffer'])).toEqual({
      ttl: 64, multicast_ttl: 1, multicast_loop: true, multicast_if: '0.0.0.0', broadcast: false, buffer: 65536,
    });
    expect(U.getopts(socket, [])).toEqual({});
  });

  test('ttl really goes on the wire (the peer reads IP_TTL)', async () => {
    const receiver = await peer.bind('inet', '127.0.0.1');
    const socket = listen();
    U.setopts(socket, { ttl: 7 });
    await U.send(socket, '127.0.0.1', receiver.port, 'ttl');
    expect(await receiver.recv()).toMatchObject({ ttl: 7 });
  });

  test('what node:dgram cannot reach is enotsup; IPv6-only names on IPv4 einval; set-only einval', () => {
    const socket = listen();
    for (const name of ['tos', 'priority', 'gro', 'pktinfo', 'recvttl', 'timestamp', 'segment', 'read_packets', 'coalesce', 'bind_to_device', 'mark'] as const) {
      expect(reasonOf(() => U.getopts(socket, [name])).reason).toBe('enotsup');
    }
    expect(reasonOf(() => U.setopts(socket, { tos: 16 }))).toMatchObject({ reason: 'enotsup', message: expect.stringContaining("'tos'") });
    expect(reasonOf(() => U.setopts(socket, { raw: { level: 1, option: 12, value: Buffer.alloc(4) } })).reason).toBe('enotsup');
    expect(reasonOf(() => U.getopts(socket, [{ raw: { level: 1, option: 12, length: 4 } }])).reason).toBe('enotsup');
    for (const name of ['tclass', 'unicast_hops', 'multicast_hops', 'recvhoplimit', 'ipv6_v6only'] as const) {
      expect(reasonOf(() => U.getopts(socket, [name])).reason).toBe('einval');
    }
    for (const name of ['add_membership', 'drop_membership', 'add_source_membership', 'drop_source_membership'] as const) {
      expect(reasonOf(() => U.getopts(socket, [name]))).toMatchObject({ reason: 'einval', message: expect.stringContaining(name) });
    }
    expect(reasonOf(() => U.getopts(listen({ ip: '::1' }), ['ttl'])).reason).toBe('enotsup');
    expect(reasonOf(() => U.setopts(socket, { reuseaddr: true })).reason).toBe('enotsup');
  });

  test('unknown names and bad values are badarg, naming the option and the value', () => {
    const socket = listen();
    expect(reasonOf(() => U.getopts(socket, ['nope' as never]))).toMatchObject({ reason: 'badarg', message: expect.stringContaining("'nope'") });
    expect(reasonOf(() => U.setopts(socket, { nope: 1 } as never)).reason).toBe('badarg');
    expect(reasonOf(() => U.setopts(socket, { ttl: 256 }))).toMatchObject({ reason: 'badarg', message: expect.stringMatching(/'ttl'.*256/) });
    for (const options of [{ recbuf: 0 }, { broadcast: 1 }, { multicast_if: 'eth0' }, { add_membership: '239.1.2.3' }, { mode: 'list' }, { packet: 2 }, { active: 'twice' }, { ip: '127.0.0.1' }]) {
      expect(reasonOf(() => U.setopts(socket, options as never)).reason).toBe('badarg');
    }
    expect(reasonOf(() => U.setopts(socket, null as never)).reason).toBe('badarg');
    expect(reasonOf(() => U.getopts(socket, 'ttl' as never)).reason).toBe('badarg');
  });

  test('all or nothing: a bad entry, or a kernel refusal, leaves every option as it was', () => {
    const socket = listen({ ip: 'any' });
    expect(reasonOf(() => U.setopts(socket, { ttl: 9, broadcast: true, gro: true })).reason).toBe('enotsup');
    expect(reasonOf(() => U.setopts(socket, { ttl: 9, broadcast: 'yes' as never })).reason).toBe('badarg');
    expect(U.getopts(socket, ['ttl', 'broadcast'])).toEqual({ ttl: 64, broadcast: false });
    expect(reasonOf(() => U.setopts(socket, { ttl: 9, recbuf: 100000, add_membership: ['239.8.8.8', '127.0.0.1'], multicast_if: '127.0.0.1', drop_membership: ['239.9.9.9', '127.0.0.1'] })))
      .toMatchObject({ reason: 'eaddrnotavail', syscall: 'setsockopt', message: expect.stringContaining('drop_membership') });
    expect(U.getopts(socket, ['ttl', 'recbuf', 'multicast_if'])).toEqual({ ttl: 64, recbuf: 212992, multicast_if: '0.0.0.0' });
    // The membership the call made was dropped again: dropping it now is refused.
    expect(reasonOf(() => U.setopts(socket, { drop_membership: ['239.8.8.8', '127.0.0.1'] })).reason).toBe('eaddrnotavail');
  });

  test('IPv4 multicast: a joined group delivers, a left one does not', async () => {
    const receiver = listen({ ip: 'any' });
    const port = portOf(receiver);
    U.setopts(receiver, { add_membership: ['239.7.7.7', '127.0.0.1'] });
    const socket = listen({ ip: '127.0.0.1', multicast_if: '127.0.0.1', multicast_ttl: 1 });
    await U.send(socket, '239.7.7.7', port, 'group');
    expect(String((await U.recv(receiver, 0, 2000)).data)).toBe('group');
    U.setopts(receiver, { drop_membership: ['239.7.7.7', '127.0.0.1'] });
    await U.send(socket, '239.7.7.7', port, 'gone');
    await expect(U.recv(receiver, 0, 100)).rejects.toMatchObject({ reason: 'timeout' });
    U.setopts(receiver, { add_source_membership: ['232.1.1.1', '127.0.0.1', '127.0.0.1'] });
    await U.send(socket, '232.1.1.1', port, 'from the source');
    expect(String((await U.recv(receiver, 0, 2000)).data)).toBe('from the source');
    U.setopts(receiver, { drop_source_membership: ['232.1.1.1', '127.0.0.1', '127.0.0.1'] });
  });
});

describe('getstat', () => {
  test("inet's counters for what recv handed out and send sent; kernel fields from node:dgram and /proc", async () => {
    const socket = listen();
    const port = portOf(socket);
    for (const size of [10, 20, 30]) await sender.send('127.0.0.1', port, Buffer.alloc(size, 1));
    await U.recv(socket, 0, 3000);
    await U.recv(socket, 0, 3000);
    await U.recv(socket, 5, 3000);
    await U.send(socket, '127.0.0.2', sender.port, Buffer.alloc(100));
    await U.send(socket, '127.0.0.2', sender.port, Buffer.alloc(50));
    const stats = U.getstat(socket);
    expect(stats).toMatchObject({
      recv_cnt: 3, recv_oct: 35, recv_max: 20, recv_avg: 11,
      send_cnt: 2, send_oct: 150, send_max: 100, send_avg: 75, send_pend: 0,
    });
    expect(stats.kernel.rcvbuf).toBe(U.getopts(socket, ['recbuf']).recbuf);
    expect(stats.kernel.sndbuf).toBe(U.getopts(socket, ['sndbuf']).sndbuf);
    expect(Object.keys(stats.kernel).sort()).toEqual(['backlog', 'drops', 'fwd_alloc', 'optmem', 'rcvbuf', 'rmem_alloc', 'rx_queue', 'sndbuf', 'tx_queue', 'wmem_alloc', 'wmem_queued']);
    for (const value of Object.values(stats.kernel)) expect(Number.isInteger(value) && value >= 0).toBe(true);
    expect((await sender.recv()).length).toBe(100);
    expect((await sender.recv()).length).toBe(50);
  });

  test('rx_queue counts the bytes waiting for recv', async () => {
    const socket = listen();
    await sender.send('127.0.0.1', portOf(socket), Buffer.alloc(300));
    await waitUntil(() => U.getstat(socket).kernel.rx_queue === 300);
    await U.recv(socket, 0, 0);
    expect(U.getstat(socket).kernel.rx_queue).toBe(0);
  });
});

describe('the rest of the contract', () => {
  test('negotiatedProtocol, controllingProcess, close, and calls on a closed socket', () => {
    const socket = listen();
    expect(reasonOf(() => U.negotiatedProtocol(socket)).reason).toBe('protocol_not_negotiated');
    U.controllingProcess(socket, threadId);
    expect(reasonOf(() => U.controllingProcess(socket, threadId + 1000)).reason).toBe('enotsup');
    expect(reasonOf(() => U.controllingProcess(socket, -1)).reason).toBe('badarg');
    U.close(socket);
    U.close(socket);
    expect(socket.closed).toBe(true);
    expect(socket.fd).toBe(-1);
    for (const call of [
      () => U.sockname(socket), () => U.peername(socket), () => U.getstat(socket), () => U.getopts(socket, ['ttl']),
      () => U.setopts(socket, { ttl: 5 }), () => U.connect(socket, '127.0.0.1', 9), () => U.negotiatedProtocol(socket),
      () => U.controllingProcess(socket, threadId),
    ]) {
      expect(reasonOf(call)).toMatchObject({ reason: 'closed', code: 'CLOSED' });
    }
    expect(reasonOf(() => U.close({} as never)).reason).toBe('badarg');
    expect(reasonOf(() => U.sockname(Object.create(DgramSocket.prototype))).reason).toBe('badarg');
  });

  test('fd is read-only', () => {
    const socket = listen();
    const before = socket.fd;
    expect(() => { (socket as { fd: number }).fd = 99; }).toThrow(TypeError);
    expect(socket.fd).toBe(before);
  });

  test('IPv6 between two DgramUDP sockets', async () => {
    const a = listen({ ip: '::1' });
    const b = listen({ ip: '::1' });
    await U.send(b, '::1', portOf(a), ['six', Buffer.from('!')]);
    expect(await U.recv(a, 0, 3000)).toStrictEqual({ address: '::1', port: portOf(b), data: Buffer.from('six!') });
  });

  test('an idle socket does not keep the process alive; a waiting recv does', async () => {
    // jest's globalSetup compiled lib/ to dist/.
    const compiled = path.join(__dirname, '..', 'dist', 'dgram');
    const run = (code: string): Promise<{ code: number | null; out: string; ms: number }> => new Promise((resolve) => {
      const started = Date.now();
      execFile(process.execPath, ['-e', `const { DgramUDP } = require(${JSON.stringify(compiled)}); ${code}`], { timeout: 5000 }, (error, out) => {
        resolve({ code: error ? (error.code as number | null) ?? null : 0, out, ms: Date.now() - started });
      });
    });
    const idle = await run("DgramUDP.listen(0, { ip: '127.0.0.1' });");
    expect(idle.code).toBe(0);
    const waiting = await run("const s = DgramUDP.listen(0, { ip: '127.0.0.1' }); DgramUDP.recv(s, 0, 300).catch((e) => { process.stdout.write(e.reason); });");
    expect(waiting).toMatchObject({ code: 0, out: 'timeout' });
    expect(waiting.ms).toBeGreaterThanOrEqual(300);
  });
});
