// The addon's C++ exception policy, in a process of its own (the failure is an abort):
//  - `node terminate.js workers`: workers terminated in the middle of the package's calls
//    (send, sendBatch, recv, options, statistics, listen and close, in a loop that never
//    yields); each termination must end only that worker;
//  - `node terminate.js allocation`: a C++ exception inside a native call (here a vector asked
//    for more than it can ever hold, std::length_error; std::bad_alloc takes the same way, but
//    under AddressSanitizer a failed allocation is the sanitizer's fatal report instead)
//    reaches JavaScript as an Error instead of ending the process.
// Prints one JSON line.
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { UDP } = require(path.join(__dirname, '..', '..', 'dist'));

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { UDP } = require(workerData.dist);
const socket = UDP.open(0, { ip: '127.0.0.1', recbuf: 4096 });
const pieces = Array.from({ length: 40 }, (_, i) => Buffer.alloc(30, i));
const many = (k) => ({ ttl: 1 + k, tos: 0, recbuf: 4096 + k, sndbuf: 8192 + k, reuseaddr: true, broadcast: true,
  multicast_ttl: 2, multicast_loop: true, priority: 1, recvtos: true, recvttl: true, pktinfo: true });
const batch = Array.from({ length: 64 }, (_, i) => ({ address: '127.0.0.1', port: workerData.port, data: [pieces, 'x' + i], ancillary: { ttl: 1 + (i % 200) } }));
parentPort.postMessage('ready');
for (let round = 0; ; round++) {
  UDP.send(socket, '127.0.0.1', workerData.port, { tos: 0 }, pieces);
  UDP.sendBatch(socket, batch);
  UDP.recv(socket, 0, 0).catch(() => {});
  UDP.setopts(socket, { ttl: 1 + (round % 200), recbuf: 4096 + round % 1000 });
  // Most of the loop in setopts, reading many entries: a termination that lands while the
  // native side reads them must find every refused read checked (under ASan, an unchecked one
  // failed 4 runs in 12 this way, against none in 12 without this line).
  for (let k = 0; k < 20; k++) UDP.setopts(socket, many(k));
  UDP.getopts(socket, ['ttl', 'recbuf', 'reuseaddr']);
  UDP.getstat(socket);
  UDP.close(UDP.open(0, { ip: '127.0.0.1', pktinfo: true }));
}
`;

async function workers() {
  const sink = UDP.listen(0, { ip: '127.0.0.1' });
  const port = UDP.sockname(sink).port;
  const dist = path.join(__dirname, '..', '..', 'dist');
  let terminated = 0;
  for (let i = 0; i < 24; i++) {
    const worker = new Worker(WORKER, { eval: true, workerData: { dist, port } });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // A different moment of the loop each time.
    await new Promise((resolve) => setTimeout(resolve, 5 + (i % 6) * 7));
    await worker.terminate();
    terminated++;
  }
  UDP.close(sink);
  return { terminated };
}

function allocation() {
  const socket = UDP.open(0, { ip: '127.0.0.1' });
  try {
    // A setopts of 2**60 entries: the facade never asks that, so it is the test's way to make
    // the native side throw in C++ (its vector of entries cannot reserve that many).
    socket.native.setopts([], 2 ** 60);
    return { thrown: false };
  } catch (error) {
    return { thrown: error instanceof Error, open: !socket.closed };
  } finally {
    UDP.close(socket);
  }
}

async function main(mode) {
  const result = mode === 'workers' ? await workers() : allocation();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main(process.argv[2]).catch((error) => {
  process.stdout.write(`${JSON.stringify({ error: String(error && error.stack || error) })}\n`);
  process.exit(1);
});
