/**
 * recvInto: datagrams into a RecvArena the caller keeps, read by the kernel straight into its
 * memory (UDP) or copied there (DgramUDP). Senders are Python processes (test/peers).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { MessageChannel } from 'node:worker_threads';
import { DgramUDP, RecvArena, TransportError, UDP, type Socket } from '../lib';
import { Peer, type PeerSocket, stopPeers } from './helpers/peer';
import { closeAll, expectTransportError, listen, portOf, tempDir } from './helpers/sockets';

const ANCILLARY_PEER = path.join(__dirname, 'peers', 'ancillary_peer.py');
const run = promisify(execFile);

let peer: Peer;
let sender: PeerSocket;
beforeAll(async () => {
  peer = await Peer.start();
  sender = await peer.bind('inet', '127.0.0.1');
});
afterAll(() => stopPeers());
afterEach(() => closeAll());

/** What arena holds, datagram by datagram. */
function contents(arena: RecvArena): { text: string; address: unknown; port: number; truncated: boolean }[] {
  return Array.from({ length: arena.count }, (_, i) => ({
    text: arena.data.toString('latin1', arena.offset(i), arena.offset(i) + arena.length(i)),
    address: arena.address(i),
    port: arena.port(i),
    truncated: arena.truncated(i),
  }));
}

async function sendAll(port: number, texts: string[]): Promise<void> {
  for (const text of texts) await sender.send('127.0.0.1', port, text);
}

describe.each([
  ['UDP', UDP],
  ['DgramUDP', DgramUDP],
])('%s.recvInto', (_name, transport) => {
  const T = transport as typeof UDP;
  const opened: Socket[] = [];
  const open = (): Socket => {
    const socket = T.listen(0, { ip: '127.0.0.1' }) as Socket;
    opened.push(socket);
    return socket;
  };
  const portOf = (socket: Socket): number => (T.sockname(socket) as { port: number }).port;
  afterEach(() => {
    for (const socket of opened.splice(0)) if (!socket.closed) T.close(socket);
  });

  test('fills the arena with what is queued, at most its slots, in order, and the next call gets the rest', async () => {
    const socket = open();
    const arena = new RecvArena({ slots: 3 });
    const texts = ['one', 'two', 'three', 'four', 'five'];
    await sendAll(portOf(socket), texts);
    const seen: string[] = [];
    while (seen.length < texts.length) {
      const count = await T.recvInto(socket, arena, 2000);
      expect(count).toBe(arena.count);
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(3);
      for (const datagram of contents(arena)) {
        expect(datagram).toMatchObject({ address: '127.0.0.1', port: sender.port, truncated: false });
        seen.push(datagram.text);
      }
    }
    expect(seen).toEqual(texts);
    expect(T.getstat(socket, ['recv_cnt', 'recv_oct'])).toEqual({ recv_cnt: 5, recv_oct: 19 });
  });

  test('a datagram longer than a slot is cut to it and says so; the next one is whole', async () => {
    const socket = open();
    const arena = new RecvArena({ slots: 1, slotSize: 4 });
    await sendAll(portOf(socket), ['abcdefgh', 'xyz']);
    await T.recvInto(socket, arena, 2000);
    expect(contents(arena)).toEqual([{ text: 'abcd', address: '127.0.0.1', port: sender.port, truncated: true }]);
    expect(arena.datagram(0)).toEqual({ address: '127.0.0.1', port: sender.port, data: Buffer.from('abcd'), truncated: true });
    await T.recvInto(socket, arena, 2000);
    expect(contents(arena)).toEqual([{ text: 'xyz', address: '127.0.0.1', port: sender.port, truncated: false }]);
  });

  test('waits for a datagram, times out, polls with 0, and is aborted by its signal', async () => {
    const socket = open();
    const arena = new RecvArena({ slots: 2 });
    await expect(T.recvInto(socket, arena, 0)).rejects.toMatchObject({ reason: 'timeout', message: expect.stringMatching(/^recv(Into|Batch):/) });
    await expect(T.recvInto(socket, arena, 30)).rejects.toMatchObject({ reason: 'timeout' });
    const controller = new AbortController();
    const aborted = T.recvInto(socket, arena, 'infinity', { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ reason: 'aborted' });
    const waiting = T.recvInto(socket, arena, 3000);
    await sendAll(portOf(socket), ['late']);
    expect(await waiting).toBe(1);
    expect(contents(arena)[0].text).toBe('late');
  });

  test('recv and recvInto waiting together are served in call order', async () => {
    const socket = open();
    const arena = new RecvArena({ slots: 1 });
    const first = T.recv(socket, 0, 3000);
    const second = T.recvInto(socket, arena, 3000);
    await sendAll(portOf(socket), ['first', 'second']);
    expect(String((await first).data)).toBe('first');
    expect(await second).toBe(1);
    expect(contents(arena)[0].text).toBe('second');
  });

  test('bad arguments are badarg; a closed socket rejects closed', async () => {
    const socket = open();
    for (const bad of [undefined, {}, Buffer.alloc(10), { data: Buffer.alloc(10), slots: 1, slotSize: 10 }]) {
      await expect(T.recvInto(socket, bad as never, 0)).rejects.toMatchObject({ reason: 'badarg', message: expect.stringContaining('not a RecvArena') });
    }
    await expect(T.recvInto(socket, new RecvArena(), -1)).rejects.toMatchObject({ reason: 'badarg' });
    T.close(socket);
    await expect(T.recvInto(socket, new RecvArena(), 0)).rejects.toMatchObject({ reason: 'closed' });
  });

  test('the socket method is the same call', async () => {
    const socket = open();
    const arena = new RecvArena({ slots: 4 });
    await sendAll(portOf(socket), ['method']);
    expect(await socket.recvInto(arena, 2000)).toBe(1);
    expect(contents(arena)[0].text).toBe('method');
  });
});

describe('UDP.recvInto, straight into the arena', () => {
  test('in active mode it is einval, as recv is (DgramUDP has no active mode)', async () => {
    const socket = listen(0, { ip: '127.0.0.1' });
    UDP.setopts(socket, { active: true });
    await expect(UDP.recvInto(socket, new RecvArena(), 0)).rejects.toMatchObject({ reason: 'einval' });
  });

  test('the kernel writes into the arena\'s own memory: a view taken before the call sees the datagram', async () => {
    const socket = listen(0, { ip: '127.0.0.1' });
    const arena = new RecvArena({ slots: 2, slotSize: 16 });
    const view = new Uint8Array(arena.data.buffer, arena.data.byteOffset, 32);
    await sendAll(portOf(socket), ['into', 'place']);
    const count = await UDP.recvInto(socket, arena, 2000);
    for (let i = 0; i < count; i++) expect(arena.offset(i)).toBe(i * 16);
    expect(Buffer.from(view.subarray(0, 4)).toString()).toBe('into');
  });

  test('datagrams read ahead by recv are copied in first, then the kernel is read', async () => {
    const socket = listen(0, { ip: '127.0.0.1' });
    await sendAll(portOf(socket), ['a', 'b', 'c']);
    // A recv reads a batch ahead (read_packets) and hands out one.
    expect(String((await UDP.recv(socket, 0, 2000)).data)).toBe('a');
    const arena = new RecvArena({ slots: 8 });
    const seen: string[] = [];
    while (seen.length < 2) {
      await UDP.recvInto(socket, arena, 2000);
      seen.push(...contents(arena).map((d) => d.text));
    }
    expect(seen).toEqual(['b', 'c']);
    await sendAll(portOf(socket), ['d']);
    await UDP.recvInto(socket, arena, 2000);
    expect(contents(arena).map((d) => d.text)).toEqual(['d']);
  });

  test('GRO: a coalesced message is its segments, each a datagram; ancillary lacks segmentSize', async () => {
    const socket = listen(0, { ip: 'loopback', gro: true });
    const payload = Buffer.alloc(5500);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    await run('python3', [ANCILLARY_PEER, 'send', 'inet', '127.0.0.1', String(portOf(socket)), payload.toString('hex'), '--segment', '1000']);
    const arena = new RecvArena({ slots: 4 });
    const count = await UDP.recvInto(socket, arena, 2000);
    expect(count).toBe(6);
    expect(Array.from({ length: count }, (_, i) => arena.length(i))).toEqual([1000, 1000, 1000, 1000, 1000, 500]);
    const joined = Buffer.concat(Array.from({ length: count }, (_, i) => arena.data.subarray(arena.offset(i), arena.offset(i) + arena.length(i))));
    expect(joined.equals(payload)).toBe(true);
    for (let i = 0; i < count; i++) {
      expect(arena.ancillary(i)).toEqual({});
      expect(arena.address(i)).toBe('127.0.0.1');
    }
    expect(UDP.getstat(socket, ['recv_cnt', 'recv_oct'])).toEqual({ recv_cnt: 1, recv_oct: 5500 });
  });

  test('GRO into a slot shorter than the message: the segments that fit, the last one cut and truncated', async () => {
    const socket = listen(0, { ip: 'loopback', gro: true });
    await run('python3', [ANCILLARY_PEER, 'send', 'inet', '127.0.0.1', String(portOf(socket)), Buffer.alloc(3000, 1).toString('hex'), '--segment', '1000']);
    const arena = new RecvArena({ slots: 1, slotSize: 2500 });
    expect(await UDP.recvInto(socket, arena, 2000)).toBe(3);
    expect(Array.from({ length: 3 }, (_, i) => [arena.length(i), arena.truncated(i)])).toEqual([[1000, false], [1000, false], [500, true]]);
  });

  test('ancillary data of a receive option comes with each datagram', async () => {
    const socket = listen(0, { ip: '127.0.0.1', recvttl: true });
    await sender.send('127.0.0.1', portOf(socket), 'ttl', { ttl: 9 });
    const arena = new RecvArena({ slots: 2 });
    await UDP.recvInto(socket, arena, 2000);
    expect(arena.ancillary(0)).toEqual({ ttl: 9 });
    expect(arena.datagram(0)).toEqual({ address: '127.0.0.1', port: sender.port, data: Buffer.from('ttl'), ancillary: { ttl: 9 } });
  });

  test('a unix socket: senders by path, datagrams longer than a slot cut', async () => {
    const dir = tempDir();
    const socket = listen(0, { ip: { local: path.join(dir, 'server') } });
    const client = await peer.bindUnix(path.join(dir, 'client'));
    await client.send(path.join(dir, 'server'), 0, 'x'.repeat(100));
    await client.send(path.join(dir, 'server'), 0, 'short');
    const arena = new RecvArena({ slots: 2, slotSize: 50 });
    const seen: unknown[] = [];
    while (seen.length < 2) {
      await UDP.recvInto(socket, arena, 2000);
      seen.push(...contents(arena));
    }
    expect(seen).toEqual([
      { text: 'x'.repeat(50), address: { local: path.join(dir, 'client') }, port: 0, truncated: true },
      { text: 'short', address: { local: path.join(dir, 'client') }, port: 0, truncated: false },
    ]);
  });

  test("an arena whose memory was transferred away is badarg, and the socket's datagram waits for the next call", async () => {
    const socket = listen(0, { ip: '127.0.0.1' });
    const arena = new RecvArena({ slots: 1, slotSize: 8192 });
    const { port1 } = new MessageChannel();
    port1.postMessage(null, [arena.data.buffer as ArrayBuffer]);
    port1.close();
    expect(arena.data.byteLength).toBe(0);
    await sendAll(portOf(socket), ['kept']);
    await expect(UDP.recvInto(socket, arena, 2000)).rejects.toMatchObject({ reason: 'badarg', message: expect.stringContaining('transferred') });
    const fresh = new RecvArena({ slots: 1 });
    await UDP.recvInto(socket, fresh, 2000);
    expect(contents(fresh)[0].text).toBe('kept');
  });
});

describe('RecvArena', () => {
  test('takes slots 1…64 and slotSize 1…65536; anything else is badarg', () => {
    expect(new RecvArena()).toMatchObject({ slots: 64, slotSize: 65536, count: 0 });
    expect(new RecvArena().data.length).toBe(64 * 65536);
    expect(new RecvArena({ slots: 1, slotSize: 1 }).data.length).toBe(1);
    for (const bad of [{ slots: 0 }, { slots: 65 }, { slots: 1.5 }, { slotSize: 0 }, { slotSize: 65537 }, { slots: '4' }, null, 5]) {
      try {
        new RecvArena(bad as never);
        throw new Error('accepted');
      } catch (error) {
        expectTransportError(error, 'badarg');
        expect(error).toBeInstanceOf(TransportError);
      }
    }
  });

  test('asking for a datagram it does not hold is a RangeError, not stale data', async () => {
    const socket = listen(0, { ip: '127.0.0.1' });
    const arena = new RecvArena({ slots: 4 });
    expect(() => arena.length(0)).toThrow(RangeError);
    await sendAll(portOf(socket), ['only']);
    expect(await UDP.recvInto(socket, arena, 2000)).toBe(1);
    expect(arena.length(0)).toBe(4);
    for (const index of [1, -1, 0.5, NaN]) expect(() => arena.offset(index)).toThrow(RangeError);
  });
});
