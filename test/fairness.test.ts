/**
 * A flood cannot keep the event loop inside the package: a socket reads the kernel at most
 * once per turn of the loop (one batch, at most read_packets or the batch asked for), so that
 * timers, other sockets and I/O get their turn however fast datagrams come. Measured in turns
 * of the loop, not in time: a setImmediate chain counts them.
 */
import type { Coalesce, RecvData, Socket } from '../lib';
import { closeAll, portOf, waitUntil } from './helpers/sockets';
import { eachTransport } from './helpers/transports';

afterEach(() => closeAll());

eachTransport(({ T, listen, open, native }) => {
  const TOTAL = 3000;

  /** A receiver with TOTAL datagrams already queued in the kernel. */
  async function flooded(coalesce: Coalesce | false): Promise<Socket> {
    const socket = listen(0, { ip: '127.0.0.1', recbuf: 8 << 20, ...(coalesce ? { coalesce } : {}) });
    const sender = open(0, { ip: '127.0.0.1' });
    const port = portOf(socket);
    for (let sent = 0; sent < TOTAL; sent += 100) {
      await T.sendBatch(sender, Array.from({ length: 100 }, (_, i) => ({ address: '127.0.0.1', port, data: `d${sent + i}` })));
    }
    await waitUntil(() => T.getstat(socket).kernel.rx_queue > 0);
    return socket;
  }

  /**
   * Runs `consume` over a flooded socket; how many datagrams it got in the busiest turn of the
   * loop, how many had come when a timer set at the start fired, and whether all came in order.
   */
  async function turnsOf(coalesce: Coalesce | false, consume: (socket: Socket, got: (datagram: RecvData) => void) => void) {
    const socket = await flooded(coalesce);
    const perTurn: number[] = [0];
    const order: string[] = [];
    let timerAt = -1;
    let running = true;
    const tick = (): void => {
      perTurn.push(0);
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    setTimeout(() => { timerAt = order.length; }, 0);
    consume(socket, (datagram) => {
      perTurn[perTurn.length - 1]++;
      order.push(String(datagram.data));
    });
    try {
      await waitUntil(() => order.length === TOTAL, 10000);
    } finally {
      // Also when the wait fails: a tick chain left running would keep the loop busy for every
      // test after this one in the process (icmp.test.ts measures an idle loop's CPU time).
      running = false;
    }
    return {
      busiest: Math.max(...perTurn),
      timerBeforeTheEnd: timerAt >= 0 && timerAt < TOTAL,
      inOrder: order.every((text, i) => text === `d${i}`),
    };
  }

  const bounded = { busiest: expect.any(Number), timerBeforeTheEnd: true, inOrder: true };

  const CONSUMERS = [
    ['a for-await loop', (socket: Socket, got: (d: RecvData) => void) => {
      (async () => { for await (const datagram of socket) got(datagram); })();
    }],
    ['a recv loop', (socket: Socket, got: (d: RecvData) => void) => {
      (async () => { for (;;) got(await T.recv(socket, 0, 'infinity')); })().catch(() => undefined);
    }],
    ['a recvBatch(64) loop', (socket: Socket, got: (d: RecvData) => void) => {
      (async () => { for (;;) (await T.recvBatch(socket, 64, 'infinity')).forEach(got); })().catch(() => undefined);
    }],
    ['active mode', (socket: Socket, got: (d: RecvData) => void) => {
      socket.on('udp', got);
      T.setopts(socket, { active: true });
    }],
  ] as const;

  // With `coalesce` (the addon's; DgramUDP refuses it, test/option-table.test.ts), a hold ends in
  // a batch like any readiness, and none starts while datagrams are left queued.
  test.each([
    ...CONSUMERS.map(([name, consume]) => [name, false, consume] as const),
    ...(native ? CONSUMERS.map(([name, consume]) => [`${name}, coalescing`, { usecs: 500 }, consume] as const) : []),
  ])('%s reads at most one batch of a flood per turn of the loop', async (_name, coalesce, consume) => {
    const result = await turnsOf(coalesce, consume);
    expect(result).toEqual(bounded);
    expect(result.busiest).toBeLessThanOrEqual(64);
  });
});
