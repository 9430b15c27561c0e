// The other thread of test/scripts/bad-input-runner.js: it adopts sockets the runner hands
// it (so they belong to this thread), hands sockets of its own to the main thread, and runs
// cases whose code must execute here. Every request is { id, op, ... }; every answer { id, ... }.
const path = require('node:path');
const { parentPort } = require('node:worker_threads');
const { UDP } = require(path.join(__dirname, '..', '..', 'dist'));
const { classify } = require('./bad-input-classify');

const adopted = [];
const ours = [];

const ops = {
  // Adopt a socket the main thread handed here: from now on the main thread may not use it.
  adopt({ ref }) {
    adopted.push(UDP.adopt(ref));
    return {};
  },
  // Open a socket here and hand it to the main thread (threadId 0): its ref is adoptable there.
  handToMain() {
    const socket = UDP.open(0, { ip: 'loopback' });
    ours.push(socket);
    UDP.controllingProcess(socket, 0);
    return { ref: socket.handoff };
  },
  // Run one case's code in this thread; `scope` holds the structured-cloneable fixtures.
  async run({ code, scope, limit }) {
    const names = ['UDP', ...Object.keys(scope)];
    const values = [UDP, ...Object.values(scope)];
    const outcome = await classify(() => new Function(...names, `return (${code});`)(...values), limit, (socket) => {
      try {
        UDP.close(socket);
      } catch {
        // not ours
      }
    });
    return { outcome };
  },
  closeAll() {
    for (const socket of adopted.splice(0)) {
      try {
        UDP.close(socket);
      } catch {
        // already closed
      }
    }
    ours.splice(0);
    return {};
  },
};

parentPort.on('message', async (message) => {
  let answer;
  try {
    answer = await ops[message.op](message);
  } catch (error) {
    answer = { error: { reason: error && error.reason, message: String(error && error.message) } };
  }
  parentPort.postMessage({ id: message.id, ...answer });
});
parentPort.postMessage({ ready: true });
