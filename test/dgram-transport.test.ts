/**
 * What is DgramUDP's own (lib/dgram): how node:dgram's push-based receiving is made into the
 * contract's pull (a bounded queue, polls through the event loop, a timer only to wait), what
 * its getstat says of that queue, when a socket keeps the process alive, and what differs by
 * node:dgram's design. The contract itself runs against DgramUDP and UDP alike in the other
 * suites (test/helpers/transports.ts); this file loads no native code.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { DgramUDP, DgramSocket } from '../lib/dgram';
import type { ListenOptions } from '../lib/types';
import { Peer, type PeerSocket, stopPeers } from './helpers/peer';
import { closeAll, expectRejects, expectThrows, portOf, waitUntil } from './helpers/sockets';
import { DGRAM } from './helpers/transports';

const U = DgramUDP;
const listen = (options: ListenOptions = { ip: '127.0.0.1' }, port = 0): DgramSocket => DGRAM.listen(port, options) as unknown as DgramSocket;

let peer: Peer;
let sender: PeerSocket;
beforeAll(async () => {
  peer = await Peer.start();
  sender = await peer.bind('inet', '127.0.0.2');
});
afterAll(() => stopPeers());
afterEach(() => closeAll());

describe('what node:dgram decides', () => {
  test('reuseport: enotsup where node:dgram has no reusePort (before Node 22.12), false always works', () => {
    expect(U.getopts(listen({ ip: '127.0.0.1', reuseport: false }), ['reuseport'])).toEqual({ reuseport: false });
    if (DGRAM.reuseport) {
      expect(U.getopts(listen({ ip: '127.0.0.1', reuseport: true }), ['reuseport'])).toEqual({ reuseport: true });
    } else {
      expectThrows(() => listen({ ip: '127.0.0.1', reuseport: true }), 'enotsup', { message: /reusePort/ });
    }
  });

  test('reuse flags are fixed when the socket is made: setopts may only repeat them', () => {
    const socket = listen({ ip: '127.0.0.1', reuseaddr: false, reuseport: false });
    U.setopts(socket, { reuseaddr: false, reuseport: false });
    expectThrows(() => U.setopts(socket, { reuseaddr: true }), 'enotsup', { message: /reuseaddr/ });
    expect(U.getopts(socket, ['reuseaddr'])).toEqual({ reuseaddr: false });
  });

  test('connecting to port 0 is enotsup; a socket of this thread is not adopted twice by fd', () => {
    const socket = listen();
    expectThrows(() => U.connect(socket, '127.0.0.1', 0), 'enotsup');
    expectThrows(() => U.peername(socket), 'enotconn');
    expect(socket.fd).toBeGreaterThan(2);
    expectThrows(() => U.listen(0, { fd: socket.fd }), 'badarg', { message: /already a socket of this package/ });
    U.close(socket);
    expect(socket.fd).toBe(-1);
  });

  test('an object made from the socket prototype is no socket: badarg', () => {
    expectThrows(() => U.sockname(Object.create(DgramSocket.prototype)), 'badarg');
    expectThrows(() => U.close({} as never), 'badarg');
  });
});

describe('receiving: a queue libuv fills, read by recv', () => {
  test('timeout 0 polls once through the event loop: what the kernel holds is returned, else timeout', async () => {
    const socket = listen();
    await expectRejects(() => U.recv(socket, 0, 0), 'timeout', {}, 200);
    await sender.send('127.0.0.1', portOf(socket), 'held');
    // The peer's sendto returned: the datagram is in our kernel queue (loopback delivers inside it).
    expect(String((await U.recv(socket, 0, 0)).data)).toBe('held');
  });

  test('a timer only when the call has to wait', async () => {
    const socket = listen();
    await sender.send('127.0.0.1', portOf(socket), 'ready');
    await waitUntil(() => U.getstat(socket).kernel.rx_queue > 0);
    const spy = jest.spyOn(global, 'setTimeout');
    try {
      expect(String((await U.recv(socket, 0, 5000)).data)).toBe('ready');
      expect(spy).not.toHaveBeenCalled();
      // expectRejects would arm a timer of its own.
      await expect(U.recv(socket, 0, 20)).rejects.toMatchObject({ reason: 'timeout' });
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  test('rx_queue counts the payload bytes waiting in the queue', async () => {
    const socket = listen();
    await sender.send('127.0.0.1', portOf(socket), Buffer.alloc(300));
    await waitUntil(() => U.getstat(socket).kernel.rx_queue === 300);
    await U.recv(socket, 0, 0);
    expect(U.getstat(socket).kernel.rx_queue).toBe(0);
  });

  test('the queue is bounded by SO_RCVBUF; what it drops is counted in kernel.drops', async () => {
    const socket = listen({ ip: '127.0.0.1', recbuf: 4096 });
    const rcvbuf = U.getopts(socket, ['recbuf']).recbuf as number;
    expect(rcvbuf).toBeLessThan(20_000);
    await sender.send('127.0.0.1', portOf(socket), Buffer.alloc(1000, 1), { count: 100 });
    const stats = (): ReturnType<typeof U.getstat> => U.getstat(socket);
    // Every datagram is either waiting in the queue or dropped (by the kernel or the queue).
    await waitUntil(() => stats().kernel.rx_queue / 1000 + stats().kernel.drops >= 100);
    const { rx_queue: held, drops } = stats().kernel;
    expect(held).toBeLessThanOrEqual(rcvbuf);
    expect(held % 1000).toBe(0);
    let received = 0;
    for (;;) {
      try {
        await U.recv(socket, 0, 0);
        received++;
      } catch {
        break;
      }
    }
    expect(received * 1000).toBe(held);
    expect(received + drops).toBe(100);
    expect(received).toBeGreaterThan(0);
    expect(drops).toBeGreaterThan(0);
  });

  test('getstat().kernel has every field, the ones only SO_MEMINFO knows at 0', () => {
    const { kernel } = U.getstat(listen());
    expect(Object.keys(kernel).sort()).toEqual(['backlog', 'drops', 'fwd_alloc', 'optmem', 'rcvbuf', 'rmem_alloc', 'rx_queue', 'sndbuf', 'tx_queue', 'wmem_alloc', 'wmem_queued']);
    expect(kernel).toMatchObject({ fwd_alloc: 0, wmem_queued: 0, optmem: 0, backlog: 0 });
  });
});

describe('lifetime', () => {
  // jest's globalSetup compiled lib/ to dist/.
  const compiled = path.join(__dirname, '..', 'dist', 'dgram');
  const run = (code: string): Promise<{ code: number | null; out: string; ms: number }> => new Promise((resolve) => {
    const started = Date.now();
    execFile(process.execPath, ['-e', `const { DgramUDP } = require(${JSON.stringify(compiled)}); ${code}`], { timeout: 5000 }, (error, out) => {
      resolve({ code: error ? (error.code as number | null) ?? null : 0, out, ms: Date.now() - started });
    });
  });

  test('an idle socket does not keep the process alive; a waiting recv does', async () => {
    const idle = await run("DgramUDP.listen(0, { ip: '127.0.0.1' });");
    expect(idle.code).toBe(0);
    const waiting = await run("const s = DgramUDP.listen(0, { ip: '127.0.0.1' }); DgramUDP.recv(s, 0, 300).catch((e) => { process.stdout.write(e.reason); });");
    expect(waiting).toMatchObject({ code: 0, out: 'timeout' });
    expect(waiting.ms).toBeGreaterThanOrEqual(300);
  });

  test('an active socket keeps the process alive until it goes passive', async () => {
    // The unref'd timer fires only while something else keeps the process running.
    const active = await run("const s = DgramUDP.listen(0, { ip: '127.0.0.1', active: true }); setTimeout(() => { DgramUDP.close(s); process.stdout.write('held'); }, 300).unref();");
    expect(active).toMatchObject({ code: 0, out: 'held' });
    const once = await run(`const s = DgramUDP.listen(0, { ip: '127.0.0.1', active: 'once' });
      s.on('udp', (d) => process.stdout.write(String(d.data)));
      const c = DgramUDP.open(0, { ip: '127.0.0.1' });
      DgramUDP.send(c, '127.0.0.1', DgramUDP.sockname(s).port, 'once').then(() => DgramUDP.close(c));
      setTimeout(() => process.stdout.write(' and held'), 3000).unref();`);
    expect(once).toMatchObject({ code: 0, out: 'once' });
  });
});
