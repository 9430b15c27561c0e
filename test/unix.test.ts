import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UDP, type Socket } from '../lib';
import { Peer, stopPeers } from './helpers/peer';
import { closeAll, expectRejects, expectThrows, listen, settleWithin, tempDir, expectExactly } from './helpers/sockets';
import { DGRAM } from './helpers/transports';

let peer: Peer;
let dir: string;
beforeAll(async () => {
  peer = await Peer.start();
});
afterAll(() => stopPeers());
beforeEach(() => {
  dir = tempDir('abyss-unix-');
});
afterEach(() => closeAll());

function local(name: string): { socket: Socket; file: string } {
  const file = path.join(dir, name);
  return { socket: listen(0, { ip: { local: file } }), file };
}

describe('unix datagram sockets ({ local: path })', () => {
  test('listen binds the path: sockname is exactly { local: path }', () => {
    const { socket, file } = local('server');
    expectExactly(UDP.sockname(socket), { local: file });
    expect(fs.statSync(file).isSocket()).toBe(true);
  });

  test("family 'local' with ip { local } is the same", () => {
    const file = path.join(dir, 'explicit');
    const socket = listen(0, { family: 'local', ip: { local: file } });
    expectExactly(UDP.sockname(socket), { local: file });
  });

  test("family 'local' without ip is an unnamed socket: sockname { local: '' }", () => {
    const socket = listen(0, { family: 'local' });
    expectExactly(UDP.sockname(socket), { local: '' });
  });

  test('recv from a Python peer bound to a path: address { local: its path }, port 0, exact bytes', async () => {
    const { socket, file } = local('server');
    const sender = await peer.bindUnix(path.join(dir, 'py-sender'));
    const payload = Buffer.from([0, 1, 2, 3, 0xff, 0x80]);
    await sender.send(file, 0, payload);
    expect(await UDP.recv(socket, 0, 3000)).toStrictEqual({ address: { local: path.join(dir, 'py-sender') }, port: 0, data: payload });
  });

  test("recv from an unnamed Python peer: address 'unspec', port 0, as gen_udp reports it", async () => {
    const { socket, file } = local('server');
    const sender = await peer.bindUnix();
    await sender.send(file, 0, 'anonymous');
    expect(await UDP.recv(socket, 0, 3000)).toStrictEqual({ address: 'unspec', port: 0, data: Buffer.from('anonymous') });
  });

  test("an unnamed sender after an IPv6 one, in the same thread: 'unspec', never the other datagram's address", async () => {
    const v6 = listen(0, { ip: '::1' });
    const v6peer = await peer.bind('inet6', '::1');
    await v6peer.send('::1', (UDP.sockname(v6) as { port: number }).port, 'from ::1');
    expect((await UDP.recv(v6, 0, 3000)).address).toBe('::1');
    const { socket, file } = local('server');
    const sender = await peer.bindUnix();
    await sender.send(file, 0, 'anonymous');
    expect(await UDP.recvBatch(socket, 4, 3000)).toStrictEqual([{ address: 'unspec', port: 0, data: Buffer.from('anonymous') }]);
  });

  test('recvBatch reads queued unix datagrams as one batch, as UDP does', async () => {
    const { socket, file } = local('server');
    const sender = await peer.bindUnix(path.join(dir, 'py-sender'));
    for (let i = 0; i < 8; i++) await sender.send(file, 0, `d${i}`);
    const batch = await UDP.recvBatch(socket, 16, 3000);
    expect(batch.map((d) => String(d.data))).toEqual(Array.from({ length: 8 }, (_, i) => `d${i}`));
    expect(batch.every((d) => (d.address as { local: string }).local === path.join(dir, 'py-sender'))).toBe(true);
  });

  test('datagrams larger than a read slot among small ones: every one whole and in order', async () => {
    const { socket, file } = local('server');
    UDP.setopts(socket, { recbuf: 4 << 20 });
    const sender = listen(0, { ip: { local: path.join(dir, 'sender') }, sndbuf: 4 << 20 });
    const sizes = [10, 100000, 20, 30, 70000, 200000, 5];
    for (const [i, size] of sizes.entries()) await UDP.send(sender, { local: file }, Buffer.alloc(size, i));
    const got: Buffer[] = [];
    while (got.length < sizes.length) for (const d of await UDP.recvBatch(socket, 16, 3000)) got.push(d.data);
    expect(got.map((data) => data.length)).toEqual(sizes);
    expect(got.every((data, i) => data.every((byte) => byte === i))).toBe(true);
  });

  test('send(socket, { local: path }, data): the Python peer sees our path as sender', async () => {
    const { socket, file } = local('client');
    const receiver = await peer.bindUnix(path.join(dir, 'py-receiver'));
    await UDP.send(socket, { local: receiver.address }, ['to ', [Buffer.from('python')]]);
    const got = await receiver.recv(3000);
    expect({ data: got.data.toString(), address: got.address, port: got.port }).toEqual({ data: 'to python', address: file, port: 0 });
  });

  test('send(socket, { local: path }, 0, data) is the four-argument form', async () => {
    const { socket, file } = local('client');
    const receiver = await peer.bindUnix(path.join(dir, 'py-receiver'));
    await UDP.send(socket, { local: receiver.address }, 0, 'four args');
    const got = await receiver.recv(3000);
    expect({ data: got.data.toString(), address: got.address }).toEqual({ data: 'four args', address: file });
  });

  test("an unnamed socket sends too: the peer sees ''", async () => {
    const socket = listen(0, { family: 'local' });
    const receiver = await peer.bindUnix(path.join(dir, 'py-receiver'));
    await UDP.send(socket, { local: receiver.address }, 'from nobody');
    const got = await receiver.recv(3000);
    expect({ data: got.data.toString(), address: got.address }).toEqual({ data: 'from nobody', address: '' });
  });

  test('two package sockets talk to each other over paths', async () => {
    const a = local('a');
    const b = local('b');
    await UDP.send(a.socket, { local: b.file }, 'a to b');
    expect(await UDP.recv(b.socket, 0, 3000)).toStrictEqual({ address: { local: a.file }, port: 0, data: Buffer.from('a to b') });
  });

  test('abstract names (a leading NUL) work both ways and read back as bound', async () => {
    const name = `\0abyss-test-${process.pid}-${Date.now()}`;
    const socket = listen(0, { ip: { local: name } });
    expectExactly(UDP.sockname(socket), { local: name });
    const peerName = `\0abyss-peer-${process.pid}-${Date.now()}`;
    const other = await peer.bindUnix(peerName);
    await other.send(name, 0, 'abstract');
    expect(await UDP.recv(socket, 0, 3000)).toStrictEqual({ address: { local: peerName }, port: 0, data: Buffer.from('abstract') });
    await UDP.send(socket, { local: peerName }, 'back');
    const got = await other.recv(3000);
    expect({ data: got.data.toString(), address: got.address }).toEqual({ data: 'back', address: name });
  });

  test('numBytes 0 gives a whole 100000-byte datagram (larger than any IP one)', async () => {
    const { socket, file } = local('big');
    const sender = await peer.bindUnix(path.join(dir, 'py-big'));
    const payload = Buffer.from(Array.from({ length: 100000 }, (_, i) => (i * 13) & 0xff));
    await sender.send(file, 0, payload);
    const got = await UDP.recv(socket, 0, 3000);
    expect(got.data.length).toBe(100000);
    expect(got.data.equals(payload)).toBe(true);
    expect(got.truncated).toBeUndefined();
  });

  test('numBytes n > 0 truncates: the first n bytes exactly, truncated: true', async () => {
    const { socket, file } = local('server');
    const sender = await peer.bindUnix(path.join(dir, 'py-sender'));
    await sender.send(file, 0, '0123456789');
    expect(await UDP.recv(socket, 4, 3000))
      .toStrictEqual({ address: { local: path.join(dir, 'py-sender') }, port: 0, data: Buffer.from('0123'), truncated: true });
  });

  test("recv times out and close rejects a waiting recv with 'closed'", async () => {
    const { socket } = local('server');
    await expectRejects(() => UDP.recv(socket, 0, 50), 'timeout');
    const waiting = settleWithin(UDP.recv(socket, 0, 'infinity'), 200);
    UDP.close(socket);
    const outcome = await waiting;
    expect(outcome.state).toBe('rejected');
    expect((outcome as { error: { reason: string } }).error.reason).toBe('closed');
  });

  test('getstat counts unix traffic', async () => {
    const { socket, file } = local('server');
    const sender = await peer.bindUnix(path.join(dir, 'py-sender'));
    await sender.send(file, 0, Buffer.alloc(64), { count: 3 });
    for (let i = 0; i < 3; i++) await UDP.recv(socket, 0, 3000);
    await UDP.send(socket, { local: sender.address }, Buffer.alloc(10));
    expect(UDP.getstat(socket)).toMatchObject({ recv_cnt: 3, recv_oct: 192, recv_max: 64, recv_avg: 64, send_cnt: 1, send_oct: 10, send_max: 10 });
  });

  test("sending to a path where nothing is bound rejects 'enoent'", async () => {
    const { socket } = local('client');
    const error = await expectRejects(() => UDP.send(socket, { local: path.join(dir, 'nobody-here') }, 'x'), 'enoent');
    expect(error.syscall).toEqual(expect.stringMatching(/^send/));
  });

  test("binding a path that exists fails 'eaddrinuse' from bind", () => {
    const { file } = local('taken');
    expectThrows(() => UDP.close(UDP.listen(0, { ip: { local: file } })), 'eaddrinuse', { syscall: 'bind' });
  });

  test("peername of an unconnected unix socket throws 'enotconn'", () => {
    expectThrows(() => UDP.peername(local('server').socket), 'enotconn');
  });

  test('a local socket takes port 0 only; a family mismatch is badarg', () => {
    expectThrows(() => UDP.close(UDP.listen(1234, { ip: { local: path.join(dir, 'p') } })), 'badarg');
    expectThrows(() => UDP.close(UDP.listen(0, { family: 'inet', ip: { local: path.join(dir, 'q') } })), 'badarg');
    expectThrows(() => UDP.close(UDP.listen(0, { family: 'local', ip: '127.0.0.1' })), 'badarg');
    expect(fs.existsSync(path.join(dir, 'p'))).toBe(false);
  });

  test('descriptors a peer passes (SCM_RIGHTS) are closed, not leaked; a cut control buffer says so', async () => {
    const { socket, file } = local('server');
    // Descriptors of a file of this test's own: the runtime may open and close others meanwhile
    // (Bun does, in a process that runs the whole suite).
    const passed = path.join(dir, 'passed');
    fs.writeFileSync(passed, '');
    const openDescriptors = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`) === passed;
      } catch {
        return false;
      }
    }).length;
    const passFds = (count: number, text: string) =>
      execFileSync('python3', [path.join(__dirname, 'peers', 'pass_fds.py'), file, String(count), text, passed]);
    passFds(3, 'three');
    // 200 descriptors need 800 bytes of control data: more than the receive buffer holds.
    passFds(200, 'many');
    const three = await UDP.recv(socket, 0, 3000);
    expect(three).toStrictEqual({ address: 'unspec', port: 0, data: Buffer.from('three') });
    const many = await UDP.recv(socket, 0, 3000);
    expect(many).toStrictEqual({ address: 'unspec', port: 0, data: Buffer.from('many'), ancillary: { ctruncated: true } });
    expect(openDescriptors()).toBe(0);
  });

  test("every call on a closed unix socket fails 'closed'", async () => {
    const { socket } = local('server');
    UDP.close(socket);
    UDP.close(socket);
    expectThrows(() => UDP.sockname(socket), 'closed');
    expectThrows(() => UDP.getstat(socket), 'closed');
    await expectRejects(() => UDP.send(socket, { local: path.join(dir, 'x') }, 'x'), 'closed');
    await expectRejects(() => UDP.recv(socket, 0, 0), 'closed');
  });
});

describe('DgramUDP: node:dgram has no unix datagram sockets', () => {
  test('listen and open of { local } or family local are enotsup, and bind nothing; bad arguments stay badarg', () => {
    const file = path.join(dir, 'never');
    for (const options of [{ ip: { local: file } }, { family: 'local', ip: { local: file } }, { family: 'local' }] as const) {
      expectThrows(() => DGRAM.listen(0, options), 'enotsup', { message: /unix/ });
      expectThrows(() => DGRAM.open(0, options), 'enotsup');
    }
    expect(fs.existsSync(file)).toBe(false);
    expectThrows(() => DGRAM.listen(1234, { ip: { local: file } }), 'badarg');
    expectThrows(() => DGRAM.listen(0, { family: 'inet', ip: { local: file } }), 'badarg');
    expectThrows(() => DGRAM.listen(0, { ip: { local: 5 } } as never), 'badarg');
  });

  test("a { local } destination of an IP socket is eafnosupport, as on UDP", async () => {
    const socket = DGRAM.listen(0, { ip: '127.0.0.1' });
    await expectRejects(() => DGRAM.T.send(socket, { local: path.join(dir, 'x') }, 'x'), 'eafnosupport');
    await expectRejects(() => DGRAM.T.send(socket, { local: path.join(dir, 'x') }, 0, 'x'), 'eafnosupport');
    expectThrows(() => DGRAM.T.connect(socket, { local: path.join(dir, 'x') }, 0), 'eafnosupport');
  });
});
