import { threadId } from 'node:worker_threads';
import { TransportError, type Socket } from '../lib';
import { Peer, stopPeers } from './helpers/peer';
import { closeAll, expectRejects, expectThrows, portOf, settleWithin, expectExactly, expectTransportErrorClass } from './helpers/sockets';
import { eachTransport } from './helpers/transports';

let peer: Peer;
beforeAll(async () => {
  peer = await Peer.start();
});
afterAll(() => stopPeers());
afterEach(() => closeAll());

const DEST = { address: '127.0.0.1', port: 9 };

describe('TransportError', () => {
  test('is an Error subclass with reason, code = REASON, name and message', () => {
    const error = new TransportError('eaddrinuse', 'listen: bind failed', 'bind', 98);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(TransportError);
    expect({ name: error.name, reason: error.reason, code: error.code, syscall: error.syscall, message: error.message })
      .toEqual({ name: 'TransportError', reason: 'eaddrinuse', code: 'EADDRINUSE', syscall: 'bind', message: 'listen: bind failed' });
  });
});

eachTransport(({ T, listen }) => {
  const socket4 = (): Socket => listen(0, { ip: '127.0.0.1' });

  describe('errors the transport throws', () => {
    test('errors thrown by the package carry all of it: eaddrinuse from bind', () => {
      const first = listen(0, { ip: '127.0.0.1', reuseaddr: false, reuseport: false });
      let thrown: unknown;
      try {
        T.close(T.listen(portOf(first), { ip: '127.0.0.1', reuseaddr: false, reuseport: false }));
      } catch (error) {
        thrown = error;
      }
      expectTransportErrorClass(thrown);
      const error = thrown as TransportError;
      expect({ name: error.name, reason: error.reason, code: error.code, syscall: error.syscall })
        .toEqual({ name: 'TransportError', reason: 'eaddrinuse', code: 'EADDRINUSE', syscall: 'bind' });
      expect(error.message).toMatch(/listen/);
      expect(typeof error.stack).toBe('string');
    });

    test('a badarg names the operation and has no syscall (none failed)', () => {
      const error = expectThrows(() => T.listen(70000), 'badarg');
      expect(error.message).toMatch(/listen/);
      expect(error.message).toMatch(/70000/);
      expect(error.syscall).toBeUndefined();
    });
  });

  describe('peername and sockname', () => {
    test("peername of an unconnected socket throws 'enotconn' from getpeername", () => {
      const error = expectThrows(() => T.peername(socket4()), 'enotconn', { syscall: 'getpeername' });
      expect(error.message).toMatch(/peername/);
    });

    test('peername after connect: { address, family, port } of the peer', () => {
      const socket = socket4();
      T.connect(socket, '127.0.0.3', 4242);
      expectExactly(T.peername(socket), { address: '127.0.0.3', family: 'IPv4', port: 4242 });
    });

    test('sockname is exactly { address, family, port }', () => {
      const socket = socket4();
      expectExactly(T.sockname(socket), { address: '127.0.0.1', family: 'IPv4', port: portOf(socket) });
    });

    test('connect of an unbound-to-a-specific-address socket fixes its local address', () => {
      const socket = listen(0);
      T.connect(socket, '127.0.0.2', 5353);
      expectExactly(T.sockname(socket), { address: '127.0.0.1', family: 'IPv4', port: portOf(socket) });
    });
  });

  describe('negotiatedProtocol', () => {
    test("plain UDP throws 'protocol_not_negotiated'", () => {
      const error = expectThrows(() => T.negotiatedProtocol(socket4()), 'protocol_not_negotiated');
      expect(error.code).toBe('PROTOCOL_NOT_NEGOTIATED');
    });

    test("a closed socket throws 'closed'", () => {
      const socket = socket4();
      T.close(socket);
      expectThrows(() => T.negotiatedProtocol(socket), 'closed');
    });
  });

  describe('close', () => {
    test('is idempotent and marks the socket closed', () => {
      const socket = socket4();
      expect(T.close(socket)).toBeUndefined();
      expect(socket.closed).toBe(true);
      expect(() => T.close(socket)).not.toThrow();
      expect(() => T.close(socket)).not.toThrow();
      expect(socket.closed).toBe(true);
    });

    test('frees the port: the same port binds again with reuse off', () => {
      const socket = listen(0, { ip: '127.0.0.1', reuseaddr: false, reuseport: false });
      const port = portOf(socket);
      T.close(socket);
      const again = listen(port, { ip: '127.0.0.1', reuseaddr: false, reuseport: false });
      expect(portOf(again)).toBe(port);
    });

    test("every synchronous call afterwards throws 'closed'", () => {
      const socket = socket4();
      T.close(socket);
      expectThrows(() => T.connect(socket, '127.0.0.1', 9), 'closed');
      expectThrows(() => T.getopts(socket, ['ttl']), 'closed');
      expectThrows(() => T.setopts(socket, { ttl: 3 }), 'closed');
      expectThrows(() => T.sockname(socket), 'closed');
      expectThrows(() => T.peername(socket), 'closed');
      expectThrows(() => T.getstat(socket), 'closed');
      expectThrows(() => T.negotiatedProtocol(socket), 'closed');
      expectThrows(() => T.controllingProcess(socket, threadId), 'closed');
    });

    test("every asynchronous call afterwards rejects 'closed' (a promise, not a throw)", async () => {
      const socket = socket4();
      T.close(socket);
      await expectRejects(() => T.recv(socket, 0, 0), 'closed');
      await expectRejects(() => T.recv(socket, 10, 'infinity'), 'closed', {}, 500);
      await expectRejects(() => T.recvBatch(socket, 4, 100), 'closed');
      await expectRejects(() => T.send(socket, 'x'), 'closed');
      await expectRejects(() => T.send(socket, DEST, 'x'), 'closed');
      await expectRejects(() => T.send(socket, '127.0.0.1', 9, 'x'), 'closed');
      await expectRejects(() => T.send(socket, '127.0.0.1', 9, { ttl: 2 }, 'x'), 'closed');
      await expectRejects(() => T.sendBatch(socket, [{ ...DEST, data: 'x' }]), 'closed');
    });

    test("close rejects a pending recvBatch with 'closed' at once", async () => {
      const socket = socket4();
      const pending = settleWithin(T.recvBatch(socket, 8, 'infinity'), 200);
      T.close(socket);
      const outcome = await pending;
      expect(outcome.state).toBe('rejected');
      expect((outcome as { error: TransportError }).error.reason).toBe('closed');
    });
  });

  /** Values that are not sockets. */
  const NOT_SOCKETS: [string, unknown][] = [['null', null], ['undefined', undefined], ['a number', 3], ['a plain object', { fd: 3, closed: false }], ['a string', 'socket']];

  describe('badarg for a non-socket, in every call', () => {
    test.each(NOT_SOCKETS)('synchronous calls throw badarg for %s', (_what, value) => {
      const bad = value as Socket;
      expectThrows(() => T.connect(bad, '127.0.0.1', 9), 'badarg');
      expectThrows(() => T.getopts(bad, ['ttl']), 'badarg');
      expectThrows(() => T.setopts(bad, { ttl: 3 }), 'badarg');
      expectThrows(() => T.close(bad), 'badarg');
      expectThrows(() => T.sockname(bad), 'badarg');
      expectThrows(() => T.peername(bad), 'badarg');
      expectThrows(() => T.getstat(bad), 'badarg');
      expectThrows(() => T.negotiatedProtocol(bad), 'badarg');
    });

    test.each(NOT_SOCKETS)('asynchronous calls reject badarg for %s', async (_what, value) => {
      const bad = value as Socket;
      await expectRejects(() => T.recv(bad, 0, 0), 'badarg');
      await expectRejects(() => T.recvBatch(bad, 1, 0), 'badarg');
      await expectRejects(() => T.send(bad, 'x'), 'badarg');
      await expectRejects(() => T.send(bad, DEST, 'x'), 'badarg');
      await expectRejects(() => T.send(bad, '127.0.0.1', 9, 'x'), 'badarg');
      await expectRejects(() => T.send(bad, '127.0.0.1', 9, {}, 'x'), 'badarg');
      await expectRejects(() => T.sendBatch(bad, []), 'badarg');
    });
  });

  describe('listen and open: bad arguments are badarg', () => {
    test.each<[string, unknown]>([
      ['-1', -1], ['65536', 65536], ['1.5', 1.5], ['NaN', NaN], ['Infinity', Infinity], ["'0' (a string)", '0'], ['null', null], ['undefined', undefined],
    ])('port %s', (_what, port) => {
      expectThrows(() => T.close(T.listen(port as number, { ip: '127.0.0.1' })), 'badarg');
      expectThrows(() => T.close(T.open(port as number, { ip: '127.0.0.1' })), 'badarg');
    });

    test.each<[string, unknown]>([
      ['a string', 'loopback'], ['a number', 5], ['null', null], ['an array', [['ip', 'loopback']]],
    ])('options as %s', (_what, options) => {
      expectThrows(() => T.close(T.listen(0, options as never)), 'badarg');
    });

    test.each<[string, Record<string, unknown>, RegExp]>([
      ['ip not an address', { ip: 'nonsense' }, /nonsense/],
      ['ip out of range', { ip: '999.1.1.1' }, /999\.1\.1\.1/],
      ['ip with a port', { ip: '127.0.0.1:80' }, /127\.0\.0\.1:80/],
      ['ip empty', { ip: '' }, /ip|''/],
      ['ip a number', { ip: 5 }, /5/],
      ['ip an object without local', { ip: { path: '/tmp/x' } }, /ip|local/],
      ['ip local not a string', { ip: { local: 5 } }, /local|5/],
      ['family unknown', { family: 'inet7' }, /inet7/],
      ['family a number', { family: 4 }, /family|4/],
      ['fd negative', { fd: -1 }, /fd|-1/],
      ['fd fractional', { fd: 1.5 }, /fd|1\.5/],
      ['fd a string', { fd: '3' }, /fd|3/],
      ['inet_backend unknown', { inet_backend: 'erlang' }, /inet_backend|erlang/],
      ['unknown option', { no_such_option: 1 }, /no_such_option/],
      ['bad option value', { recbuf: -5 }, /recbuf/],
      ['reuseaddr not a boolean', { reuseaddr: 'yes' }, /reuseaddr/],
      ['ipv6_v6only not a boolean', { family: 'inet6', ipv6_v6only: 1 }, /ipv6_v6only/],
      ["mode 'list'", { mode: 'list' }, /mode/],
      ['header', { header: 2 }, /header/],
      ['packet', { packet: 1 }, /packet/],
      ['deliver', { deliver: 'term' }, /deliver/],
      ['a local socket with a port', { ip: { local: '/tmp/abyss-never-bound' } }, /port/],
    ])('%s', (what, options, pattern) => {
      const port = what === 'a local socket with a port' ? 5000 : 0;
      const error = expectThrows(() => T.close(T.listen(port, options as never)), 'badarg');
      expect(error.message).toMatch(/listen/);
      expect(error.message).toMatch(pattern);
    });
  });

  describe('connect: what the kernel refuses', () => {
    test('a refused connect throws the kernel reason synchronously, and leaves the socket unconnected', () => {
      const socket = socket4();
      expectThrows(() => T.connect(socket, '255.255.255.255', 9), 'eacces', { syscall: 'connect' });
      expectThrows(() => T.peername(socket), 'enotconn');
      T.setopts(socket, { broadcast: true });
      T.connect(socket, '255.255.255.255', 9);
      expect(T.peername(socket)).toMatchObject({ address: '255.255.255.255', port: 9 });
    });
  });

  describe('connect: bad arguments are badarg', () => {
    test.each<[string, unknown, unknown]>([
      ['address not an IP', 'nope', 9],
      ['address out of range', '256.0.0.1', 9],
      ['address a number', 5, 9],
      ['address null', null, 9],
      ['port -1', '127.0.0.1', -1],
      ['port 65536', '127.0.0.1', 65536],
      ['port 1.5', '127.0.0.1', 1.5],
      ['port NaN', '127.0.0.1', NaN],
      ["port '53'", '127.0.0.1', '53'],
    ])('%s', (_what, address, port) => {
      const socket = socket4();
      const error = expectThrows(() => T.connect(socket, address as string, port as number), 'badarg');
      expect(error.message).toMatch(/connect/);
      expectThrows(() => T.peername(socket), 'enotconn');
    });
  });

  describe('recv and recvBatch: bad arguments reject badarg', () => {
    test.each<[string, unknown]>([
      ['-1', -1], ['1.5', 1.5], ['NaN', NaN], ["'10'", '10'], ['null', null], ['Infinity', Infinity], ['undefined', undefined],
    ])('numBytes %s', async (_what, numBytes) => {
      const error = await expectRejects(() => T.recv(socket4(), numBytes as number, 0), 'badarg');
      expect(error.message).toMatch(/recv/);
    });

    test.each<[string, unknown]>([
      ['-5', -5], ["'forever'", 'forever'], ['NaN', NaN], ['null', null], ["'100'", '100'], ['-Infinity', -Infinity], ['undefined', undefined],
    ])('timeout %s', async (_what, timeout) => {
      const error = await expectRejects(() => T.recv(socket4(), 0, timeout as number), 'badarg');
      expect(error.message).toMatch(/recv/);
      await expectRejects(() => T.recvBatch(socket4(), 4, timeout as number), 'badarg');
    });

    test.each<[string, unknown]>([['0', 0], ['-1', -1], ['1.5', 1.5], ["'4'", '4'], ['NaN', NaN]])('recvBatch max %s', async (_what, max) => {
      await expectRejects(() => T.recvBatch(socket4(), max as number, 0), 'badarg');
    });

    test('a rejected bad call does not disturb the socket: a datagram still arrives', async () => {
      const socket = socket4();
      await expectRejects(() => T.recv(socket, -1, 1000), 'badarg');
      const sender = await peer.bind('inet', '127.0.0.2');
      await sender.send('127.0.0.1', portOf(socket), 'after badarg');
      expect(await T.recv(socket, 0, 3000)).toEqual({ address: '127.0.0.2', port: sender.port, data: Buffer.from('after badarg') });
    });
  });

  describe('send: bad arguments reject badarg', () => {
    test.each<[string, unknown]>([
      ['a number', 5], ['null', null], ['undefined', undefined], ['an object', { data: 'x' }], ['a boolean', true],
      ['an array holding a number', ['ok', 1]], ['an array holding an object', [['ok', [{}]]]],
    ])('data %s', async (_what, data) => {
      const socket = socket4();
      await expectRejects(() => T.send(socket, '127.0.0.1', 9, data as string), 'badarg');
      await expectRejects(() => T.send(socket, DEST, data as string), 'badarg');
      await expectRejects(() => T.send(socket, '127.0.0.1', 9, {}, data as string), 'badarg');
      T.connect(socket, '127.0.0.1', 9);
      await expectRejects(() => T.send(socket, data as string), 'badarg');
      expect(T.getstat(socket).send_cnt).toBe(0);
    });

    test.each<[string, unknown]>([
      ['empty', ''], ['with a port', '127.0.0.1:80'], ['bad IPv6', ':::1'], ['a number', 5], ['null', null], ['with a space', 'a b'],
    ])('address %s', async (_what, address) => {
      const socket = socket4();
      await expectRejects(() => T.send(socket, address as string, 9, 'x'), 'badarg');
      await expectRejects(() => T.send(socket, { address: address as string, port: 9 }, 'x'), 'badarg');
      await expectRejects(() => T.send(socket, address as string, 9, {}, 'x'), 'badarg');
    });

    test.each<[string, unknown]>([['-1', -1], ['65536', 65536], ['1.5', 1.5], ['NaN', NaN], ["'80'", '80'], ['null', null]])('port %s', async (_what, port) => {
      const socket = socket4();
      await expectRejects(() => T.send(socket, '127.0.0.1', port as number, 'x'), 'badarg');
      await expectRejects(() => T.send(socket, { address: '127.0.0.1', port: port as number }, 'x'), 'badarg');
      await expectRejects(() => T.send(socket, '127.0.0.1', port as number, {}, 'x'), 'badarg');
    });

    test.each<[string, unknown]>([
      ['a string', 'ttl'], ['null', null], ['a number', 7], ['an unknown key', { hops: 3 }], ['a negative ttl', { ttl: -1 }],
      ['a ttl above 255', { ttl: 256 }], ['a string tos', { tos: 'high' }], ['a fractional ttl', { ttl: 1.5 }],
    ])('ancillary %s', async (_what, ancillary) => {
      await expectRejects(() => T.send(socket4(), '127.0.0.1', 9, ancillary as never, 'x'), 'badarg');
    });

    test('a destination that is not an object, or lacks a port, is badarg', async () => {
      const socket = socket4();
      await expectRejects(() => T.send(socket, '127.0.0.1' as never, 'x'), 'badarg');
      await expectRejects(() => T.send(socket, { address: '127.0.0.1' } as never, 'x'), 'badarg');
      await expectRejects(() => T.send(socket, null as never, 'x'), 'badarg');
    });

    test('a wrong number of arguments is badarg', async () => {
      const socket = socket4();
      const send = T.send as unknown as (...args: unknown[]) => Promise<void>;
      await expectRejects(() => send(socket), 'badarg');
      await expectRejects(() => send(socket, '127.0.0.1', 9, {}, 'x', 'extra'), 'badarg');
    });

    test('nothing is sent for a bad call', async () => {
      const socket = socket4();
      const receiver = await peer.bind('inet', '127.0.0.1');
      await expectRejects(() => T.send(socket, '127.0.0.1', receiver.port, { ttl: 999 }, 'bad'), 'badarg');
      await expectRejects(() => T.send(socket, '127.0.0.1', receiver.port, ['ok', 5] as never), 'badarg');
      await receiver.expectNone(150);
      expect(T.getstat(socket)).toMatchObject({ send_cnt: 0, send_oct: 0 });
    });
  });

  describe('sendBatch: bad arguments reject badarg and send nothing', () => {
    test.each<[string, unknown]>([
      ['not an array', { address: '127.0.0.1', port: 9, data: 'x' }],
      ['a message that is not an object', ['x']],
      ['a bad address', [{ address: '127.0.0.1:80', port: 9, data: 'x' }]],
      ['a bad port', [{ address: '127.0.0.1', port: 70000, data: 'x' }]],
      ['bad data', [{ address: '127.0.0.1', port: 9, data: 5 }]],
      ['bad ancillary', [{ address: '127.0.0.1', port: 9, data: 'x', ancillary: 'ttl' }]],
      ['a message with a key of its own', [{ address: '127.0.0.1', port: 9, data: 'x', extra: 1 }]],
    ])('%s', async (_what, messages) => {
      await expectRejects(() => T.sendBatch(socket4(), messages as never), 'badarg');
    });

    test('a bad message after good ones: none goes out', async () => {
      const socket = socket4();
      const receiver = await peer.bind('inet', '127.0.0.1');
      await expectRejects(() => T.sendBatch(socket, [
        { address: '127.0.0.1', port: receiver.port, data: 'good 1' },
        { address: '127.0.0.1', port: receiver.port, data: 'good 2' },
        { address: '127.0.0.1', port: receiver.port, data: 42 as never },
      ]), 'badarg');
      await receiver.expectNone(150);
      expect(T.getstat(socket).send_cnt).toBe(0);
    });
  });
});
