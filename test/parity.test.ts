/**
 * Where a program ported from gen_udp/inet or node:dgram trips, made to behave as there:
 * active mode across a hand-over, host names, the reasons inet gives, getstat's names,
 * multicast_all and interface names. Each against a real peer (a worker, Python's socket
 * module, node:dgram).
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { UDP, type RecvData } from '../lib';
import { Peer, stopPeers } from './helpers/peer';
import { closeAll, expectRejects, expectThrows, listen, portOf, tempDir, waitUntil } from './helpers/sockets';
import { eachTransport, testNative } from './helpers/transports';

const DIST = path.join(__dirname, '..', 'dist');
let peer: Peer;
beforeAll(async () => {
  peer = await Peer.start();
});
afterAll(() => stopPeers());
afterEach(() => closeAll());

/** A node:dgram client bound on loopback. */
async function client(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket;
}

async function sendAll(from: dgram.Socket, port: number, texts: string[]): Promise<void> {
  for (const text of texts) await new Promise((resolve) => from.send(text, port, '127.0.0.1', resolve));
}

describe('active mode travels with the socket, as with controlling_process', () => {
  /** A worker that adopts the ref it gets and reports every event of the socket. */
  function adopter(): Worker {
    return new Worker(`
      const { parentPort } = require('node:worker_threads');
      const { UDP } = require(${JSON.stringify(DIST)});
      parentPort.once('message', ({ ref }) => {
        const socket = UDP.adopt(ref);
        parentPort.postMessage({ active: UDP.getopts(socket, ['active']).active });
        socket.on('udp', (d) => parentPort.postMessage({ udp: String(d.data) }));
        socket.on('udp_passive', () => parentPort.postMessage({ passive: true }));
      });
      parentPort.postMessage({ ready: true });`, { eval: true });
  }

  test.each<[string, boolean | 'once' | number, number, string[]]>([
    ['true', true, 6, ['udp 1', 'udp 2', 'udp 3', 'udp 4', 'udp 5', 'udp 6']],
    ["'once'", 'once', 1, ['udp 1']],
    ['a count N (here the 3 left of 5)', 5, 3, ['udp 3', 'udp 4', 'udp 5', 'passive']],
  ])('%s: the adopting thread is in the same mode and emits from the first datagram; nothing twice, nothing lost', async (_name, mode, expected, events) => {
    const socket = listen(0, { ip: '127.0.0.1' });
    const worker = adopter();
    try {
      const [ready] = await once(worker, 'message');
      expect(ready).toEqual({ ready: true });
      const sender = await client();
      const port = portOf(socket);
      const here: string[] = [];
      socket.on('udp', (d: RecvData) => here.push(String(d.data)));
      UDP.setopts(socket, { active: mode });
      if (typeof mode === 'number') {
        // Two datagrams here first: the count left (3) is what travels.
        await sendAll(sender, port, ['1', '2']);
        await waitUntil(() => here.length === 2);
      }
      UDP.controllingProcess(socket, worker);
      const seen: string[] = [];
      worker.on('message', (message) => seen.push(message.udp !== undefined ? `udp ${message.udp}` : message.passive ? 'passive' : `active ${message.active}`));
      worker.postMessage({ ref: socket.handoff });
      await waitUntil(() => seen.length === 1);
      expect(seen[0]).toBe(`active ${typeof mode === 'number' ? 3 : mode}`);
      await sendAll(sender, port, Array.from({ length: 6 }, (_, i) => String(typeof mode === 'number' ? i + 3 : i + 1)));
      await waitUntil(() => seen.length === 1 + events.length);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen.slice(1)).toEqual(events);
      expect(here).toEqual(typeof mode === 'number' ? ['1', '2'] : []);
      expect(expected).toBe(events.filter((event) => event.startsWith('udp')).length);
      sender.close();
    } finally {
      await worker.terminate();
    }
  });
});

test('host names resolve in the socket\'s family for send and sendBatch (nxdomain when they do not); the synchronous calls take localhost only', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 localhost abyss-peer\n::1 abyss-peer6\n');
  // A mount namespace of its own, whose /etc/hosts names the peers: no DNS server is asked.
  const output = execFileSync('unshare', ['-rm', 'sh', '-c', `mount --bind "$1" /etc/hosts && exec "$2" "$3"`, 'sh',
    path.join(dir, 'hosts'), process.execPath, path.join(__dirname, 'scripts', 'host-names.js')], { encoding: 'utf8', timeout: 30000 });
  const expected = (connect: string) => ({
    send: 'sent', got: 'by name', batch: 'sent', gotBatch: ['batched', 'literal'], unknown: 'nxdomain', unknownInBatch: 'nxdomain', leftOver: 'timeout', connect,
  });
  expect(JSON.parse(output)).toEqual({ native: expected('badarg'), native6: expected('badarg'), dgram: expected('badarg') });
});

eachTransport((subject) => {
  const { T, listen } = subject;

  test('every call that takes a socket is also a method of the socket (listen, open, adopt and splitSegments take none)', () => {
    const socket = listen(0, { ip: '127.0.0.1' });
    const withoutSocket = ['listen', 'open', 'adopt', 'splitSegments'];
    const calls = Object.keys(T).filter((name) => !withoutSocket.includes(name));
    expect(calls).toEqual(expect.arrayContaining(['recv', 'send', 'getstat', 'recvErrorQueue']));
    expect(calls.filter((name) => typeof (socket as unknown as Record<string, unknown>)[name] !== 'function')).toEqual([]);
  });

  test("'localhost' is the family's loopback in listen, connect and send, whatever /etc/hosts says", async () => {
    const receiver6 = listen(0, { ip: 'localhost', family: 'inet6' });
    expect(T.sockname(receiver6)).toMatchObject({ address: '::1' });
    const receiver = listen(0, { ip: 'localhost' });
    expect(T.sockname(receiver)).toMatchObject({ address: '127.0.0.1' });
    const sender6 = listen(0, { ip: '::1' });
    await T.send(sender6, 'localhost', portOf(receiver6), 'to ::1');
    expect(String((await T.recv(receiver6, 0, 2000)).data)).toBe('to ::1');
    T.connect(sender6, 'localhost', portOf(receiver6));
    expect(T.peername(sender6)).toMatchObject({ address: '::1', port: portOf(receiver6) });
    const error = expectThrows(() => T.connect(sender6, 'abyss-peer6', 9), 'badarg');
    expect(error.message).toMatch(/resolve/);
  });

  describe('the reasons gen_udp gives', () => {
    test('a destination of the other family is eafnosupport, both ways; an IPv4 peer of an IPv6 socket is written v4-mapped', async () => {
      const v4 = listen(0, { ip: '127.0.0.1' });
      const v6 = listen(0, { ip: '::', family: 'inet6', ipv6_v6only: false });
      const receiver = await peer.bind('inet', '127.0.0.1');
      await expectRejects(() => T.send(v4, '::1', 9, 'x'), 'eafnosupport');
      await expectRejects(() => T.send(v6, '127.0.0.1', receiver.port, 'x'), 'eafnosupport');
      await expectRejects(() => T.sendBatch(v6, [{ address: '127.0.0.1', port: receiver.port, data: 'x' }]), 'eafnosupport');
      expectThrows(() => T.connect(v4, '::1', 9), 'eafnosupport');
      await T.send(v6, '::ffff:127.0.0.1', receiver.port, 'mapped');
      expect(String((await receiver.recv(3000)).data)).toBe('mapped');
    });

    testNative(subject, 'getopts of broadcast and dontroute on a unix socket answers what the kernel answers', () => {
      const socket = listen(0, { ip: { local: path.join(tempDir(), 'u') } });
      expect(T.getopts(socket, ['broadcast', 'dontroute'])).toEqual({ broadcast: false, dontroute: false });
      T.setopts(socket, { broadcast: true });
      expect(T.getopts(socket, ['broadcast'])).toEqual({ broadcast: true });
    }, () => {
      expectThrows(() => listen(0, { ip: { local: path.join(tempDir(), 'u') } }), 'enotsup');
    });

    test('getstat takes inet\'s optional list of counter names and returns just those', async () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      const sender = await peer.bind('inet', '127.0.0.1');
      await sender.send('127.0.0.1', portOf(socket), 'twelve bytes');
      await T.recv(socket, 0, 2000);
      expect(T.getstat(socket, ['recv_cnt', 'recv_oct'])).toEqual({ recv_cnt: 1, recv_oct: 12 });
      expect(Object.keys(T.getstat(socket, ['kernel']))).toEqual(['kernel']);
      expect(T.getstat(socket, [])).toEqual({});
      expectThrows(() => T.getstat(socket, ['recv_bogus' as never]), 'badarg');
      expect(socket.getstat(['send_cnt'])).toEqual({ send_cnt: 0 });
    });
  });

  describe('options a deployment asked for', () => {
    testNative(subject, 'multicast_all false: a wildcard-bound member gets only the groups it joined itself', async () => {
      const port = portOf(listen(0, { ip: '127.0.0.1' }));
      const member = listen(port, { ip: 'any', reuseaddr: true, reuseport: true });
      const other = listen(port, { ip: 'any', reuseaddr: true, reuseport: true });
      T.setopts(member, { add_membership: ['239.11.0.1', '127.0.0.1'] });
      T.setopts(other, { add_membership: ['239.11.0.2', '127.0.0.1'] });
      const sender = listen(0, { ip: '127.0.0.1', multicast_if: '127.0.0.1' });
      // Linux's default: every socket on the port gets every group any of them joined.
      expect(T.getopts(member, ['multicast_all'])).toEqual({ multicast_all: true });
      await T.send(sender, '239.11.0.2', port, 'to group 2');
      expect(String((await T.recv(member, 0, 2000)).data)).toBe('to group 2');
      T.setopts(member, { multicast_all: false });
      await T.send(sender, '239.11.0.2', port, 'to group 2 again');
      await expectRejects(() => T.recv(member, 0, 200), 'timeout');
      await T.send(sender, '239.11.0.1', port, 'to group 1');
      expect(String((await T.recv(member, 0, 2000)).data)).toBe('to group 1');
    }, () => {
      const member = listen(0, { ip: 'any' });
      expectThrows(() => T.setopts(member, { multicast_all: false }), 'enotsup');
      expectThrows(() => T.getopts(member, ['multicast_all']), 'enotsup');
    });

    test('interface names where an index is taken: IPv6 multicast_if and memberships', () => {
      const socket = listen(0, { ip: '::', family: 'inet6' });
      T.setopts(socket, { multicast_if: 'lo', add_membership: ['ff12::5', 'lo'] });
      expect(T.getopts(socket, ['multicast_if'])).toEqual({ multicast_if: Number(fs.readFileSync('/sys/class/net/lo/ifindex', 'utf8')) });
      T.setopts(socket, { drop_membership: ['ff12::5', 'lo'] });
      expectThrows(() => T.setopts(socket, { multicast_if: 'nosuchif0' }), 'badarg');
    });

    testNative(subject, 'an interface name in pktinfo on send', async () => {
      const receiver = await peer.bind('inet', '127.0.0.1');
      const v4 = listen(0, { ip: 'any' });
      await T.send(v4, '127.0.0.1', receiver.port, { pktinfo: { ifindex: 'lo', address: '127.0.0.1' } }, 'via lo');
      expect((await receiver.recv(3000)).data).toEqual(Buffer.from('via lo'));
    }, async () => {
      const v4 = listen(0, { ip: 'any' });
      await expectRejects(() => T.send(v4, '127.0.0.1', 9, { pktinfo: { ifindex: 'lo', address: '127.0.0.1' } }, 'via lo'), 'enotsup');
    });
  });
});
