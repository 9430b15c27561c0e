// An Abyss-style server on every core: N worker threads, each with its own SO_REUSEPORT
// socket on one port (opened here and handed over with controllingProcess), a handler
// called per datagram, and a graceful stop that answers what already arrived.
//
//   node examples/multicore-server.js [port] [workers]
const os = require('node:os');
const path = require('node:path');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { UDP, TransportError } = require('..');

/**
 * Starts `workers` threads serving one port.
 * @param {{ port?: number, workers?: number, handlerModule: string, ip?: string }} options handlerModule exports
 *   handle(datagram, workerIndex) → the reply's data, or undefined for no reply.
 */
async function startServer({ port = 0, workers = os.availableParallelism(), handlerModule, ip = 'loopback' }) {
  const first = UDP.listen(port, { ip, reuseport: true });
  const bound = UDP.sockname(first).port;
  const sockets = [first];
  while (sockets.length < workers) sockets.push(UDP.listen(bound, { ip, reuseport: true }));

  const threads = await Promise.all(sockets.map(async (socket, index) => {
    const worker = new Worker(__filename, { workerData: { handlerModule: path.resolve(handlerModule), index } });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    UDP.controllingProcess(socket, worker);
    worker.postMessage({ handoff: socket.handoff });
    return worker;
  }));

  return {
    port: bound,
    workers: threads,
    /** Stops every worker after it has answered what is already queued; returns per-worker counts. */
    async stop() {
      return Promise.all(threads.map((worker) => new Promise((resolve, reject) => {
        worker.once('message', (message) => resolve(message.handled));
        worker.once('error', reject);
        worker.postMessage({ stop: true });
      })));
    },
  };
}

/** A worker: adopts the socket it is handed and answers what comes in with the handler. */
async function serve() {
  const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
  const { handle } = require(workerData.handlerModule);
  let stopping = false;
  let handled = 0;
  /** @type {import('..').Socket<'inet' | 'inet6'> | undefined} */
  let socket;
  /** @param {import('..').RecvData<'inet' | 'inet6'>[]} batch */
  const answer = async (batch) => {
    const replies = [];
    for (const datagram of batch) {
      handled++;
      const reply = await handle(datagram, workerData.index);
      if (reply !== undefined) replies.push({ address: datagram.address, port: datagram.port, data: reply });
    }
    if (replies.length > 0 && socket) await UDP.sendBatch(socket, replies);
  };
  port.on('message', async (message) => {
    if (message.stop) {
      stopping = true;
      return;
    }
    const adopted = /** @type {import('..').Socket<'inet' | 'inet6'>} */ (UDP.adopt(message.handoff));
    socket = adopted;
    while (!stopping) {
      try {
        await answer(await UDP.recvBatch(adopted, 64, 100));
      } catch (error) {
        if (!(error instanceof TransportError && error.reason === 'timeout')) throw error;
      }
    }
    // Graceful: answer every datagram already queued, then close.
    for (let batch; (batch = await UDP.recvBatch(adopted, 64, 0).catch(() => [])).length > 0;) await answer(batch);
    UDP.close(adopted);
    port.postMessage({ handled });
    port.close();
  });
  port.postMessage({ ready: true });
}

module.exports = { startServer };

if (!isMainThread) {
  serve();
} else if (require.main === module) {
  const handlerModule = path.join(__dirname, 'upper-handler.js');
  startServer({ port: Number(process.argv[2] ?? 5400), workers: Number(process.argv[3] ?? os.availableParallelism()), handlerModule })
    .then((server) => {
      console.log(`${server.workers.length} workers on 127.0.0.1:${server.port}`);
      process.once('SIGINT', async () => console.log('handled per worker', await server.stop()));
    });
}
