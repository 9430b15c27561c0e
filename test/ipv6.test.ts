import type { Socket } from '../lib';
import { Peer, type PeerSocket, stopPeers } from './helpers/peer';
import { closeAll, expectRejects, expectThrows, portOf, expectExactly } from './helpers/sockets';
import { eachTransport, testNative } from './helpers/transports';

let peer: Peer;
let remote: PeerSocket;
beforeAll(async () => {
  peer = await Peer.start();
  remote = await peer.bind('inet6', '::1');
});
afterAll(() => stopPeers());
afterEach(async () => {
  closeAll();
  await remote.drain();
});

eachTransport((subject) => {
  const { T, listen } = subject;

  function server(): { socket: Socket; port: number } {
    const socket = listen(0, { ip: '::1' });
    return { socket, port: portOf(socket) };
  }

  describe('IPv6 on ::1', () => {
    test("sockname is { address: '::1', family: 'IPv6', port }", () => {
      const { socket, port } = server();
      expectExactly(T.sockname(socket), { address: '::1', family: 'IPv6', port });
      expect(port).toBeGreaterThan(0);
    });

    test('recv from a Python IPv6 peer: exact bytes, sender ::1 and its port', async () => {
      const { socket, port } = server();
      const payload = Buffer.from([0x60, 0, 0, 0, 0xff, 0x01, 0x02]);
      await remote.send('::1', port, payload);
      expect(await T.recv(socket, 0, 3000)).toStrictEqual({ address: '::1', port: remote.port, data: payload });
    });

    test('recv with n > 0 truncates over IPv6 too', async () => {
      const { socket, port } = server();
      await remote.send('::1', port, 'abcdefghij');
      expect(await T.recv(socket, 4, 3000)).toStrictEqual({ address: '::1', port: remote.port, data: Buffer.from('abcd'), truncated: true });
    });

    test('send(socket, address, port, data) reaches the peer from ::1 and our port', async () => {
      const { socket, port } = server();
      await T.send(socket, '::1', remote.port, ['six', Buffer.from([6])]);
      const got = await remote.recv(3000);
      expect({ data: got.data.toString('hex'), address: got.address, port: got.port })
        .toEqual({ data: Buffer.from('six\x06').toString('hex'), address: '::1', port });
    });

    testNative(subject, 'send with ancillary { tclass, hoplimit }: the peer sees both', async () => {
      const { socket, port } = server();
      await T.send(socket, '::1', remote.port, { tclass: 0x20, hoplimit: 9 }, 'marked');
      const got = await remote.recv(3000);
      expect({ data: got.data.toString(), port: got.port, tclass: got.tclass, hoplimit: got.hoplimit })
        .toEqual({ data: 'marked', port, tclass: 0x20, hoplimit: 9 });
    }, async () => {
      const { socket } = server();
      await expectRejects(() => T.send(socket, '::1', remote.port, { tclass: 0x20, hoplimit: 9 }, 'marked'), 'enotsup');
      await remote.expectNone(50);
    });

    test('setopts unicast_hops changes what the peer sees; getopts reads it back', async () => {
      const { socket } = server();
      T.setopts(socket, { unicast_hops: 7 });
      expect(T.getopts(socket, ['unicast_hops'])).toEqual({ unicast_hops: 7 });
      await T.send(socket, { address: '::1', port: remote.port }, 'opts');
      expect((await remote.recv(3000)).hoplimit).toBe(7);
    });

    testNative(subject, 'setopts tclass changes what the peer sees; getopts reads it back', async () => {
      const { socket } = server();
      T.setopts(socket, { tclass: 0x40, unicast_hops: 7 });
      expect(T.getopts(socket, ['tclass', 'unicast_hops'])).toEqual({ tclass: 0x40, unicast_hops: 7 });
      await T.send(socket, { address: '::1', port: remote.port }, 'opts');
      const got = await remote.recv(3000);
      expect({ tclass: got.tclass, hoplimit: got.hoplimit }).toEqual({ tclass: 0x40, hoplimit: 7 });
    }, () => {
      expectThrows(() => T.setopts(server().socket, { tclass: 0x40, unicast_hops: 7 }), 'enotsup', { message: /'tclass'/ });
    });

    test('connect: send/2 goes to the peer and peername is its IPv6 info', async () => {
      const { socket, port } = server();
      expectThrows(() => T.peername(socket), 'enotconn');
      T.connect(socket, '::1', remote.port);
      expectExactly(T.peername(socket), { address: '::1', family: 'IPv6', port: remote.port });
      await T.send(socket, 'connected six');
      const got = await remote.recv(3000);
      expect({ data: got.data.toString(), address: got.address, port: got.port }).toEqual({ data: 'connected six', address: '::1', port });
    });

    test("econnrefused on recv after sending to a closed IPv6 port", async () => {
      const { socket } = server();
      T.connect(socket, '::1', await peer.closedPort('inet6'));
      await T.send(socket, 'knock');
      await expectRejects(() => T.recv(socket, 0, 3000), 'econnrefused');
    });

    test("a 70000-byte datagram rejects 'emsgsize'", async () => {
      const { socket } = server();
      await expectRejects(() => T.send(socket, '::1', remote.port, Buffer.alloc(70000)), 'emsgsize');
    });

    test('the expanded spelling of ::1 is the same destination', async () => {
      const { socket, port } = server();
      await T.send(socket, '0:0:0:0:0:0:0:1', remote.port, 'long form');
      const got = await remote.recv(3000);
      expect({ data: got.data.toString(), port: got.port }).toEqual({ data: 'long form', port });
    });

    test("an IPv6 socket on 'any' receives from ::1 with the sender's address", async () => {
      const socket = listen(0, { family: 'inet6', ip: 'any' });
      expectExactly(T.sockname(socket), { address: '::', family: 'IPv6', port: portOf(socket) });
      await remote.send('::1', portOf(socket), 'to any');
      expect(await T.recv(socket, 0, 3000)).toStrictEqual({ address: '::1', port: remote.port, data: Buffer.from('to any') });
    });

    test('getstat counts IPv6 traffic the same way', async () => {
      const { socket, port } = server();
      await remote.send('::1', port, Buffer.alloc(12), { count: 2 });
      await T.recv(socket, 0, 3000);
      await T.recv(socket, 0, 3000);
      await T.send(socket, '::1', remote.port, Buffer.alloc(30));
      expect(T.getstat(socket)).toMatchObject({ recv_cnt: 2, recv_oct: 24, recv_max: 12, recv_avg: 12, send_cnt: 1, send_oct: 30, send_max: 30 });
    });
  });
});
