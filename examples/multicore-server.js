// An Abyss-style server on every core: N worker threads serving one port, each with a socket
// of its own on it (SO_REUSEPORT: the kernel picks a socket per datagram by hashing its source
// and destination address and port, so each client stays with one worker), a handler called
// per datagram, and a graceful stop that answers what already arrived.
//
// Two ways to give each worker its socket:
//  - handOver (the default): this thread opens every socket, so a port that is taken or an
//    address that does not exist fails here, before any worker starts; each socket is then
//    handed to its worker with controllingProcess, which adopts it.
//  - listen in each worker: the first worker listens on the port (0: any free one) and says
//    which it got; every other worker listens on that port itself.
//
//   node examples/multicore-server.js [port] [workers] [--listen-in-workers]
const os = require('node:os');
const path = require('node:path');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { UDP, TransportError } = require('..');

/**
 * A worker running serve(), once it said it is ready (and, when it listens itself, on which port).
 * @param {object} data its workerData
 * @returns {Promise<{ worker: Worker, port?: number }>}
 */
async function startWorker(data) {
  const worker = new Worker(__filename, { workerData: data });
  const ready = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, port: ready.port };
}

/**
 * Starts `workers` threads serving one port.
 * @param {{ port?: number, workers?: number, handlerModule: string, ip?: string, handOver?: boolean }} options handlerModule
 *   exports handle(datagram, workerIndex) → the reply's data, or undefined for no reply.
 */
async function startServer({ port = 0, workers = os.availableParallelism(), handlerModule, ip = 'loopback', handOver = true }) {
  const handler = path.resolve(handlerModule);
  /** @type {Worker[]} */
  const threads = [];
  /** @type {import('..').Socket<'inet' | 'inet6'>[]} */
  const sockets = [];
  /** Sockets already handed to a worker: they are that worker's to close. */
  const handed = new Set();
  let bound = port;
  try {
    if (handOver) {
      // reuseport is on by default; it is named here because the design depends on it.
      sockets.push(UDP.listen(port, { ip, reuseport: true }));
      bound = sockets[0].sockname().port;
      while (sockets.length < workers) sockets.push(UDP.listen(bound, { ip, reuseport: true }));
      for (const [index, socket] of sockets.entries()) {
        const { worker } = await startWorker({ handlerModule: handler, index });
        threads.push(worker);
        // The Worker itself, not worker.threadId: a thread id is only known here once that
        // thread has loaded this package, which a Worker object does not need.
        socket.controllingProcess(worker);
        handed.add(socket);
        worker.postMessage({ handoff: socket.handoff });
      }
    } else {
      for (let index = 0; index < workers; index++) {
        const started = await startWorker({ handlerModule: handler, index, listen: { port: bound, ip } });
        threads.push(started.worker);
        bound = /** @type {number} */ (started.port);
      }
    }
  } catch (error) {
    // A port taken, a worker that failed to start: nothing is left running (a worker's
    // sockets close when it exits).
    for (const socket of sockets) if (!handed.has(socket)) socket.close();
    await Promise.all(threads.map((worker) => worker.terminate()));
    throw error;
  }

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

/** A worker: answers what comes in on its socket with the handler, until told to stop. */
function serve() {
  const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
  const { handle } = require(workerData.handlerModule);
  let stopping = false;
  let handled = 0;

  /**
   * @param {import('..').Socket<'inet' | 'inet6'>} socket
   * @param {import('..').RecvData<'inet' | 'inet6'>[]} batch
   */
  const answer = async (socket, batch) => {
    const replies = [];
    for (const datagram of batch) {
      handled++;
      const reply = await handle(datagram, workerData.index);
      if (reply !== undefined) replies.push({ address: datagram.address, port: datagram.port, data: reply });
    }
    if (replies.length > 0) await socket.sendBatch(replies);
  };

  /** @param {import('..').Socket<'inet' | 'inet6'>} socket */
  const run = async (socket) => {
    while (!stopping) {
      try {
        await answer(socket, await socket.recvBatch(64, 100));
      } catch (error) {
        // The timeout lets the loop see `stopping`; anything else is a real failure.
        if (!(error instanceof TransportError && error.reason === 'timeout')) throw error;
      }
    }
    // Graceful: answer every datagram already queued, then close.
    for (let batch; (batch = await socket.recvBatch(64, 0).catch(() => [])).length > 0;) await answer(socket, batch);
    socket.close();
    port.postMessage({ handled });
    port.close();
  };

  port.on('message', (message) => {
    if (message.stop) stopping = true;
    else if (message.handoff) run(/** @type {import('..').Socket<'inet' | 'inet6'>} */ (UDP.adopt(message.handoff)));
  });
  if (workerData.listen) {
    /** @type {{ port: number, ip: string }} */
    const { port: wanted, ip } = workerData.listen;
    const socket = UDP.listen(wanted, { ip, reuseport: true });
    port.postMessage({ ready: true, port: socket.sockname().port });
    run(socket);
  } else {
    port.postMessage({ ready: true });
  }
}

module.exports = { startServer };

if (!isMainThread) {
  serve();
} else if (require.main === module) {
  const [port = '5400', workers = String(os.availableParallelism())] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const handOver = !process.argv.includes('--listen-in-workers');
  const handlerModule = path.join(__dirname, 'upper-handler.js');
  startServer({ port: Number(port), workers: Number(workers), handlerModule, handOver }).then((server) => {
    console.log(`${server.workers.length} workers on 127.0.0.1:${server.port} (${handOver ? 'sockets handed over' : 'each worker listens'})`);
    process.once('SIGINT', async () => console.log('handled per worker', await server.stop()));
  });
}
