import { execFileSync, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { DgramSocket, Socket, TransportError } from '../lib';
import { Peer, stopPeers } from './helpers/peer';
import { closeAll, expectThrows, portOf, tempDir, track } from './helpers/sockets';
import { UNSHARED_IP, eachTransport, testNative } from './helpers/transports';

let peer: Peer;
beforeAll(async () => {
  peer = await Peer.start();
});
afterAll(() => stopPeers());
afterEach(() => closeAll());

/** A listen expected to fail that succeeded anyway must not leak. */
function closeAtOnce(socket: Socket): Socket {
  socket.close();
  return socket;
}

eachTransport((subject) => {
  const { T, listen, native } = subject;

  describe('listen and open bind a socket', () => {
    test('listen(0) with no options binds every IPv4 address on a free port, passive and open', () => {
      const socket = listen(0);
      const info = T.sockname(socket) as { address: string; family: string; port: number };
      expect(info).toEqual({ address: '0.0.0.0', family: 'IPv4', port: expect.any(Number) });
      expect(info.port).toBeGreaterThan(0);
      expect(info.port).toBeLessThanOrEqual(65535);
      expect(Number.isInteger(socket.fd)).toBe(true);
      expect(socket.fd).toBeGreaterThanOrEqual(0);
      expect(socket.closed).toBe(false);
      expect(socket).toBeInstanceOf(native ? Socket : DgramSocket);
    });

    test.each([
      ['loopback', '127.0.0.1'],
      ['any', '0.0.0.0'],
      ['127.0.0.2', '127.0.0.2'],
      ['127.0.0.3', '127.0.0.3'],
    ])("ip '%s' binds %s", (ip, address) => {
      const socket = listen(0, { ip });
      expect(T.sockname(socket)).toEqual({ address, family: 'IPv4', port: portOf(socket) });
    });

    test.each([
      [{ family: 'inet6', ip: 'loopback' }, '::1'],
      [{ family: 'inet6', ip: 'any' }, '::'],
      [{ family: 'inet6' }, '::'],
      [{ ip: '::1' }, '::1'],
    ] as const)('IPv6 %j binds %s', (options, address) => {
      const socket = listen(0, options);
      expect(T.sockname(socket)).toEqual({ address, family: 'IPv6', port: portOf(socket) });
    });

    test("family 'inet' with ip 'loopback' is 127.0.0.1", () => {
      const socket = listen(0, { family: 'inet', ip: 'loopback' });
      expect(T.sockname(socket)).toEqual({ address: '127.0.0.1', family: 'IPv4', port: portOf(socket) });
    });

    test('open is listen for clients: same binding and a working socket', async () => {
      const socket = subject.open(0, { ip: '127.0.0.2' });
      expect(T.sockname(socket)).toEqual({ address: '127.0.0.2', family: 'IPv4', port: portOf(socket) });
      const receiver = await peer.bind('inet', '127.0.0.1');
      await T.send(socket, '127.0.0.1', receiver.port, 'from open');
      const got = await receiver.recv();
      expect({ data: got.data.toString(), address: got.address, port: got.port })
        .toEqual({ data: 'from open', address: '127.0.0.2', port: portOf(socket) });
    });

    test('a given port is bound exactly', () => {
      const probe = listen(0, { ip: '127.0.0.1' });
      const port = portOf(probe);
      T.close(probe);
      const socket = listen(port, { ip: '127.0.0.1' });
      expect(T.sockname(socket)).toEqual({ address: '127.0.0.1', family: 'IPv4', port });
    });

    test('listen throws synchronously (not a promise) and returns a Socket synchronously', () => {
      const socket = listen(0, { ip: 'loopback' });
      expect(socket).not.toBeInstanceOf(Promise);
      expect(typeof (socket as unknown as { then?: unknown }).then).toBe('undefined');
      expect(() => T.listen(-1)).toThrow(TransportError);
    });

    test('fd and closed are read-only', () => {
      const socket = listen(0, { ip: 'loopback' });
      const fd = socket.fd;
      try {
        (socket as unknown as { fd: number }).fd = fd + 100;
      } catch {
        // a getter-only property throws in strict mode: fine
      }
      try {
        (socket as unknown as { closed: boolean }).closed = true;
      } catch {
        // likewise
      }
      expect(socket.fd).toBe(fd);
      expect(socket.closed).toBe(false);
    });
  });

  describe('reuseaddr and reuseport', () => {
    // Defaults on port 0, at an address nobody sends to (see UNSHARED_IP).
    test('are on by default (reuseport where the transport has it): getopts reports true', () => {
      const socket = track(T.listen(0, { ip: UNSHARED_IP }));
      expect(T.getopts(socket, ['reuseaddr', 'reuseport'])).toEqual({ reuseaddr: true, reuseport: subject.reuseport });
    });

    test('by default two sockets listen on the same address and port', () => {
      const first = track(T.listen(0, { ip: UNSHARED_IP }));
      const second = listen(portOf(first), { ip: UNSHARED_IP });
      expect(T.sockname(second)).toEqual(T.sockname(first));
    });

    test('the user may turn them off: a second bind then fails eaddrinuse from bind', () => {
      const first = listen(0, { ip: '127.0.0.1', reuseaddr: false, reuseport: false });
      expect(T.getopts(first, ['reuseaddr', 'reuseport'])).toEqual({ reuseaddr: false, reuseport: false });
      const error = expectThrows(() => closeAtOnce(T.listen(portOf(first), { ip: '127.0.0.1', reuseaddr: false, reuseport: false })),
        'eaddrinuse', { syscall: 'bind' });
      expect(error.message).toMatch(/listen/);
    });

    test('a second socket with reuse off cannot join a port held by a reusing one', () => {
      const first = track(T.listen(0, { ip: UNSHARED_IP }));
      expectThrows(() => closeAtOnce(T.listen(portOf(first), { ip: UNSHARED_IP, reuseaddr: false, reuseport: false })),
        'eaddrinuse', { syscall: 'bind' });
    });

    test('a failed listen leaves the first socket working', async () => {
      const first = listen(0, { ip: '127.0.0.1', reuseaddr: false, reuseport: false });
      expect(() => closeAtOnce(T.listen(portOf(first), { ip: '127.0.0.1', reuseaddr: false, reuseport: false }))).toThrow();
      const sender = await peer.bind('inet');
      await sender.send('127.0.0.1', portOf(first), 'still here');
      const got = await T.recv(first, 0, 3000);
      expect(got).toEqual({ address: '127.0.0.1', port: sender.port, data: Buffer.from('still here') });
    });
  });

  describe('options given to listen are applied to the socket', () => {
    test('ttl set at listen time is seen by the receiving peer', async () => {
      const socket = listen(0, { ip: '127.0.0.1', ttl: 7 });
      const receiver = await peer.bind('inet');
      await T.send(socket, '127.0.0.1', receiver.port, 'marked');
      const got = await receiver.recv();
      expect({ data: got.data.toString(), ttl: got.ttl, port: got.port }).toEqual({ data: 'marked', ttl: 7, port: portOf(socket) });
    });

    testNative(subject, 'tos set at listen time is seen by the receiving peer', async () => {
      const socket = listen(0, { ip: '127.0.0.1', ttl: 7, tos: 0x28 });
      const receiver = await peer.bind('inet');
      await T.send(socket, '127.0.0.1', receiver.port, 'marked');
      const got = await receiver.recv();
      expect({ data: got.data.toString(), ttl: got.ttl, tos: got.tos, port: got.port })
        .toEqual({ data: 'marked', ttl: 7, tos: 0x28, port: portOf(socket) });
    }, () => {
      expectThrows(() => listen(0, { ip: '127.0.0.1', ttl: 7, tos: 0x28 }), 'enotsup', { message: /'tos'/ });
    });

    test('recbuf at listen time reads back doubled, as Linux reports it', () => {
      const socket = listen(0, { ip: '127.0.0.1', recbuf: 65536 });
      expect(T.getopts(socket, ['recbuf'])).toEqual({ recbuf: 131072 });
    });

    test.each(['inet', 'socket'] as const)("inet_backend '%s' is accepted and changes nothing", async (backend) => {
      const socket = listen(0, { ip: '127.0.0.1', inet_backend: backend });
      const sender = await peer.bind('inet');
      await sender.send('127.0.0.1', portOf(socket), 'backend');
      expect(await T.recv(socket, 0, 3000)).toEqual({ address: '127.0.0.1', port: sender.port, data: Buffer.from('backend') });
    });

    test('mode binary is accepted', () => {
      const socket = listen(0, { ip: '127.0.0.1', mode: 'binary' });
      expect(T.getopts(socket, ['mode'])).toEqual({ mode: 'binary' });
    });
  });

  describe('ipv6_v6only', () => {
    test('true: the option reads back true and an IPv4 datagram does not arrive', async () => {
      const socket = listen(0, { family: 'inet6', ip: 'any', ipv6_v6only: true });
      expect(T.getopts(socket, ['ipv6_v6only'])).toEqual({ ipv6_v6only: true });
      const sender = await peer.bind('inet');
      await sender.send('127.0.0.1', portOf(socket), 'v4');
      const error = await T.recv(socket, 0, 200).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).reason).toBe('timeout');
    });

    test('false: an IPv4 sender arrives as an IPv4-mapped IPv6 address', async () => {
      const socket = listen(0, { family: 'inet6', ip: 'any', ipv6_v6only: false });
      expect(T.getopts(socket, ['ipv6_v6only'])).toEqual({ ipv6_v6only: false });
      const sender = await peer.bind('inet');
      await sender.send('127.0.0.1', portOf(socket), 'mapped');
      expect(await T.recv(socket, 0, 3000))
        .toEqual({ address: '::ffff:127.0.0.1', port: sender.port, data: Buffer.from('mapped') });
    });

    test('true lets an IPv4 socket take the same port with reuse off', () => {
      const six = listen(0, { family: 'inet6', ip: 'any', ipv6_v6only: true, reuseaddr: false, reuseport: false });
      const four = listen(portOf(six), { ip: 'any', reuseaddr: false, reuseport: false });
      expect(T.sockname(four)).toEqual({ address: '0.0.0.0', family: 'IPv4', port: portOf(six) });
    });
  });

  describe('netns', () => {
    testNative(subject, 'a FIFO is no network namespace: einval at once, never a thread blocked in open(2)', () => {
      const dir = tempDir();
      const fifo = path.join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      // In a process of its own: a blocked open would hang it, not this test file.
      const child = spawnSync(process.execPath, ['-e', `
        const { UDP } = require(${JSON.stringify(path.join(__dirname, '..', 'dist'))});
        try { UDP.listen(0, { netns: ${JSON.stringify(fifo)} }); console.log('opened'); } catch (error) { console.log(error.reason); }`],
      { encoding: 'utf8', timeout: 5000 });
      expect({ output: child.stdout.trim(), signal: child.signal }).toEqual({ output: 'einval', signal: null });
    }, () => {
      expectThrows(() => listen(0, { netns: '/run/netns/abyss-test' }), 'enotsup');
    });
  });

  describe('fd: adopting an already open datagram socket', () => {
    test('a socket made by another program (Python, inherited) is adopted: same port, same descriptor, it works', async () => {
      const script = path.join(__dirname, 'scripts', 'adopt-child.js');
      const child = spawn('python3', [path.join(__dirname, 'peers', 'adopt_fd.py'), process.execPath, script],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ABYSS_TRANSPORT: subject.name } });
      const killer = setTimeout(() => child.kill('SIGKILL'), 15000);
      const client = dgram.createSocket('udp4');
      try {
        let stderr = '';
        child.stderr.on('data', (chunk) => { stderr += String(chunk); });
        const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
        const next = async (): Promise<Record<string, unknown>> => {
          const line = await lines.next();
          if (line.done) throw new Error(`child ended early: ${stderr}`);
          return JSON.parse(line.value);
        };
        const first = await next();
        expect(first.error).toBeUndefined();
        expect(first.fd).toBe(first.inheritedFd);
        expect(first.sockname).toEqual({ address: '127.0.0.1', family: 'IPv4', port: first.inheritedPort });

        client.bind(0, '127.0.0.2');
        await once(client, 'listening');
        const reply = once(client, 'message');
        client.send('ping', first.inheritedPort as number, '127.0.0.1');
        expect(await next()).toEqual({ data: Buffer.from('ping').toString('hex'), address: '127.0.0.2', port: client.address().port });
        const [message, rinfo] = (await reply) as [Buffer, dgram.RemoteInfo];
        expect({ data: message.toString(), address: rinfo.address, port: rinfo.port })
          .toEqual({ data: 'pong', address: '127.0.0.1', port: first.inheritedPort });
        expect(await next()).toEqual({ closed: true });
      } finally {
        clearTimeout(killer);
        child.kill('SIGKILL');
        client.close();
      }
    });

    test("a descriptor a socket of this package already has is badarg: two sockets would share it", () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      expect(socket.fd).toBeGreaterThan(2);
      expectThrows(() => T.listen(0, { fd: socket.fd }), 'badarg', { message: /already a socket of this package/ });
      expect(T.sockname(socket)).toMatchObject({ address: '127.0.0.1' });
    });

    test('adopting a descriptor that is not a socket fails with enotsock', () => {
      const dir = tempDir();
      const file = path.join(dir, 'plain');
      fs.writeFileSync(file, 'x');
      const fd = fs.openSync(file, 'r');
      try {
        expectThrows(() => closeAtOnce(T.listen(0, { fd })), 'enotsock');
      } finally {
        try {
          fs.closeSync(fd);
        } catch {
          // the failed listen closed it already
        }
      }
    });
  });
});

describe('UDP: port 0', () => {
  test('port 0 gets a port of its own, never one that reusing node:dgram sockets already hold (IPv4 and IPv6)', async () => {
    // Linux lets bind(2) to port 0 with SO_REUSEADDR pick a port another SO_REUSEADDR socket
    // holds: with 2000 of the ~28000 ephemeral ports held, 300 such binds hit one about 21
    // times. The script runs in a network namespace of its own, so that its reusing sockets
    // cannot join the ports of the test files running beside this one.
    const script = path.join(__dirname, 'scripts', 'port-own.js');
    const child = spawn('unshare', ['-rn', 'sh', '-c', 'ip link set lo up && exec "$0" "$1"', process.execPath, script],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => { output += String(chunk); });
    child.stderr.on('data', (chunk) => { output += String(chunk); });
    const [code] = await once(child, 'close');
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
    const report = JSON.parse(output) as Record<'inet' | 'inet6', { udp: number[]; dgram: number[]; flags: string[] }>;
    for (const family of ['inet', 'inet6'] as const) {
      const { udp, dgram: control, flags } = report[family];
      expect({ family, udp, flags }).toEqual({ family, udp: [], flags: [JSON.stringify({ reuseaddr: true, reuseport: true })] });
      // The control: the same binds through node:dgram, which sets SO_REUSEADDR before bind, do hit held ports.
      expect({ family, controlHits: control.length > 0 }).toEqual({ family, controlHits: true });
    }
  }, 30000);
});
