import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { RecvArena, UDP, type Socket } from '../lib';
import { closeAll, expectRejects, portOf } from './helpers/sockets';
import { DGRAM, eachTransport } from './helpers/transports';

const PEER = path.join(__dirname, 'peers', 'ancillary_peer.py');
const run = promisify(execFile);
const hex = (text: string): string => Buffer.from(text).toString('hex');

/** Python sends one datagram; resolves with its source port. */
async function pySend(family: string, dest: string, port: number, data: string | Buffer, flags: string[] = []): Promise<number> {
  const payload = typeof data === 'string' ? hex(data) : data.toString('hex');
  const { stdout } = await run('python3', [PEER, 'send', family, dest, String(port), payload, ...flags]);
  return JSON.parse(stdout).port;
}

interface PyDatagram { data: string; from: string; port: number; tos?: number; ttl?: number; tclass?: number; hoplimit?: number }

/** A Python receiver: `port` once bound, then `next()` per datagram. */
async function pyReceiver(family: string, bind: string, count = 1): Promise<{ port: number; next(): Promise<PyDatagram>; child: ChildProcessWithoutNullStreams }> {
  const child = spawn('python3', [PEER, 'recv', family, bind, '--count', String(count)]);
  children.push(child);
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  const next = async (): Promise<PyDatagram> => {
    const line = await lines.next();
    if (line.done) throw new Error('the Python receiver ended without a datagram');
    const parsed = JSON.parse(line.value);
    return { ...parsed, data: Buffer.from(parsed.data, 'hex').toString('latin1') };
  };
  return { port: JSON.parse(first.value).port, next, child };
}

const children: ChildProcessWithoutNullStreams[] = [];
const sockets: Socket[] = [];
function listen(options: Parameters<typeof UDP.listen>[1] = {}): { socket: Socket; port: number } {
  const socket = UDP.listen(0, options);
  sockets.push(socket);
  return { socket, port: (UDP.sockname(socket) as { port: number }).port };
}

afterEach(() => {
  closeAll();
  for (const socket of sockets.splice(0)) UDP.close(socket);
  for (const child of children.splice(0)) child.kill();
});

describe('receive side, from a Python sender', () => {
  test('IPv4: tos and ttl of each datagram', async () => {
    const { socket, port } = listen({ ip: 'loopback', recvtos: true, recvttl: true });
    const from = await pySend('inet', '127.0.0.1', port, 'marked', ['--tos', '184', '--ttl', '17']);
    const datagram = await UDP.recv(socket, 0, 2000);
    expect(datagram).toEqual({ address: '127.0.0.1', port: from, data: Buffer.from('marked'), ancillary: { tos: 184, ttl: 17 } });
  });

  test('IPv6: traffic class and hop limit of each datagram', async () => {
    const { socket, port } = listen({ ip: '::1', recvtclass: true, recvhoplimit: true });
    const from = await pySend('inet6', '::1', port, 'six', ['--tclass', '40', '--hops', '9']);
    const datagram = await UDP.recv(socket, 0, 2000);
    expect(datagram).toEqual({ address: '::1', port: from, data: Buffer.from('six'), ancillary: { tclass: 40, hoplimit: 9 } });
  });

  test('IPv4 pktinfo names the address a datagram was sent to on a wildcard socket', async () => {
    const { socket, port } = listen({ ip: 'any', pktinfo: true, recvorigdstaddr: true });
    await pySend('inet', '127.0.0.5', port, 'to five');
    const { ancillary } = await UDP.recv(socket, 0, 2000);
    expect(ancillary).toEqual({
      pktinfo: { address: '127.0.0.5', specDst: '127.0.0.5', ifindex: 1 },
      origdstaddr: { address: '127.0.0.5', port },
    });
  });

  test('IPv6 pktinfo and original destination', async () => {
    const { socket, port } = listen({ ip: '::', family: 'inet6', pktinfo: true, recvorigdstaddr: true });
    await pySend('inet6', '::1', port, 'to one');
    expect((await UDP.recv(socket, 0, 2000)).ancillary).toEqual({
      pktinfo: { address: '::1', ifindex: 1 },
      origdstaddr: { address: '::1', port },
    });
  });

  test('timestamp is the kernel receive time in nanoseconds', async () => {
    const { socket, port } = listen({ ip: 'loopback', timestamp: true });
    const before = BigInt(Date.now()) * 1_000_000n;
    await pySend('inet', '127.0.0.1', port, 'when');
    const { ancillary } = await UDP.recv(socket, 0, 2000);
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    expect(typeof ancillary!.timestamp).toBe('bigint');
    expect(ancillary!.timestamp!).toBeGreaterThanOrEqual(before - 5_000_000n);
    expect(ancillary!.timestamp!).toBeLessThanOrEqual(after);
  });

  test('drops show in ancillary.dropped and in getstat().kernel.drops', async () => {
    const { socket, port } = listen({ ip: 'loopback', rxq_ovfl: true, recbuf: 2048 });
    const sender = listen({ ip: 'loopback' }).socket;
    for (let i = 0; i < 100; i++) await UDP.send(sender, '127.0.0.1', port, Buffer.alloc(200, i));
    const kernelDrops = UDP.getstat(socket).kernel.drops;
    expect(kernelDrops).toBeGreaterThan(0);
    const seen: number[] = [];
    for (;;) {
      try {
        seen.push((await UDP.recv(socket, 0, 0)).ancillary?.dropped ?? 0);
      } catch {
        break;
      }
    }
    expect(seen.length + kernelDrops).toBe(100);
    // Each datagram carries the count of drops before it was queued: it never decreases.
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    await UDP.send(sender, '127.0.0.1', port, 'after the flood');
    expect((await UDP.recv(socket, 0, 2000)).ancillary).toEqual({ dropped: kernelDrops });
  });

  test('with rxq_ovfl on and nothing dropped yet, dropped is 0 (the kernel attaches no count until it drops one): recv, recvBatch, recvInto, after setopts; off again, no ancillary', async () => {
    const { socket, port } = listen({ ip: 'loopback', rxq_ovfl: true });
    await pySend('inet', '127.0.0.1', port, 'one');
    expect((await UDP.recv(socket, 0, 2000)).ancillary).toStrictEqual({ dropped: 0 });
    await pySend('inet', '127.0.0.1', port, 'two');
    expect((await UDP.recvBatch(socket, 8, 2000)).map((datagram) => datagram.ancillary)).toStrictEqual([{ dropped: 0 }]);
    await pySend('inet', '127.0.0.1', port, 'three');
    const arena = new RecvArena({ slots: 4, slotSize: 64 });
    expect(await UDP.recvInto(socket, arena, 2000)).toBe(1);
    expect(arena.ancillary(0)).toStrictEqual({ dropped: 0 });

    UDP.setopts(socket, { rxq_ovfl: false });
    await pySend('inet', '127.0.0.1', port, 'four');
    expect((await UDP.recv(socket, 0, 2000)).ancillary).toBeUndefined();

    const later = listen({ ip: 'loopback', recvttl: true });
    UDP.setopts(later.socket, { rxq_ovfl: true });
    await pySend('inet', '127.0.0.1', later.port, 'five');
    expect((await UDP.recv(later.socket, 0, 2000)).ancillary).toStrictEqual({ ttl: 64, dropped: 0 });
  });

  test('GRO: a segmented send arrives as one buffer with its segment size, or split without gro', async () => {
    const coalescing = listen({ ip: 'loopback', gro: true });
    const payload = Buffer.alloc(5500);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    await pySend('inet', '127.0.0.1', coalescing.port, payload, ['--segment', '1000']);
    const whole = await UDP.recv(coalescing.socket, 0, 2000);
    expect(whole.ancillary).toEqual({ segmentSize: 1000 });
    expect(whole.data.equals(payload)).toBe(true);
    const split = UDP.splitSegments(whole);
    expect(split.map((p) => p.data.length)).toEqual([1000, 1000, 1000, 1000, 1000, 500]);
    expect(Buffer.concat(split.map((p) => p.data)).equals(payload)).toBe(true);
    expect(split.every((p) => p.address === '127.0.0.1' && p.port === whole.port && !p.ancillary!.segmentSize)).toBe(true);

    const plain = listen({ ip: 'loopback' });
    await pySend('inet', '127.0.0.1', plain.port, payload, ['--segment', '1000']);
    const parts = await UDP.recvBatch(plain.socket, 10, 2000);
    while (parts.length < 6) parts.push(...(await UDP.recvBatch(plain.socket, 10, 2000)));
    expect(parts.map((p) => p.data.length)).toEqual([1000, 1000, 1000, 1000, 1000, 500]);
    expect(Buffer.concat(parts.map((p) => p.data)).equals(payload)).toBe(true);
  });

  test('ancillary is present exactly while a receive-side option is on', async () => {
    const { socket, port } = listen({ ip: 'loopback' });
    await pySend('inet', '127.0.0.1', port, 'plain');
    expect(await UDP.recv(socket, 0, 2000)).not.toHaveProperty('ancillary');
    UDP.setopts(socket, { recvtos: true });
    await pySend('inet', '127.0.0.1', port, 'with');
    expect((await UDP.recv(socket, 0, 2000)).ancillary).toEqual({ tos: 0 });
    UDP.setopts(socket, { recvtos: false });
    await pySend('inet', '127.0.0.1', port, 'plain again');
    expect(await UDP.recv(socket, 0, 2000)).not.toHaveProperty('ancillary');
  });
});

describe('send side, to a Python receiver', () => {
  test('IPv4: tos and ttl per datagram', async () => {
    const receiver = await pyReceiver('inet', '127.0.0.1', 2);
    const { socket, port } = listen({ ip: 'loopback' });
    await UDP.send(socket, '127.0.0.1', receiver.port, { tos: 0x28, ttl: 5 }, 'first');
    await UDP.send(socket, '127.0.0.1', receiver.port, 'second');
    expect(await receiver.next()).toEqual({ data: 'first', from: '127.0.0.1', port, tos: 0x28, ttl: 5 });
    expect(await receiver.next()).toEqual({ data: 'second', from: '127.0.0.1', port, tos: 0, ttl: 64 });
  });

  test('IPv6: traffic class and hop limit per datagram', async () => {
    const receiver = await pyReceiver('inet6', '::1');
    const { socket, port } = listen({ ip: '::1' });
    await UDP.send(socket, '::1', receiver.port, { tclass: 0xb8, hoplimit: 3 }, 'six');
    expect(await receiver.next()).toEqual({ data: 'six', from: '::1', port, tclass: 0xb8, hoplimit: 3 });
  });

  test('pktinfo chooses the source address of a wildcard socket, IPv4 and IPv6', async () => {
    const v4 = await pyReceiver('inet', '127.0.0.1');
    const wildcard = listen({ ip: 'any' });
    await UDP.send(wildcard.socket, '127.0.0.1', v4.port, { pktinfo: { address: '127.0.0.7' } }, 'from seven');
    expect(await v4.next()).toMatchObject({ data: 'from seven', from: '127.0.0.7', port: wildcard.port });

    const v6 = await pyReceiver('inet6', '::1');
    const wildcard6 = listen({ ip: '::', family: 'inet6' });
    await UDP.send(wildcard6.socket, '::1', v6.port, { pktinfo: { address: '::1', ifindex: 1 } }, 'from one');
    expect(await v6.next()).toMatchObject({ data: 'from one', from: '::1', port: wildcard6.port });
  });

  test.each(['127.0.0.2', '127.0.0.3'])('the pktinfo object recv returned, specDst and all, sends back unchanged: a node:dgram client asking %s hears that address answer', async (asked) => {
    const server = listen({ ip: 'any', pktinfo: true });
    const client = dgram.createSocket('udp4');
    try {
      client.bind(0, '127.0.0.1');
      await once(client, 'listening');
      const reply = once(client, 'message');
      client.send('who answers?', server.port, asked);
      const received = await UDP.recv(server.socket, 0, 2000);
      const pktinfo = received.ancillary!.pktinfo!;
      expect(pktinfo).toEqual({ address: asked, specDst: asked, ifindex: 1 });
      const before = structuredClone(pktinfo);
      await UDP.send(server.socket, received.address as string, received.port, { pktinfo }, 'this one');
      const [data, from] = await reply;
      expect({ data: String(data), address: from.address, port: from.port }).toEqual({ data: 'this one', address: asked, port: server.port });
      // Passed back as it was, and left as it was.
      expect(pktinfo).toEqual(before);
    } finally {
      client.close();
    }
  });

  test('segmentSize splits one send into datagrams in the kernel (GSO)', async () => {
    const receiver = await pyReceiver('inet', '127.0.0.1', 4);
    const { socket } = listen({ ip: 'loopback' });
    const payload = 'a'.repeat(1000) + 'b'.repeat(1000) + 'c'.repeat(1000) + 'd'.repeat(500);
    await UDP.send(socket, '127.0.0.1', receiver.port, { segmentSize: 1000 }, payload);
    const parts = [await receiver.next(), await receiver.next(), await receiver.next(), await receiver.next()];
    expect(parts.map((p) => p.data)).toEqual(['a'.repeat(1000), 'b'.repeat(1000), 'c'.repeat(1000), 'd'.repeat(500)]);
    expect(UDP.getstat(socket)).toMatchObject({ send_cnt: 1, send_oct: 3500 });
  });

});

describe('ICMP errors on the error queue', () => {
  test.each([
    ['inet', '127.0.0.1', 'icmp', 3, 3],
    ['inet6', '::1', 'icmp6', 1, 4],
  ])('%s: port unreachable is read back with origin, type, code, offender and the datagram', async (family, address, origin, type, code) => {
    const { port: closed } = JSON.parse((await run('python3', [PEER, 'icmp', family])).stdout);
    const { socket } = listen({ ip: address, recverr: true });
    await UDP.send(socket, address, closed, 'unwanted');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The error is also the socket's pending error: the next recv reports it.
    await expect(UDP.recv(socket, 0, 0)).rejects.toMatchObject({ reason: 'econnrefused' });
    const entry = UDP.recvErrorQueue(socket)!;
    expect(entry).toEqual({
      address,
      port: closed,
      data: Buffer.from('unwanted'),
      ancillary: { error: { origin, reason: 'econnrefused', errno: 111, type, code, info: 0, offender: { address, port: 0 } } },
    });
    expect(UDP.recvErrorQueue(socket)).toBeUndefined();
  });
});

eachTransport(({ T, listen }) => {
  test('ancillary keys of the wrong family or out of range are badarg and send nothing', async () => {
    const socket = listen(0, { ip: 'loopback' });
    for (const ancillary of [{ tclass: 1 }, { hoplimit: 1 }, { ttl: 0 }, { tos: 256 }, { segmentSize: 0 },
      { pktinfo: { address: '::1' } }, { pktinfo: { ifindex: -1 } }, { pktinfo: 5 }, { flowlabel: 1 }, { ttl: 1.5 }]) {
      await expect(T.send(socket, '127.0.0.1', 9, ancillary as never, 'x')).rejects.toMatchObject({ reason: 'badarg' });
    }
    expect(T.getstat(socket).send_cnt).toBe(0);
  });
});

// DgramUDP refuses every ancillary option (test/option-table.test.ts) and every key of a send's ancillary data.
describe('DgramUDP: node:dgram has no ancillary data', () => {
  test.each<[string, { ip: string }, Record<string, unknown>[]]>([
    ['IPv4', { ip: '127.0.0.1' }, [{ tos: 0x28 }, { ttl: 5 }, { pktinfo: { address: '127.0.0.1' } }, { segmentSize: 1000 }, { ttl: 5, tos: 0 }]],
    ['IPv6', { ip: '::1' }, [{ tclass: 0xb8 }, { hoplimit: 3 }, { pktinfo: { address: '::1', ifindex: 1 } }, { segmentSize: 1000 }]],
  ])('%s: a send with any ancillary key is enotsup and sends nothing; received datagrams carry none', async (_family, options, refused) => {
    const socket = DGRAM.listen(0, options);
    const receiver = DGRAM.listen(0, options);
    const port = portOf(receiver);
    for (const ancillary of refused) {
      await expectRejects(() => DGRAM.T.send(socket, options.ip, port, ancillary, 'x'), 'enotsup', { message: /ancillary/ });
      await expectRejects(() => DGRAM.T.sendBatch(socket, [{ address: options.ip, port, data: 'x', ancillary }]), 'enotsup');
    }
    await DGRAM.T.send(socket, options.ip, port, {}, 'plain');
    expect(await DGRAM.T.recv(receiver, 0, 2000)).toStrictEqual({ address: options.ip, port: portOf(socket), data: Buffer.from('plain') });
    expect(DGRAM.T.getstat(socket).send_cnt).toBe(1);
  });
});
