// Kernel receive timestamps: with `timestamp: true` (SO_TIMESTAMPNS) every datagram carries
// the moment the kernel received it, in nanoseconds since the epoch as a bigint, so a server
// can tell how long a datagram waited in the queue before the program read it.
//
//   node examples/timestamps.js [port]    prints each datagram with its arrival time; Ctrl-C stops
const { UDP } = require('..');

/**
 * When the kernel received `datagram`, as a Date (milliseconds; the bigint keeps the
 * nanoseconds), or undefined when the socket does not have `timestamp` on.
 * @param {import('..').RecvData} datagram
 */
function receivedAt(datagram) {
  const nanoseconds = datagram.ancillary?.timestamp;
  return nanoseconds === undefined ? undefined : new Date(Number(nanoseconds / 1_000_000n));
}

module.exports = { receivedAt };

if (require.main === module) {
  (async () => {
    const socket = UDP.listen(Number(process.argv[2] ?? 5300), { ip: 'loopback', timestamp: true });
    console.log(`listening on 127.0.0.1:${socket.sockname().port}`);
    process.once('SIGINT', () => socket.close());
    for await (const datagram of socket) {
      const at = /** @type {Date} */ (receivedAt(datagram));
      // Date.now() has the same (millisecond) clock: the difference is the time in the queue.
      console.log(`${at.toISOString()} ${datagram.address}:${datagram.port} ${JSON.stringify(String(datagram.data))}, ` +
        `read ${Date.now() - at.getTime()} ms later`);
    }
  })();
}
