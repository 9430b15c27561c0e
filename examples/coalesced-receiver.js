// A receiver for sustained load (telemetry, metrics ingestion) that takes many datagrams per
// wakeup and allocates nothing per datagram:
//  - `coalesce: { usecs }` holds the socket's readiness back for up to `usecs` after a
//    datagram arrives at an idle socket, so one wakeup of the thread serves everything that
//    came meanwhile (each datagram waits up to that long: latency is the price);
//  - `recvInto` has the kernel write the datagrams straight into a RecvArena, memory the
//    receiver keeps and reuses, and hands back offsets and lengths instead of Buffers.
//
//   node examples/coalesced-receiver.js [port]    prints datagrams and reads per second
const { UDP, RecvArena, TransportError } = require('..');

/**
 * A socket for this receiver: readiness held up to `usecs` (1000: a millisecond), and a
 * receive buffer that holds what arrives during a hold.
 * @param {number} port
 * @param {number} [usecs]
 */
function listenCoalesced(port, usecs = 1000) {
  return UDP.listen(port, { ip: 'loopback', coalesce: { usecs }, recbuf: 4 << 20 });
}

/**
 * Calls `handle(bytes, offset, length, address, port)` for every datagram `socket` receives,
 * until the socket is closed, counting datagrams and reads in `totals` as it goes; resolves
 * with `totals`. `bytes` is the arena's memory, which the next read overwrites: what the
 * handler keeps past its return, it copies.
 * @param {import('..').Socket<'inet' | 'inet6'>} socket
 * @param {(bytes: Buffer, offset: number, length: number, address: string, port: number) => void} handle
 */
async function receiveInto(socket, handle, totals = { datagrams: 0, reads: 0 }) {
  // 64 slots (the most one read takes) of 2 KiB: a longer datagram is cut to its first
  // 2 KiB, and arena.truncated(i) says so.
  const arena = new RecvArena({ slots: 64, slotSize: 2048 });
  for (;;) {
    let count;
    try {
      count = await socket.recvInto(arena, 'infinity');
    } catch (error) {
      if (error instanceof TransportError && error.reason === 'closed') return totals;
      throw error;
    }
    totals.reads++;
    totals.datagrams += count;
    for (let i = 0; i < count; i++) {
      handle(arena.data, arena.offset(i), arena.length(i), /** @type {string} */ (arena.address(i)), arena.port(i));
    }
  }
}

module.exports = { listenCoalesced, receiveInto };

if (require.main === module) {
  const socket = listenCoalesced(Number(process.argv[2] ?? 5400));
  console.log(`listening on 127.0.0.1:${socket.sockname().port}`);
  const totals = { datagrams: 0, reads: 0 };
  let last = { ...totals };
  setInterval(() => {
    if (totals.datagrams > last.datagrams) console.log(`${totals.datagrams - last.datagrams} datagrams/s in ${totals.reads - last.reads} reads`);
    last = { ...totals };
  }, 1000).unref();
  process.once('SIGINT', () => socket.close());
  receiveInto(socket, () => {}, totals).then(() => console.log(`${totals.datagrams} datagrams in ${totals.reads} reads`));
}
