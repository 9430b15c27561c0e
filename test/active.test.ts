import dgram from 'node:dgram';
import { once } from 'node:events';
import type { RecvData, Socket } from '../lib';
import { closeAll, expectThrows, portOf } from './helpers/sockets';
import { eachTransport, testNative } from './helpers/transports';

let client: dgram.Socket;

beforeEach(async () => {
  client = dgram.createSocket('udp4');
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
});

afterEach(() => {
  closeAll();
  client.close();
});

function sendAll(port: number, bodies: string[]): Promise<void> {
  return bodies.reduce((previous, body) => previous.then(() => new Promise<void>((resolve, reject) => {
    client.send(body, port, '127.0.0.1', (error) => (error ? reject(error) : resolve()));
  })), Promise.resolve());
}

function collect(socket: Socket, count: number): Promise<RecvData[]> {
  return new Promise((resolve) => {
    const got: RecvData[] = [];
    const onDatagram = (datagram: RecvData): void => {
      got.push(datagram);
      if (got.length === count) {
        socket.off('udp', onDatagram);
        resolve(got);
      }
    };
    socket.on('udp', onDatagram);
  });
}

async function settle(ms = 50): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

eachTransport((subject) => {
  const { T, listen } = subject;

  function server(options = {}): { socket: Socket; port: number } {
    const socket = listen(0, { ip: 'loopback', ...options });
    return { socket, port: portOf(socket) };
  }

  describe('active mode', () => {
    test('active: true emits every datagram as a udp event with the sender', async () => {
      const { socket, port } = server({ active: true });
      const arriving = collect(socket, 3);
      await sendAll(port, ['a', 'b', 'c']);
      const got = await arriving;
      expect(got.map((d) => String(d.data))).toEqual(['a', 'b', 'c']);
      expect(got[0]).toMatchObject({ address: '127.0.0.1', port: client.address().port });
      expect(T.getopts(socket, ['active'])).toEqual({ active: true });
    });

    test("'once' delivers one datagram and goes passive without 'udp_passive' (inet sends it only for N); the rest waits in the kernel", async () => {
      const { socket, port } = server();
      T.setopts(socket, { active: 'once' });
      let passives = 0;
      socket.on('udp_passive', () => passives++);
      const first = collect(socket, 1);
      await sendAll(port, ['one', 'two', 'three']);
      expect(String((await first)[0].data)).toBe('one');
      expect(T.getopts(socket, ['active'])).toEqual({ active: false });
      await settle();
      // Back-pressure: what was not asked for waits in the kernel, not in JS.
      expect(T.getstat(socket).kernel.rx_queue).toBeGreaterThan(0);
      expect(String((await T.recv(socket, 0, 1000)).data)).toBe('two');
      expect(String((await T.recv(socket, 0, 1000)).data)).toBe('three');
      expect(passives).toBe(0);
    });

    test('a count N delivers N datagrams then emits udp_passive; counts add up as in inet', async () => {
      const { socket, port } = server();
      T.setopts(socket, { active: 2 });
      T.setopts(socket, { active: 1 });
      expect(T.getopts(socket, ['active'])).toEqual({ active: 3 });
      const passive = once(socket, 'udp_passive');
      const got = collect(socket, 3);
      await sendAll(port, ['1', '2', '3', '4']);
      expect((await got).map((d) => String(d.data))).toEqual(['1', '2', '3']);
      await passive;
      expect(String((await T.recv(socket, 0, 1000)).data)).toBe('4');
      T.setopts(socket, { active: 1 });
      const passiveAgain = once(socket, 'udp_passive');
      T.setopts(socket, { active: -1 });
      await passiveAgain;
      expect(T.getopts(socket, ['active'])).toEqual({ active: false });
    });

    test('recv on an active socket rejects einval, as gen_udp does', async () => {
      const { socket } = server({ active: true });
      await expect(T.recv(socket, 0, 0)).rejects.toMatchObject({ reason: 'einval', code: 'EINVAL' });
    });

    test('a waiting recv is refused when the socket turns active', async () => {
      const { socket } = server();
      const waiting = T.recv(socket, 0, 5000);
      T.setopts(socket, { active: true });
      await expect(waiting).rejects.toMatchObject({ reason: 'einval' });
    });

    testNative(subject, 'ancillary data rides along in active mode', async () => {
      const { socket, port } = server({ active: true, recvttl: true });
      const got = collect(socket, 1);
      await sendAll(port, ['ttl']);
      expect((await got)[0].ancillary).toEqual({ ttl: 64 });
    }, () => {
      expectThrows(() => server({ active: true, recvttl: true }), 'enotsup');
    });

    test('bad active values are badarg', () => {
      const { socket } = server();
      for (const value of ['twice', 1.5, 40000, null, {}]) {
        expect(() => T.setopts(socket, { active: value as never })).toThrow(expect.objectContaining({ reason: 'badarg' }));
      }
    });
  });

  describe('Node idioms', () => {
    test('an AbortSignal withdraws a waiting recv without consuming a datagram', async () => {
      const { socket, port } = server();
      const controller = new AbortController();
      const aborted = T.recv(socket, 0, 'infinity', { signal: controller.signal });
      const next = T.recv(socket, 0, 2000);
      controller.abort(new Error('stop'));
      await expect(aborted).rejects.toMatchObject({ reason: 'aborted' });
      await sendAll(port, ['kept']);
      expect(String((await next).data)).toBe('kept');
      await expect(T.recvBatch(socket, 4, 10, { signal: AbortSignal.abort() })).rejects.toMatchObject({ reason: 'aborted' });
      await expect(T.recv(socket, 0, 10, { signal: 'x' } as never)).rejects.toMatchObject({ reason: 'badarg' });
    });

    test('for await iterates datagrams until the socket closes', async () => {
      const { socket, port } = server();
      const seen: string[] = [];
      const iterating = (async () => {
        for await (const datagram of socket) {
          seen.push(String(datagram.data));
          if (seen.length === 3) T.close(socket);
        }
      })();
      await sendAll(port, ['x', 'y', 'z']);
      await iterating;
      expect(seen).toEqual(['x', 'y', 'z']);
      expect(socket.closed).toBe(true);
    });

    test('Symbol.asyncDispose closes the socket', async () => {
      const { socket } = server();
      await socket[Symbol.asyncDispose]();
      expect(socket.closed).toBe(true);
      expect(socket.fd).toBe(-1);
    });
  });
});
