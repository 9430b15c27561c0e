// Runs the bad-input matrix of test/bad-input.test.ts in a process of its own, so that a case
// that crashes (a native fault) or hangs (a loop that never ends) cannot take the test run with
// it: the parent kills and restarts this process and carries on with the next case.
//
// usage: node bad-input-runner.js <cases.json> <first index> <scratch dir>
// cases.json: [{ code, where?: 'main' | 'worker' }]; `code` is a JS expression evaluated with the
// fixtures it names in scope (see FIXTURES below). For every case from <first index> on it
// prints one line { i, phase: 'start' } before the call and { i, phase: 'done', outcome } after.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { Worker } = require('node:worker_threads');
const { UDP, Socket, RecvArena } = require(path.join(__dirname, '..', '..', 'dist'));
const { classify, describeError } = require('./bad-input-classify');

/** How long a promise a case returned may stay pending: every bad call fails at once. */
const ASYNC_LIMIT = 1000;

const [casesFile, firstArg, rootArg] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
const first = Number(firstArg ?? 0);
// The parent removes it (this process may be killed): unix socket files and per-case dirs.
const root = rootArg ?? fs.mkdtempSync(path.join(os.tmpdir(), 'abyss-bi-'));

function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

// Anything that escapes a case is recorded against it (and fails it), never kills the runner.
let current = { unhandled: [], uncaught: [] };
process.on('unhandledRejection', (reason) => current.unhandled.push(describeError(reason)));
process.on('uncaughtException', (error) => current.uncaught.push(describeError(error)));

// The other thread: see bad-input-worker.js.
let worker;
let nextId = 1;
const answers = new Map();
async function startWorker() {
  worker = new Worker(path.join(__dirname, 'bad-input-worker.js'));
  worker.on('message', (message) => {
    const waiter = answers.get(message.id);
    if (waiter) {
      answers.delete(message.id);
      waiter(message);
    }
  });
  worker.on('error', (error) => current.uncaught.push(describeError(error)));
  const [ready] = await once(worker, 'message');
  if (!ready.ready) throw new Error('bad-input worker did not start');
}
function ask(op, payload = {}) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      answers.delete(id);
      reject(new Error(`bad-input worker did not answer '${op}'`));
    }, 5000);
    answers.set(id, (message) => {
      clearTimeout(timer);
      if (message.error) reject(new Error(`worker ${op}: ${message.error.reason} ${message.error.message}`));
      else resolve(message);
    });
    worker.postMessage({ id, op, ...payload });
  });
}

let deadWorker;
async function exitedWorker() {
  if (!deadWorker) {
    deadWorker = new Worker('0', { eval: true });
    await once(deadWorker, 'exit');
  }
  return deadWorker;
}

/** A cyclic array: iodata, option values and messages that refer to themselves. */
function cyclic() {
  const array = ['x'];
  array.push(array);
  return array;
}
const long = (n, ch = 'x') => ch.repeat(n);

/**
 * Fixtures a case gets when its code names them. Each case gets fresh ones, closed after it.
 * main thread: sock (IPv4 loopback), sock6 (::1), usock (unix, bound in tmp), csock (IPv4,
 * connected to 127.0.0.1:9), activeSock (active: true), closedSock, foreignSock (handed to the
 * worker, adopted there), handedRef (ref of a worker's socket handed to this thread, not yet
 * adopted), deadWorker (a Worker that has exited), fileFd (a regular file), tmp (a fresh dir).
 * worker thread: mainRef (ref of a main-thread socket never handed), closedRef, givenRef (ref
 * of a socket handed to the worker, not yet adopted).
 */
async function prepare(code, where, dir) {
  const uses = (name) => new RegExp(`\\b${name}\\b`).test(code);
  const sockets = [];
  const own = (socket) => {
    sockets.push(socket);
    return socket;
  };
  const open = () => own(UDP.open(0, { ip: 'loopback' }));
  const scope = {};
  const cleanup = [];
  if (where === 'worker') {
    if (uses('mainRef')) scope.mainRef = open().handoff;
    if (uses('closedRef')) {
      const socket = open();
      UDP.close(socket);
      scope.closedRef = socket.handoff;
    }
    if (uses('givenRef')) {
      const socket = open();
      UDP.controllingProcess(socket, worker);
      scope.givenRef = socket.handoff;
    }
    return { scope, sockets, cleanup, foreign: true };
  }
  Object.assign(scope, { UDP, Socket, RecvArena, Buffer, cyclic, long, tmp: dir });
  if (uses('sock')) scope.sock = open();
  if (uses('sock6')) scope.sock6 = own(UDP.open(0, { ip: '::1' }));
  if (uses('usock')) scope.usock = own(UDP.open(0, { ip: { local: path.join(dir, 'u') } }));
  if (uses('csock')) {
    scope.csock = open();
    UDP.connect(scope.csock, '127.0.0.1', 9);
  }
  if (uses('activeSock')) scope.activeSock = own(UDP.open(0, { ip: 'loopback', active: true }));
  if (uses('closedSock')) {
    scope.closedSock = open();
    UDP.close(scope.closedSock);
  }
  let foreign = false;
  if (uses('foreignSock')) {
    const socket = open();
    UDP.controllingProcess(socket, worker);
    await ask('adopt', { ref: socket.handoff });
    scope.foreignSock = socket;
    foreign = true;
  }
  if (uses('handedRef')) {
    scope.handedRef = (await ask('handToMain')).ref;
    foreign = true;
  }
  if (uses('deadWorker')) scope.deadWorker = await exitedWorker();
  if (uses('fileFd')) {
    const fd = fs.openSync(path.join(dir, 'file'), 'w');
    scope.fileFd = fd;
    cleanup.push(() => fs.closeSync(fd));
  }
  return { scope, sockets, cleanup, foreign };
}

const closeQuietly = (socket) => {
  try {
    UDP.close(socket);
  } catch {
    // not this thread's, or already closed
  }
};

async function runCase(index, spec) {
  const dir = fs.mkdtempSync(path.join(root, 'c'));
  const fixtures = await prepare(spec.code, spec.where, dir);
  current = { unhandled: [], uncaught: [] };
  emit({ i: index, phase: 'start' });
  let outcome;
  if (spec.where === 'worker') {
    ({ outcome } = await ask('run', { code: spec.code, scope: fixtures.scope, limit: ASYNC_LIMIT }));
  } else {
    const names = Object.keys(fixtures.scope);
    const values = Object.values(fixtures.scope);
    outcome = await classify(() => new Function(...names, `return (${spec.code});`)(...values), ASYNC_LIMIT, (socket) => {
      fixtures.sockets.push(socket);
    });
  }
  // Close everything: a call still pending now rejects 'closed' (classify caught it).
  for (const socket of fixtures.sockets) closeQuietly(socket);
  for (const step of fixtures.cleanup) step();
  if (fixtures.foreign) await ask('closeAll');
  // Let a stray rejection or exception surface while it still belongs to this case.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 1));
  fs.rmSync(dir, { recursive: true, force: true });
  emit({ i: index, phase: 'done', outcome: { ...outcome, unhandled: current.unhandled, uncaught: current.uncaught } });
}

async function main() {
  await startWorker();
  for (let index = first; index < cases.length; index++) await runCase(index, cases[index]);
  await worker.terminate();
  emit({ phase: 'end' });
  process.exit(0);
}

main().catch((error) => {
  emit({ phase: 'fatal', error: describeError(error) });
  process.exit(2);
});
