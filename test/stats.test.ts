import type { Socket, SocketStats } from '../lib';
import { Peer, type PeerSocket, stopPeers } from './helpers/peer';
import { closeAll, expectRejects, expectThrows, portOf, sleep } from './helpers/sockets';
import { eachTransport } from './helpers/transports';

let peer: Peer;
let remote: PeerSocket;
beforeAll(async () => {
  peer = await Peer.start();
  remote = await peer.bind('inet', '127.0.0.1');
});
afterAll(() => stopPeers());
afterEach(async () => {
  closeAll();
  await remote.drain();
});

const COUNTERS = ['recv_oct', 'recv_cnt', 'recv_max', 'recv_avg', 'recv_dvi', 'send_oct', 'send_cnt', 'send_max', 'send_avg', 'send_pend'] as const;
const KERNEL = ['rx_queue', 'tx_queue', 'drops', 'rmem_alloc', 'rcvbuf', 'wmem_alloc', 'sndbuf'] as const;

function counters(stats: SocketStats): Record<string, number> {
  return Object.fromEntries(COUNTERS.map((name) => [name, stats[name]]));
}

/** Waits (bounded) until the kernel queue of `socket` satisfies `check`. */
async function kernelUntil(socket: Socket, check: (stats: SocketStats['kernel']) => boolean): Promise<void> {
  const end = Date.now() + 1500;
  while (Date.now() < end && !check(socket.getstat().kernel)) await sleep(5);
}

eachTransport(({ T, listen, native }) => {
  describe('getstat', () => {
    test('a fresh socket: the ten counters are 0 and the kernel fields are non-negative integers', () => {
      const stats = T.getstat(listen(0, { ip: '127.0.0.1' }));
      expect(counters(stats)).toEqual(Object.fromEntries(COUNTERS.map((name) => [name, 0])));
      for (const name of KERNEL) {
        expect(typeof stats.kernel[name]).toBe('number');
        expect(Number.isInteger(stats.kernel[name])).toBe(true);
        expect(stats.kernel[name]).toBeGreaterThanOrEqual(0);
      }
      expect(stats.kernel).toMatchObject({ rx_queue: 0, tx_queue: 0, drops: 0, rmem_alloc: 0 });
    });

    test('a truncated recv counts the bytes it returned, as inet counts what it read', async () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      await remote.send('127.0.0.1', portOf(socket), Buffer.alloc(50, 3));
      expect((await T.recv(socket, 8, 3000)).truncated).toBe(true);
      expect(T.getstat(socket)).toMatchObject({ recv_cnt: 1, recv_oct: 8, recv_max: 8, recv_avg: 8 });
    });

    test('recv_avg and recv_dvi follow inet_drv: running mean, mean deviation from it, truncated', async () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      const sizes = [10, 30, 20, 100];
      for (const size of sizes) await remote.send('127.0.0.1', portOf(socket), Buffer.alloc(size, 1));
      for (let i = 0; i < sizes.length; i++) await T.recv(socket, 0, 3000);
      // inet_drv: avg += (len - avg) / n; dvi += ((len - avg) - dvi) / n, with avg already updated.
      let avg = 0;
      let dvi = 0;
      sizes.forEach((size, index) => {
        avg += (size - avg) / (index + 1);
        dvi += (size - avg - dvi) / (index + 1);
      });
      expect(T.getstat(socket)).toMatchObject({ recv_avg: Math.trunc(avg), recv_dvi: Math.trunc(Math.abs(dvi)) });
      expect([Math.trunc(avg), Math.trunc(Math.abs(dvi))]).toEqual([40, 17]);
    });

    test('kernel rcvbuf and sndbuf are what getopts reports for recbuf and sndbuf', () => {
      const socket = listen(0, { ip: '127.0.0.1', recbuf: 50000, sndbuf: 30000 });
      const { recbuf, sndbuf } = T.getopts(socket, ['recbuf', 'sndbuf']);
      expect([recbuf, sndbuf]).toEqual([100000, 60000]);
      expect(T.getstat(socket).kernel).toMatchObject({ rcvbuf: 100000, sndbuf: 60000 });
    });

    test('receive counters after known datagrams: count, octets, max; equal sizes average exactly', async () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      for (const size of [10, 30, 20]) await remote.send('127.0.0.1', portOf(socket), Buffer.alloc(size, 1));
      for (let i = 0; i < 3; i++) await T.recv(socket, 0, 3000);
      expect(T.getstat(socket)).toMatchObject({ recv_cnt: 3, recv_oct: 60, recv_max: 30, send_cnt: 0, send_oct: 0 });

      const even = listen(0, { ip: '127.0.0.1' });
      await remote.send('127.0.0.1', portOf(even), Buffer.alloc(40, 2), { count: 4 });
      for (let i = 0; i < 4; i++) await T.recv(even, 0, 3000);
      const stats = T.getstat(even);
      expect(stats).toMatchObject({ recv_cnt: 4, recv_oct: 160, recv_max: 40, recv_avg: 40 });
      expect(Number.isFinite(stats.recv_dvi)).toBe(true);
      expect(stats.recv_dvi).toBeGreaterThanOrEqual(0);
    });

    test('send counters after known datagrams, in every send form; send_pend 0 when idle', async () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      await T.send(socket, '127.0.0.1', remote.port, Buffer.alloc(5));
      await T.send(socket, { address: '127.0.0.1', port: remote.port }, ['ab', Buffer.alloc(5)]);
      await T.send(socket, '127.0.0.1', remote.port, native ? { ttl: 9 } : {}, Buffer.alloc(100));
      T.connect(socket, '127.0.0.1', remote.port);
      await T.send(socket, 'x');
      expect(counters(T.getstat(socket))).toMatchObject({ send_cnt: 4, send_oct: 113, send_max: 100, send_pend: 0, recv_cnt: 0, recv_oct: 0 });
      for (let i = 0; i < 4; i++) await remote.recv(3000);
    });

    test('equal-size sends average exactly', async () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      for (let i = 0; i < 5; i++) await T.send(socket, '127.0.0.1', remote.port, Buffer.alloc(25));
      expect(T.getstat(socket)).toMatchObject({ send_cnt: 5, send_oct: 125, send_max: 25, send_avg: 25, send_pend: 0 });
    });

    test('receive counters follow what recv returned: after 1 of 3 queued datagrams, 1 is counted', async () => {
      // inet's meaning in passive mode: each gen_udp:recv reads one datagram, and getstat counts
      // the datagrams read so far, so the counters match the calls the owner made.
      const socket = listen(0, { ip: '127.0.0.1' });
      for (const size of [1, 2, 3]) await remote.send('127.0.0.1', portOf(socket), Buffer.alloc(size, 5));
      await kernelUntil(socket, (kernel) => kernel.rx_queue > 0);
      await sleep(20);
      expect((await T.recv(socket, 0, 3000)).data.length).toBe(1);
      expect(counters(T.getstat(socket))).toMatchObject({ recv_cnt: 1, recv_oct: 1, recv_max: 1 });
      await T.recv(socket, 0, 3000);
      await T.recv(socket, 0, 3000);
      expect(counters(T.getstat(socket))).toMatchObject({ recv_cnt: 3, recv_oct: 6, recv_max: 3 });
    });

    test('a truncated receive counts one datagram', async () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      await remote.send('127.0.0.1', portOf(socket), Buffer.alloc(50));
      const got = await T.recv(socket, 8, 3000);
      expect(got.truncated).toBe(true);
      expect(T.getstat(socket).recv_cnt).toBe(1);
    });

    test('rx_queue and rmem_alloc: > 0 while datagrams wait, 0 once they are read', async () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      await remote.send('127.0.0.1', portOf(socket), Buffer.alloc(100, 7), { count: 2 });
      await kernelUntil(socket, (kernel) => kernel.rx_queue > 0);
      const waiting = T.getstat(socket).kernel;
      expect(waiting.rx_queue).toBeGreaterThan(0);
      expect(waiting.rx_queue).toBeLessThanOrEqual(200);
      // DgramUDP's datagrams wait in its own queue, which libuv fills at once: kernel memory is the addon's measure.
      if (native) expect(waiting.rmem_alloc).toBeGreaterThan(0);
      expect(T.getstat(socket).recv_cnt).toBe(0);
      for (let i = 0; i < 2; i++) expect((await T.recv(socket, 0, 3000)).data).toEqual(Buffer.alloc(100, 7));
      expect(T.getstat(socket).kernel).toMatchObject({ rx_queue: 0, rmem_alloc: 0 });
      expect(T.getstat(socket)).toMatchObject({ recv_cnt: 2, recv_oct: 200, recv_max: 100, recv_avg: 100 });
    });

    test('drops counts the datagrams the kernel discarded for a full receive buffer', async () => {
      const socket = listen(0, { ip: '127.0.0.1', recbuf: 4096 });
      await remote.send('127.0.0.1', portOf(socket), Buffer.alloc(1000, 3), { count: 50 });
      await kernelUntil(socket, (kernel) => kernel.drops > 0);
      const { drops } = T.getstat(socket).kernel;
      expect(drops).toBeGreaterThan(0);
      let delivered = 0;
      for (;;) {
        try {
          await T.recv(socket, 0, 0);
          delivered++;
        } catch {
          break;
        }
      }
      expect(delivered).toBeGreaterThan(0);
      expect(delivered + T.getstat(socket).kernel.drops).toBe(50);
      expect(T.getstat(socket).recv_cnt).toBe(delivered);
    });

    test('recvBatch and sendBatch keep the counters as the single calls do', async () => {
      const a = listen(0, { ip: '127.0.0.1' });
      const b = listen(0, { ip: '127.0.0.1' });
      const sent = await T.sendBatch(a, [
        { address: '127.0.0.1', port: portOf(b), data: Buffer.alloc(10) },
        { address: '127.0.0.1', port: portOf(b), data: Buffer.alloc(20) },
        { address: '127.0.0.1', port: portOf(b), data: [Buffer.alloc(15), 'xxxxx'] },
      ]);
      expect(sent).toBe(3);
      expect(T.getstat(a)).toMatchObject({ send_cnt: 3, send_oct: 50, send_max: 20, send_pend: 0 });
      await kernelUntil(b, (kernel) => kernel.rx_queue > 0);
      const received = [];
      while (received.length < 3) received.push(...(await T.recvBatch(b, 3, 3000)));
      expect(received.map((d) => d.data.length)).toEqual([10, 20, 20]);
      expect(T.getstat(b)).toMatchObject({ recv_cnt: 3, recv_oct: 50, recv_max: 20 });
    });

    test("a failed send (emsgsize) counts nothing; getstat of a closed socket throws 'closed'", async () => {
      const socket = listen(0, { ip: '127.0.0.1' });
      await expectRejects(() => T.send(socket, '127.0.0.1', remote.port, Buffer.alloc(70000)), 'emsgsize');
      expect(counters(T.getstat(socket))).toMatchObject({ send_cnt: 0, send_oct: 0, send_max: 0, send_pend: 0 });
      T.close(socket);
      expectThrows(() => T.getstat(socket), 'closed');
    });
  });
});
