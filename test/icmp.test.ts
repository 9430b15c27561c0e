/**
 * ICMP errors a remote peer can cause: each is reported once (the next recv rejects with it,
 * active mode emits 'udp_error'), and the socket goes on receiving afterwards, without
 * spinning while its error queue holds entries.
 */
import type { RecvData, Socket } from '../lib';
import { Peer, stopPeers } from './helpers/peer';
import { closeAll, countActivity, expectRejects, expectThrows, portOf, sleep, waitUntil } from './helpers/sockets';
import { eachTransport, testNative } from './helpers/transports';

let peer: Peer;
beforeAll(async () => {
  peer = await Peer.start();
});
afterAll(() => stopPeers());
afterEach(() => closeAll());

eachTransport((subject) => {
  const { T, listen } = subject;

  /** A client that asks and leaves before the answer: the server's answer meets a closed port. */
  async function leavingClient(server: Socket): Promise<number> {
    const client = await peer.bind('inet', '127.0.0.1');
    await client.send('127.0.0.1', portOf(server), 'ask');
    await client.close();
    return client.port;
  }

  /** node:dgram can neither turn IP_RECVERR on nor read the error queue. */
  function refusesRecverr(): void {
    expectThrows(() => listen(0, { ip: '127.0.0.1', recverr: true }), 'enotsup');
    expectThrows(() => T.recvErrorQueue(listen(0, { ip: '127.0.0.1' })), 'enotsup');
    expectThrows(() => listen(0, { ip: '127.0.0.1' }).recvErrorQueue(), 'enotsup');
  }

  describe.each([
    ['recv', (socket: Socket) => T.recv(socket, 0, 3000).then((d) => [d])],
    ['recvBatch', (socket: Socket) => T.recvBatch(socket, 8, 3000)],
  ])('a listener with recverr, read with %s', (_name, read) => {
    testNative(subject, 'an ICMP error rejects the next read once; the socket goes on receiving, without spinning', async () => {
      const server = listen(0, { ip: '127.0.0.1', recverr: true });
      const gone = await leavingClient(server);
      const ask = await read(server);
      expect(String(ask[0].data)).toBe('ask');
      // A read waits while the answer meets the closed port.
      const waiting = read(server);
      await T.send(server, '127.0.0.1', gone, 'answer');
      await expectRejects(() => waiting, 'econnrefused');

      // The error queue still holds the entry: the socket must neither spin nor stop.
      const pending = read(server);
      // Handled now: if an assertion below fails, afterEach's close rejects it with `closed`,
      // and unhandled that would fail the tests after this one instead.
      pending.catch(() => undefined);
      const activity = countActivity(server, 'recv');
      await sleep(300);
      // Waiting is idle: a report or two at most, where a socket spinning on its error queue
      // would count one per turn of the loop, thousands in 300 ms.
      expect(activity.reports).toBeLessThan(5);
      expect(activity.calls).toBeLessThan(5);
      const later = await peer.bind('inet', '127.0.0.1');
      await later.send('127.0.0.1', portOf(server), 'later');
      expect((await pending).map((d) => String(d.data))).toEqual(['later']);
      // The counting is live: 'later' came with a report and was read.
      expect(activity.reports).toBeGreaterThan(0);
      expect(activity.calls).toBeGreaterThan(0);
      await later.send('127.0.0.1', portOf(server), 'and again');
      expect((await read(server)).map((d) => String(d.data))).toEqual(['and again']);
      expect(T.getstat(server).kernel.rx_queue).toBe(0);

      // Draining the queue gives the entry, once.
      const entry = T.recvErrorQueue(server)!;
      expect({ data: String(entry.data), port: entry.port, reason: entry.ancillary.error.reason })
        .toEqual({ data: 'answer', port: gone, reason: 'econnrefused' });
      expect(T.recvErrorQueue(server)).toBeUndefined();
      await later.send('127.0.0.1', portOf(server), 'after draining');
      expect((await read(server)).map((d) => String(d.data))).toEqual(['after draining']);
    }, refusesRecverr);
  });

  testNative(subject, 'many ICMP errors nobody drains: each is reported, every datagram between them still arrives', async () => {
    const server = listen(0, { ip: '127.0.0.1', recverr: true });
    const client = await peer.bind('inet', '127.0.0.1');
    const got: string[] = [];
    let errors = 0;
    const closedPorts: number[] = [];
    for (let round = 0; round < 20; round++) {
      const gone = await peer.closedPort('inet');
      closedPorts.push(gone);
      await T.send(server, '127.0.0.1', gone, `to nobody ${round}`);
      await client.send('127.0.0.1', portOf(server), `hello ${round}`);
      for (;;) {
        try {
          got.push(String((await T.recv(server, 0, 3000)).data));
          break;
        } catch (error) {
          if ((error as { reason: string }).reason !== 'econnrefused') throw error;
          errors++;
        }
      }
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, round) => `hello ${round}`));
    expect(errors).toBe(20);
    // The socket's method reads the same queue.
    const ports: number[] = [];
    for (let entry; (entry = server.recvErrorQueue()) !== undefined;) ports.push(entry.port);
    expect(ports).toEqual(closedPorts);
  }, refusesRecverr);

  test("a connected socket: the peer unreachable once rejects one recv 'econnrefused'; when it is back, its datagrams arrive", async () => {
    const socket = listen(0, { ip: '127.0.0.1' });
    const port = await peer.closedPort('inet');
    T.connect(socket, '127.0.0.1', port);
    const waiting = T.recv(socket, 0, 3000);
    await T.send(socket, 'knock');
    await expectRejects(() => waiting, 'econnrefused');
    // The peer is back on its port.
    const back = await peer.bind('inet', '127.0.0.1', port);
    const next = T.recv(socket, 0, 3000);
    await back.send('127.0.0.1', portOf(socket), 'back');
    expect(String((await next).data)).toBe('back');
    await back.send('127.0.0.1', portOf(socket), 'still here');
    expect(String((await T.recv(socket, 0, 3000)).data)).toBe('still here');
  });

  testNative(subject, "active mode: an ICMP error is emitted as 'udp_error', and datagrams go on as 'udp'", async () => {
    const server = listen(0, { ip: '127.0.0.1', recverr: true });
    const events: string[] = [];
    server.on('udp', (datagram: RecvData) => events.push(`udp ${datagram.data}`));
    server.on('udp_error', (error: { reason: string }) => events.push(`error ${error.reason}`));
    T.setopts(server, { active: true });
    const gone = await leavingClient(server);
    await waitUntil(() => events.length === 1);
    await T.send(server, '127.0.0.1', gone, 'answer');
    await waitUntil(() => events.length === 2);
    const later = await peer.bind('inet', '127.0.0.1');
    for (const text of ['one', 'two']) await later.send('127.0.0.1', portOf(server), text);
    await waitUntil(() => events.length === 4);
    expect(events).toEqual(['udp ask', 'error econnrefused', 'udp one', 'udp two']);
  }, refusesRecverr);

  test("active mode on a connected socket: the peer unreachable is emitted as 'udp_error'; when it is back, its datagrams as 'udp'", async () => {
    const socket = listen(0, { ip: '127.0.0.1', active: true });
    const events: string[] = [];
    socket.on('udp', (datagram: RecvData) => events.push(`udp ${datagram.data}`));
    socket.on('udp_error', (error: { reason: string }) => events.push(`error ${error.reason}`));
    const port = await peer.closedPort('inet');
    T.connect(socket, '127.0.0.1', port);
    await T.send(socket, 'knock');
    await waitUntil(() => events.length === 1);
    const back = await peer.bind('inet', '127.0.0.1', port);
    await back.send('127.0.0.1', portOf(socket), 'back');
    await waitUntil(() => events.length === 2);
    expect(events).toEqual(['error econnrefused', 'udp back']);
  });
});
