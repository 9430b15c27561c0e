import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { UDP, type BatchMessage, type Socket } from '../lib';
import { Peer, type PeerSocket, stopPeers } from './helpers/peer';
import { closeAll, expectRejects, listen as listenUDP, portOf } from './helpers/sockets';
import { eachTransport, testNative } from './helpers/transports';

let peer: Peer;
let receiver: PeerSocket;
beforeAll(async () => {
  peer = await Peer.start();
  receiver = await peer.bind('inet', '127.0.0.1');
});
afterAll(() => stopPeers());
afterEach(async () => {
  closeAll();
  // Nothing a test sent may be left for the next one.
  await receiver.drain();
});

/** What the peer got, in a shape easy to compare. */
async function received(): Promise<{ data: string; address: string; port: number }> {
  const got = await receiver.recv(3000);
  return { data: got.data.toString('hex'), address: got.address, port: got.port };
}

const hex = (data: string | Buffer): string => Buffer.from(data).toString('hex');

/** The next `count` datagrams the peer got, as [text, ttl]. */
async function receivedWithTtl(count: number): Promise<Array<[string, number]>> {
  const got: Array<[string, number]> = [];
  for (let i = 0; i < count; i++) {
    const datagram = await receiver.recv(3000);
    got.push([datagram.data.toString(), datagram.ttl as number]);
  }
  return got;
}

/**
 * A sendBatch message 'tricky' whose `data` getter runs `inside` when it is read: the facade
 * reads every argument once, before the native call.
 */
function readingRuns(inside: () => void): { message: BatchMessage; reads: () => number } {
  let reads = 0;
  const message: BatchMessage = {
    address: '127.0.0.1',
    port: receiver.port,
    get data(): string {
      if (++reads === 1) inside();
      return 'tricky';
    },
  };
  return { message, reads: () => reads };
}

eachTransport((subject) => {
  const { T, listen, native } = subject;

  function client(ip = '127.0.0.2'): { socket: Socket; port: number } {
    const socket = listen(0, { ip });
    return { socket, port: portOf(socket) };
  }

  describe('the four send overloads', () => {
    test('send(socket, data) on a connected socket goes to the peer', async () => {
      const { socket, port } = client();
      T.connect(socket, '127.0.0.1', receiver.port);
      await T.send(socket, 'connected');
      expect(await received()).toEqual({ data: hex('connected'), address: '127.0.0.2', port });
    });

    test('send(socket, { address, port }, data)', async () => {
      const { socket, port } = client();
      await T.send(socket, { address: '127.0.0.1', port: receiver.port }, 'dest object');
      expect(await received()).toEqual({ data: hex('dest object'), address: '127.0.0.2', port });
    });

    test('send(socket, socketInfo, data): a sockname-shaped destination with family', async () => {
      const { socket, port } = client();
      const target = listen(0, { ip: '127.0.0.3' });
      const info = T.sockname(target);
      expect(info).toEqual({ address: '127.0.0.3', family: 'IPv4', port: portOf(target) });
      await T.send(socket, info, 'to a sockname');
      expect(await T.recv(target, 0, 3000)).toEqual({ address: '127.0.0.2', port, data: Buffer.from('to a sockname') });
    });

    test('send(socket, address, port, data)', async () => {
      const { socket, port } = client();
      await T.send(socket, '127.0.0.1', receiver.port, Buffer.from([1, 2, 3, 0, 255]));
      expect(await received()).toEqual({ data: '01020300ff', address: '127.0.0.2', port });
    });

    testNative(subject, 'send(socket, address, port, ancillary, data): ttl and tos reach the peer', async () => {
      const { socket, port } = client();
      await T.send(socket, '127.0.0.1', receiver.port, { ttl: 5, tos: 0x88 }, 'with ancillary');
      const got = await receiver.recv(3000);
      expect({ data: got.data.toString(), address: got.address, port: got.port, ttl: got.ttl, tos: got.tos })
        .toEqual({ data: 'with ancillary', address: '127.0.0.2', port, ttl: 5, tos: 0x88 });
    }, async () => {
      const { socket } = client();
      await expectRejects(() => T.send(socket, '127.0.0.1', receiver.port, { ttl: 5, tos: 0x88 }, 'with ancillary'), 'enotsup');
      await receiver.expectNone(50);
    });

    test('every overload resolves with undefined (Promise<void>), as gen_udp:send returns ok', async () => {
      const { socket } = client();
      const results = [
        await T.send(socket, { address: '127.0.0.1', port: receiver.port }, 'r1'),
        await T.send(socket, '127.0.0.1', receiver.port, 'r2'),
        await T.send(socket, '127.0.0.1', receiver.port, native ? { ttl: 4 } : {}, 'r3'),
      ];
      T.connect(socket, '127.0.0.1', receiver.port);
      results.push(await T.send(socket, 'r4'));
      expect(results).toEqual([undefined, undefined, undefined, undefined]);
      for (const text of ['r1', 'r2', 'r3', 'r4']) expect((await receiver.recv(3000)).data.toString()).toBe(text);
    });

    testNative(subject, 'ancillary applies to that datagram only; the next one has the socket defaults', async () => {
      const { socket } = client();
      await T.send(socket, '127.0.0.1', receiver.port, { ttl: 3 }, 'once');
      await T.send(socket, '127.0.0.1', receiver.port, 'default');
      const first = await receiver.recv(3000);
      const second = await receiver.recv(3000);
      expect([first.data.toString(), first.ttl, second.data.toString(), second.ttl]).toEqual(['once', 3, 'default', 64]);
    }, async () => {
      const { socket } = client();
      await expectRejects(() => T.send(socket, '127.0.0.1', receiver.port, { ttl: 3 }, 'once'), 'enotsup');
      await T.send(socket, '127.0.0.1', receiver.port, 'default');
      expect(await receiver.recv(3000)).toMatchObject({ data: Buffer.from('default'), ttl: 64 });
    });

    test('an empty ancillary object sends a plain datagram', async () => {
      const { socket, port } = client();
      await T.send(socket, '127.0.0.1', receiver.port, {}, 'plain');
      expect(await received()).toEqual({ data: hex('plain'), address: '127.0.0.2', port });
    });

    testNative(subject, 'a connected socket sends to its peer with send/2 and elsewhere with an explicit destination', async () => {
      const { socket, port } = client('127.0.0.2');
      const other = listen(0, { ip: '127.0.0.3' });
      T.connect(socket, '127.0.0.3', portOf(other));
      expect(T.peername(socket)).toEqual({ address: '127.0.0.3', family: 'IPv4', port: portOf(other) });
      await T.send(socket, 'to the connected peer');
      await T.send(socket, '127.0.0.1', receiver.port, 'elsewhere');
      expect(await T.recv(other, 0, 3000)).toEqual({ address: '127.0.0.2', port, data: Buffer.from('to the connected peer') });
      expect(await received()).toEqual({ data: hex('elsewhere'), address: '127.0.0.2', port });
    }, async () => {
      // node:dgram sends only to the peer of a connected socket.
      const { socket, port } = client('127.0.0.2');
      const other = listen(0, { ip: '127.0.0.3' });
      T.connect(socket, '127.0.0.3', portOf(other));
      await T.send(socket, '127.0.0.3', portOf(other), 'to the peer, named');
      await expectRejects(() => T.send(socket, '127.0.0.1', receiver.port, 'elsewhere'), 'enotsup');
      await expectRejects(() => T.sendBatch(socket, [{ address: '127.0.0.1', port: receiver.port, data: 'elsewhere' }]), 'enotsup');
      expect(await T.recv(other, 0, 3000)).toEqual({ address: '127.0.0.2', port, data: Buffer.from('to the peer, named') });
      await receiver.expectNone(50);
    });
  });

  describe('connect', () => {
    test('fixes the peer: the kernel filters out datagrams of others; connecting again moves it', async () => {
      const { socket, port } = client('127.0.0.1');
      const stranger = await peer.bind('inet', '127.0.0.1');
      T.connect(socket, '127.0.0.1', receiver.port);
      await stranger.send('127.0.0.1', port, 'filtered');
      await receiver.send('127.0.0.1', port, 'from the peer');
      expect(String((await T.recv(socket, 0, 3000)).data)).toBe('from the peer');
      T.connect(socket, '127.0.0.1', stranger.port);
      expect(T.peername(socket)).toMatchObject({ address: '127.0.0.1', port: stranger.port });
      await T.send(socket, 'moved');
      expect(String((await stranger.recv()).data)).toBe('moved');
      await stranger.close();
    });
  });

  describe('iodata', () => {
    test('nested arrays of strings, Buffers and Uint8Arrays arrive as one datagram, byte-exact', async () => {
      const { socket, port } = client();
      const data = ['ab', [Buffer.from([0, 1, 0xff]), ['c', [], [new Uint8Array([9, 8])]], ''], 'é€', [[['deep']]]];
      await T.send(socket, '127.0.0.1', receiver.port, data);
      const expected = Buffer.concat([
        Buffer.from('ab'), Buffer.from([0, 1, 0xff]), Buffer.from('c'), Buffer.from([9, 8]), Buffer.from('é€', 'utf8'), Buffer.from('deep'),
      ]);
      expect(await received()).toEqual({ data: expected.toString('hex'), address: '127.0.0.2', port });
      await receiver.expectNone(150);
    });

    test('strings are sent as UTF-8', async () => {
      const { socket } = client();
      await T.send(socket, '127.0.0.1', receiver.port, 'héllo ✓ 𝄞');
      expect((await receiver.recv(3000)).data.toString('hex')).toBe(Buffer.from('héllo ✓ 𝄞', 'utf8').toString('hex'));
    });

    test('a Uint8Array view sends only its own bytes (offset and length respected)', async () => {
      const { socket } = client();
      const backing = new Uint8Array([10, 11, 12, 13, 14, 15, 16]);
      await T.send(socket, '127.0.0.1', receiver.port, [backing.subarray(2, 5), Buffer.from([99]).subarray(0, 1)]);
      expect((await receiver.recv(3000)).data.toString('hex')).toBe('0c0d0e63');
    });

    test('many pieces (1000) still make one datagram in order', async () => {
      const { socket } = client();
      const pieces = Array.from({ length: 1000 }, (_, i) => (i % 2 ? String(i % 10) : Buffer.from([i & 0xff])));
      const expected = Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
      await T.send(socket, '127.0.0.1', receiver.port, pieces);
      const got = await receiver.recv(3000);
      expect(got.data.toString('hex')).toBe(expected.toString('hex'));
      await receiver.expectNone(100);
    });

    test('more pieces than IOV_MAX (5000 one-byte pieces) are still one valid datagram, byte-exact', async () => {
      const { socket, port } = client();
      const pieces = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? String.fromCharCode(97 + (i % 26)) : Buffer.from([i & 0xff])));
      const expected = Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
      await T.send(socket, '127.0.0.1', receiver.port, pieces);
      const got = await receiver.recv(3000);
      expect({ length: got.length, port: got.port }).toEqual({ length: 5000, port });
      expect(got.data.equals(expected)).toBe(true);
    });

    test('deep nesting, as built by acc = [acc, piece] (200 levels), is valid iodata', async () => {
      const { socket, port } = client();
      let data: unknown = [];
      let expected = '';
      for (let i = 0; i < 200; i++) {
        const piece = String.fromCharCode(65 + (i % 26));
        data = [data, piece];
        expected += piece;
      }
      await T.send(socket, '127.0.0.1', receiver.port, data as string[]);
      expect(await received()).toEqual({ data: hex(expected), address: '127.0.0.2', port });
    });

    test('an empty iodata sends an empty datagram', async () => {
      const { socket, port } = client();
      await T.send(socket, '127.0.0.1', receiver.port, [[], '', Buffer.alloc(0)]);
      const got = await receiver.recv(3000);
      expect({ length: got.length, port: got.port }).toEqual({ length: 0, port });
    });

    test('iodata works with the connected form and the destination-object form too', async () => {
      const { socket } = client();
      await T.send(socket, { address: '127.0.0.1', port: receiver.port }, ['x', [Buffer.from('y')]]);
      T.connect(socket, '127.0.0.1', receiver.port);
      await T.send(socket, [Buffer.from('z'), ['w']]);
      expect((await receiver.recv(3000)).data.toString()).toBe('xy');
      expect((await receiver.recv(3000)).data.toString()).toBe('zw');
    });
  });

  describe('send errors', () => {
    test("a destination is the whole string: after a send to '127.0.0.1', '127.0.0.\\u0131' is badarg, not the same address", async () => {
      const { socket } = client();
      await T.send(socket, '127.0.0.1', receiver.port, 'first');
      await expectRejects(() => T.send(socket, '127.0.0.\u0131', receiver.port, 'second'), 'badarg');
      await expectRejects(() => T.sendBatch(socket, [{ address: '127.0.0.\u0131', port: receiver.port, data: 'third' }]), 'badarg');
      expect(String((await receiver.recv(3000)).data)).toBe('first');
      await receiver.expectNone(50);
    });

    test("a 70000-byte datagram rejects 'emsgsize' from the send system call and counts nothing", async () => {
      const { socket } = client();
      const error = await expectRejects(() => T.send(socket, '127.0.0.1', receiver.port, Buffer.alloc(70000)), 'emsgsize');
      expect(error.syscall).toEqual(expect.stringMatching(/^send/));
      expect(error.message).toMatch(/send/);
      expect(T.getstat(socket)).toMatchObject({ send_cnt: 0, send_oct: 0, send_pend: 0 });
      await receiver.expectNone(100);
    });

    test('send(socket, data) on an unconnected socket fails with the kernel reason (no destination)', async () => {
      const { socket } = client();
      const error = await T.send(socket, 'nowhere').then(() => undefined, (e: unknown) => e) as { reason?: string; code?: string };
      expect(['enotconn', 'edestaddrreq']).toContain(error?.reason);
      expect(error.code).toBe(error.reason!.toUpperCase());
      // A batch message without an address is for the connected peer: the same reason.
      await expectRejects(() => T.sendBatch(socket, [{ port: receiver.port, data: 'nowhere' }]), error.reason!);
    });

    test("send on a closed socket rejects 'closed' in every overload", async () => {
      const { socket } = client();
      T.close(socket);
      await expectRejects(() => T.send(socket, 'x'), 'closed');
      await expectRejects(() => T.send(socket, { address: '127.0.0.1', port: receiver.port }, 'x'), 'closed');
      await expectRejects(() => T.send(socket, '127.0.0.1', receiver.port, 'x'), 'closed');
      await expectRejects(() => T.send(socket, '127.0.0.1', receiver.port, { ttl: 3 }, 'x'), 'closed');
      await expectRejects(() => T.sendBatch(socket, [{ address: '127.0.0.1', port: receiver.port, data: 'x' }]), 'closed');
    });
  });

  describe('sendBatch', () => {
    test('sends every message in order and resolves with how many went out', async () => {
      const { socket, port } = client();
      const other = listen(0, { ip: '127.0.0.3' });
      const count = await T.sendBatch(socket, [
        { address: '127.0.0.1', port: receiver.port, data: 'm1' },
        { address: '127.0.0.3', port: portOf(other), data: ['m', Buffer.from('2')] },
        { address: '127.0.0.1', port: receiver.port, data: 'm3', ...(native ? { ancillary: { ttl: 9 } } : {}) },
        { address: '127.0.0.1', port: receiver.port, data: Buffer.from('m4') },
      ]);
      expect(count).toBe(4);
      const first = await receiver.recv(3000);
      const third = await receiver.recv(3000);
      const fourth = await receiver.recv(3000);
      expect([first, third, fourth].map((d) => [d.data.toString(), d.address, d.port]))
        .toEqual([['m1', '127.0.0.2', port], ['m3', '127.0.0.2', port], ['m4', '127.0.0.2', port]]);
      expect(third.ttl).toBe(native ? 9 : 64);
      expect(first.ttl).toBe(64);
      expect(await T.recv(other, 0, 3000)).toEqual({ address: '127.0.0.2', port, data: Buffer.from('m2') });
    });

    testNative(subject, 'a batch longer than one sendmmsg gives every message its own ancillary data, and none to the rest', async () => {
      const { socket } = client();
      // 150 messages go out in three native calls (64 + 64 + 22): each message's ttl must follow it.
      const ttlOf = (i: number): number | undefined => (i % 3 === 2 ? undefined : 1 + ((i * 7) % 200));
      const messages = Array.from({ length: 150 }, (_, i) => {
        const ttl = ttlOf(i);
        return { address: '127.0.0.1', port: receiver.port, data: `n${i}`, ...(ttl === undefined ? {} : { ancillary: { ttl } }) };
      });
      expect(await T.sendBatch(socket, messages)).toBe(150);
      expect(await receivedWithTtl(150)).toEqual(messages.map((_, i) => [`n${i}`, ttlOf(i) ?? 64]));
    }, async () => {
      const { socket } = client();
      const messages = [{ address: '127.0.0.1', port: receiver.port, data: 'plain' }, { address: '127.0.0.1', port: receiver.port, data: 'x', ancillary: { ttl: 3 } }];
      await expectRejects(() => T.sendBatch(socket, messages), 'enotsup');
      await receiver.expectNone(50);
    });

    test("a getter that closes the socket during its batch: 'closed', and nothing goes out through a descriptor that took its number", async () => {
      const { socket } = client();
      const tricky = readingRuns(() => {
        T.close(socket);
        // Mostly given the descriptor number just freed.
        listen(0, { ip: '127.0.0.3' });
      });
      await expectRejects(() => T.sendBatch(socket, [{ address: '127.0.0.1', port: receiver.port, data: 'first' }, tricky.message]), 'closed');
      await receiver.expectNone(100);
    });

    test('a getter that detaches a buffer already read: the datagram has what the buffer holds at the send, nothing it gave away', async () => {
      const { socket } = client();
      const given = new Uint8Array(new ArrayBuffer(30000)).fill(0x41);
      const kept = new Uint8Array(new ArrayBuffer(100)).fill(0x42);
      const detach = (bytes: Uint8Array): void => {
        const { port1 } = new MessageChannel();
        port1.postMessage(bytes.buffer, [bytes.buffer as ArrayBuffer]);
        port1.close();
      };
      // One send: the getter of the array's second piece gives the first piece's memory away.
      const data: unknown[] = [given, 'x'];
      Object.defineProperty(data, 1, { enumerable: true, get: () => (given.byteLength > 0 && detach(given), 'x') });
      await T.send(socket, '127.0.0.1', receiver.port, data as string[]);
      const single = (await receiver.recv(3000)).data;
      expect([single.length, single.subarray(0, 8).toString()]).toEqual([1, 'x']);
      // A batch: message 1's data getter gives away message 0's buffer.
      const first = new Uint8Array(new ArrayBuffer(30000)).fill(0x43);
      const messages = [
        { address: '127.0.0.1', port: receiver.port, data: first },
        { address: '127.0.0.1', port: receiver.port, get data(): Uint8Array { if (first.byteLength > 0) detach(first); return kept; } },
      ];
      expect(await T.sendBatch(socket, messages)).toBe(2);
      expect((await receiver.recv(3000)).data.length).toBe(0);
      expect((await receiver.recv(3000)).data).toEqual(Buffer.from(kept));
    });

    test('a message of more pieces than IOV_MAX (1500) is one datagram, byte-exact, among the others', async () => {
      const { socket } = client();
      const pieces = Array.from({ length: 1500 }, (_, i) => (i % 2 ? String.fromCharCode(97 + (i % 26)) : Buffer.from([i & 0xff])));
      const expected = Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
      const message = (data: unknown) => ({ address: '127.0.0.1', port: receiver.port, data: data as string });
      expect(await T.sendBatch(socket, [message('before'), message(pieces), message(['af', 'ter'])])).toBe(3);
      expect(String((await receiver.recv(3000)).data)).toBe('before');
      expect((await receiver.recv(3000)).data.equals(expected)).toBe(true);
      expect(String((await receiver.recv(3000)).data)).toBe('after');
    });

    test('64 equal messages of 20 pieces each to one destination: 64 datagrams (a segmented send gathers at most IOV_MAX pieces)', async () => {
      const { socket } = client();
      const messages = Array.from({ length: 64 }, (_, m) => ({
        address: '127.0.0.1',
        port: receiver.port,
        data: Array.from({ length: 20 }, (_, i) => Buffer.alloc(10, (m * 20 + i) & 0xff)),
      }));
      expect(await T.sendBatch(socket, messages)).toBe(64);
      for (let m = 0; m < 64; m++) {
        const expected = Buffer.concat(messages[m].data);
        expect((await receiver.recv(3000)).data.equals(expected)).toBe(true);
      }
    });

    test('after a lot of batch traffic, a message of many pieces keeps no scratch from it (a process of its own)', () => {
      const child = spawnSync(process.execPath, [path.join(__dirname, 'scripts', 'scratch.js')], { encoding: 'utf8', timeout: 60000 });
      expect(child.signal).toBeNull();
      expect(JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}')).toEqual({ sentBytes: 300 * 64 * 60000, arrived: true, grewLittle: true });
    });

    test('an empty batch resolves 0', async () => {
      const { socket } = client();
      expect(await T.sendBatch(socket, [])).toBe(0);
      await receiver.expectNone(50);
    });
  });
});

// With ancillary data, which only the addon sends: a getter runs before its native call, never inside it.
describe('UDP: a batch or a send is read once, before the native call', () => {
  test('a getter that sends while a batch is read cannot change it: read once, before the batch goes out', async () => {
    const socket = listenUDP(0, { ip: '127.0.0.2' });
    const other = listenUDP(0, { ip: '127.0.0.3' });
    const nested: Array<Promise<unknown>> = [];
    const tricky = readingRuns(() => {
      nested.push(UDP.sendBatch(other, Array.from({ length: 40 }, (_, i) => ({ address: '127.0.0.1', port: receiver.port, data: `x${i}-${'z'.repeat(i)}` }))));
      nested.push(UDP.send(other, '127.0.0.1', receiver.port, { ttl: 3 }, ['nested', ' single']));
    });
    const outer = [
      { address: '127.0.0.1', port: receiver.port, data: ['fi', 'rst'] },
      tricky.message,
      ...Array.from({ length: 20 }, (_, i) => ({ address: '127.0.0.1', port: receiver.port, data: `after${i}`, ancillary: { ttl: 10 + i } })),
    ];
    expect(await UDP.sendBatch(socket, outer)).toBe(22);
    expect(tricky.reads()).toBe(1);
    await Promise.all(nested);
    // The nested sends ran inside the outer batch's checks, before it went out.
    expect(await receivedWithTtl(63)).toEqual([
      ...Array.from({ length: 40 }, (_, i): [string, number] => [`x${i}-${'z'.repeat(i)}`, 64]), ['nested single', 3],
      ['first', 64], ['tricky', 64], ...Array.from({ length: 20 }, (_, i): [string, number] => [`after${i}`, 10 + i]),
    ]);
  });

  test("a getter that starts a batch while a send is read cannot change the send's ancillary data", async () => {
    const socket = listenUDP(0, { ip: '127.0.0.2' });
    const other = listenUDP(0, { ip: '127.0.0.3' });
    // Every read of the piece starts a batch with ancillary data of its own; the read inside
    // the native send checks that batch while the send's own record is still to be read.
    const nested: Array<Promise<unknown>> = [];
    const data: unknown[] = ['out', 'er'];
    Object.defineProperty(data, 1, {
      enumerable: true,
      get: () => {
        nested.push(UDP.sendBatch(other, [{ address: '127.0.0.1', port: receiver.port, data: 'nested', ancillary: { ttl: 99 } }]));
        return 'er';
      },
    });
    await UDP.send(socket, '127.0.0.1', receiver.port, { ttl: 10 }, data as string[]);
    await Promise.all(nested);
    const got = await receivedWithTtl(nested.length + 1);
    expect(got.filter(([text]) => text === 'outer')).toEqual([['outer', 10]]);
    expect(got.filter(([text]) => text === 'nested')).toEqual(nested.map(() => ['nested', 99]));
  });
});
