// A receiver for sustained load (telemetry, metrics ingestion): while datagrams keep coming
// it reads on a clock, so one event-loop wakeup brings hundreds of them instead of two or
// three; when the socket goes quiet it is back to serving each datagram as it arrives.
// The price is latency: under load a datagram waits up to a period, and `recbuf` must hold
// a period's worth of them.
//
//   node examples/polled-receiver.js [port]    prints datagrams and reads per second
const { UDP, TransportError } = require('..');

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Hands every batch of datagrams `socket` receives to `onBatch` until the socket is closed;
 * resolves with how many datagrams came in how many reads.
 * @template {import('..').SocketFamily} F
 * @param {import('..').Socket<F>} socket
 * @param {(batch: import('..').RecvData<F>[]) => void} onBatch
 * @param {{ periodMs?: number, max?: number }} [options]
 */
async function receivePolled(socket, onBatch, { periodMs = 1, max = 1024 } = {}) {
  let datagrams = 0;
  let reads = 0;
  for (;;) {
    let batch;
    try {
      batch = await UDP.recvBatch(socket, max, 'infinity');
    } catch (error) {
      if (error instanceof TransportError && error.reason === 'closed') return { datagrams, reads };
      throw error;
    }
    reads++;
    datagrams += batch.length;
    onBatch(batch);
    // A lone datagram means the socket is quiet: the next one is served the moment it comes.
    if (batch.length > 1) await sleep(periodMs);
  }
}

module.exports = { receivePolled };

if (require.main === module) {
  const socket = UDP.listen(Number(process.argv[2] ?? 5400), { ip: 'loopback', recbuf: 8 << 20 });
  console.log(`listening on 127.0.0.1:${UDP.sockname(socket).port}`);
  let datagrams = 0;
  let reads = 0;
  setInterval(() => {
    if (reads > 0) console.log(`${datagrams} datagrams/s in ${reads} reads`);
    datagrams = 0;
    reads = 0;
  }, 1000);
  receivePolled(socket, (batch) => {
    datagrams += batch.length;
    reads++;
  });
}
