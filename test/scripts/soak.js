// Load soak on one socket, in a process of its own (run by test/soak.test.ts): for
// ABYSS_SOAK_SECONDS (default 60) a separate node:dgram process floods the socket while this
// process runs, all at once, recv loops (whole and truncating), recvBatch loops, a recv that is
// aborted at random, send (three overloads, iodata) and sendBatch (GSO-able and mixed) loops to
// the socket itself, and loops calling setopts (recvtos, ttl, recbuf, read_packets), getopts and
// getstat. Then it stops the senders, drains the socket and prints one JSON report line:
// getstat's counters next to what the calls returned, the accounting of every datagram sent to
// the socket, integrity checks, errors, unhandled rejections, and the timers left behind.
//
// env: ABYSS_SOAK_SECONDS (60), ABYSS_SOAK_RATE (external datagrams/s, 20000),
//      ABYSS_SOAK_SELF_RATE (datagrams/s the socket sends itself, about 20000)
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { UDP } = require(path.join(__dirname, '..', '..', 'dist'));

const SECONDS = Number(process.env.ABYSS_SOAK_SECONDS ?? 60);
const RATE = Number(process.env.ABYSS_SOAK_RATE ?? 20000);
const SELF_RATE = Number(process.env.ABYSS_SOAK_SELF_RATE ?? 20000);
/** No datagram for this long after the senders stopped: the socket is drained. */
const QUIET_MS = 400;

const unhandled = [];
const uncaught = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason && reason.stack ? reason.stack : reason)));
process.on('uncaughtException', (error) => uncaught.push(String(error && error.stack ? error.stack : error)));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = (list) => list[Math.floor(Math.random() * list.length)];
const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

/** Datagrams dropped by every CPU's input backlog so far (/proc/net/softnet_stat, column 2). */
function softnetDrops() {
  try {
    return fs.readFileSync('/proc/net/softnet_stat', 'utf8').trim().split('\n')
      .reduce((sum, line) => sum + parseInt(line.trim().split(/\s+/)[1], 16), 0);
  } catch {
    return 0;
  }
}

// ---- what the calls returned --------------------------------------------------------------
const got = {
  datagrams: 0, bytes: 0, viaRecv: 0, viaRecvBatch: 0, viaAborted: 0, external: 0, self: 0,
  truncated: 0, withAncillary: 0, duplicates: 0, corrupt: 0, wrongSender: 0,
};
const sent = { datagrams: 0, bytes: 0, viaSend: 0, viaSendBatch: 0, batches: 0, gsoBatches: 0 };
const calls = { recv: 0, recvBatch: 0, aborted: 0, timeouts: 0, send: 0, sendBatch: 0, setopts: 0, getopts: 0, getstat: 0 };
const problems = [];
function problem(what, detail) {
  if (problems.length < 50) problems.push(`${what}: ${detail}`);
}
function unexpected(where) {
  return (error) => problem(where, `${error && error.reason ? `${error.name} '${error.reason}'` : ''} ${error && error.message ? error.message : error}`);
}

// Every datagram seen once: a bitmap of sequence numbers per sender.
const SEQ_BITS = 1 << 25;
const seen = { E: new Uint8Array(SEQ_BITS >> 3), S: new Uint8Array(SEQ_BITS >> 3) };

const PORT_TAG = { E: 0x45, S: 0x53 };
function payload(tag, n, length) {
  const data = Buffer.alloc(length, (n + 7) & 0xff);
  data[0] = PORT_TAG[tag];
  data.writeUInt32BE(n >>> 0, 1);
  data[5] = length & 0xff;
  return data;
}

let socketPort = 0;
let senderPort = 0;

/** Counts one datagram a call returned and checks it is one of ours, whole, and new. */
function account(datagram, via) {
  const { data } = datagram;
  got.datagrams++;
  got.bytes += data.length;
  got[via]++;
  if (datagram.truncated) got.truncated++;
  if (datagram.ancillary !== undefined) {
    got.withAncillary++;
    if (typeof datagram.ancillary !== 'object' || (datagram.ancillary.tos !== undefined && typeof datagram.ancillary.tos !== 'number')) {
      got.corrupt++;
    }
  }
  if (!Buffer.isBuffer(data) || data.length < 5) {
    got.corrupt++;
    return;
  }
  const tag = data[0] === PORT_TAG.E ? 'E' : data[0] === PORT_TAG.S ? 'S' : undefined;
  if (!tag) {
    got.corrupt++;
    return;
  }
  got[tag === 'E' ? 'external' : 'self']++;
  if (datagram.address !== '127.0.0.1' || datagram.port !== (tag === 'E' ? senderPort : socketPort)) got.wrongSender++;
  const n = data.readUInt32BE(1);
  if (n < SEQ_BITS) {
    const bit = 1 << (n & 7);
    if (seen[tag][n >> 3] & bit) got.duplicates++;
    seen[tag][n >> 3] |= bit;
  }
  if (!datagram.truncated && data.length > 6 && (data[5] !== (data.length & 0xff) || data[6] !== ((n + 7) & 0xff) || data[data.length - 1] !== ((n + 7) & 0xff))) {
    got.corrupt++;
  }
}

// ---- the socket and its loops --------------------------------------------------------------
const stop = { send: false, options: false, recv: false };

async function recvLoop(numBytes) {
  while (!stop.recv) {
    calls.recv++;
    try {
      const datagram = await UDP.recv(socket, numBytes, pick([0, 1, 5, 20, 100]));
      account(datagram, 'viaRecv');
      if (numBytes > 0 && datagram.data.length > numBytes) problem('recv', `asked for ${numBytes} bytes, got ${datagram.data.length}`);
    } catch (error) {
      if (error && error.reason === 'timeout') calls.timeouts++;
      else unexpected('recv')(error);
    }
  }
}

async function recvBatchLoop() {
  while (!stop.recv) {
    calls.recvBatch++;
    const max = pick([1, 4, 16, 32, 64, 100]);
    try {
      const batch = await UDP.recvBatch(socket, max, pick([0, 2, 10, 100]));
      if (!Array.isArray(batch) || batch.length < 1 || batch.length > max) problem('recvBatch', `max ${max}, got ${batch && batch.length}`);
      for (const datagram of batch) account(datagram, 'viaRecvBatch');
    } catch (error) {
      if (error && error.reason === 'timeout') calls.timeouts++;
      else unexpected('recvBatch')(error);
    }
  }
}

/** Waits without a timeout and is aborted at random: an aborted wait must take no datagram. */
async function abortedRecvLoop() {
  while (!stop.recv) {
    calls.recv++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), pick([0, 1, 2, 3]));
    try {
      account(await UDP.recv(socket, 0, 'infinity', { signal: controller.signal }), 'viaAborted');
    } catch (error) {
      if (error && error.reason === 'aborted') calls.aborted++;
      else unexpected('recv with a signal')(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

let selfSeq = 0;
const selfLength = () => 6 + Math.floor(Math.random() * 1195);

/** Single sends to the socket itself, through three overloads and iodata, a few per tick. */
async function sendLoop(perTick) {
  let form = 0;
  while (!stop.send) {
    const pending = [];
    for (let i = 0; i < perTick; i++) {
      const data = payload('S', selfSeq++, selfLength());
      let promise;
      switch (form++ % 4) {
        case 0: promise = UDP.send(socket, { address: '127.0.0.1', port: socketPort }, data); break;
        case 1: promise = UDP.send(socket, '127.0.0.1', socketPort, data); break;
        case 2: promise = UDP.send(socket, '127.0.0.1', socketPort, { ttl: 1 + (form % 255) }, data); break;
        default: promise = UDP.send(socket, '127.0.0.1', socketPort, [data.subarray(0, 3), [data.subarray(3, 6), data.subarray(6)]]);
      }
      calls.send++;
      pending.push(promise.then((value) => {
        if (value !== undefined) problem('send', `resolved with ${value}`);
        sent.datagrams++;
        sent.bytes += data.length;
        sent.viaSend++;
      }, unexpected('send')));
    }
    await Promise.all(pending);
    await sleep(1);
  }
}

/** Batches to the socket itself: equal sizes (one GSO send), mixed sizes, and ancillary data. */
async function sendBatchLoop(perTick) {
  while (!stop.send) {
    const count = 1 + Math.floor(Math.random() * perTick);
    const kind = pick(['gso', 'gso', 'mixed', 'ancillary']);
    const size = 6 + Math.floor(Math.random() * 995);
    const messages = [];
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const length = kind === 'mixed' ? selfLength() : (i === count - 1 && kind === 'gso' ? Math.max(6, size - 3) : size);
      const data = payload('S', selfSeq++, length);
      bytes += length;
      const message = { address: '127.0.0.1', port: socketPort, data: i % 5 === 4 ? [data.subarray(0, 6), data.subarray(6)] : data };
      if (kind === 'ancillary' && i % 3 === 0) message.ancillary = { ttl: 64 };
      messages.push(message);
    }
    calls.sendBatch++;
    try {
      const result = await UDP.sendBatch(socket, messages);
      if (result !== count) problem('sendBatch', `resolved ${result} for ${count} messages`);
      sent.datagrams += count;
      sent.bytes += bytes;
      sent.viaSendBatch += count;
      sent.batches++;
      if (kind === 'gso') sent.gsoBatches++;
    } catch (error) {
      unexpected('sendBatch')(error);
    }
    await sleep(1);
  }
}

/** Toggles options while everything runs; each setopts is checked back with getopts. */
async function optionsLoop() {
  let n = 0;
  while (!stop.options) {
    n++;
    const recvtos = n % 2 === 0;
    const ttl = 1 + (n % 255);
    const readPackets = 1 + (n % 64);
    const recbuf = pick([262144, 1048576, 2097152]);
    try {
      calls.setopts++;
      if (n % 4 === 0) {
        UDP.setopts(socket, { recvtos, ttl, recbuf, read_packets: readPackets });
      } else {
        UDP.setopts(socket, { recvtos });
        UDP.setopts(socket, { ttl });
        UDP.setopts(socket, { recbuf });
        UDP.setopts(socket, { read_packets: readPackets });
        calls.setopts += 3;
      }
      calls.getopts++;
      const now = UDP.getopts(socket, ['recvtos', 'ttl', 'read_packets']);
      if (now.recvtos !== recvtos || now.ttl !== ttl || now.read_packets !== readPackets) {
        problem('setopts', `set ${JSON.stringify({ recvtos, ttl, read_packets: readPackets })}, read ${JSON.stringify(now)}`);
      }
    } catch (error) {
      unexpected('setopts')(error);
    }
    await sleep(pick([1, 2, 5]));
  }
}

const OPTION_TYPES = { recvtos: 'boolean', ttl: 'number', recbuf: 'number', read_packets: 'number', buffer: 'number', active: 'boolean', reuseaddr: 'boolean' };
async function getoptsLoop() {
  while (!stop.options) {
    calls.getopts++;
    try {
      const options = UDP.getopts(socket, Object.keys(OPTION_TYPES));
      for (const [name, type] of Object.entries(OPTION_TYPES)) {
        if (typeof options[name] !== type) problem('getopts', `${name} is ${JSON.stringify(options[name])}`);
      }
    } catch (error) {
      unexpected('getopts')(error);
    }
    await sleep(pick([1, 2, 3]));
  }
}

/** Counters never go back, and never lag what the calls have returned (they count first). */
let last;
async function getstatLoop() {
  while (!stop.options) {
    calls.getstat++;
    try {
      const stats = UDP.getstat(socket);
      if (last && (stats.recv_cnt < last.recv_cnt || stats.recv_oct < last.recv_oct || stats.send_cnt < last.send_cnt || stats.send_oct < last.send_oct)) {
        problem('getstat', `a counter went back: ${JSON.stringify(last)} → ${JSON.stringify(stats)}`);
      }
      if (stats.recv_cnt < got.datagrams || stats.recv_oct < got.bytes || stats.send_cnt < sent.datagrams || stats.send_oct < sent.bytes) {
        problem('getstat', `counters behind the calls: ${JSON.stringify(stats)} vs ${JSON.stringify({ got: [got.datagrams, got.bytes], sent: [sent.datagrams, sent.bytes] })}`);
      }
      for (const key of ['recv_oct', 'recv_cnt', 'recv_max', 'recv_avg', 'recv_dvi', 'send_oct', 'send_cnt', 'send_max', 'send_avg', 'send_pend']) {
        if (!Number.isFinite(stats[key]) || stats[key] < 0) problem('getstat', `${key} is ${stats[key]}`);
      }
      last = stats;
    } catch (error) {
      unexpected('getstat')(error);
    }
    await sleep(pick([1, 3, 5]));
  }
}

// ---- the run ---------------------------------------------------------------------------------
let socket;

function startSender(port) {
  const child = spawn(process.execPath, [path.join(__dirname, 'soak-sender.js'), String(port), String(RATE), '5'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  // 'close' comes once the process has exited and its pipes are closed too.
  const closed = new Promise((resolve) => child.once('close', resolve));
  const next = () => new Promise((resolve, reject) => {
    const onLine = (line) => { cleanup(); resolve(JSON.parse(line)); };
    const onExit = (code) => { cleanup(); reject(new Error(`sender exited (${code})`)); };
    const cleanup = () => { lines.off('line', onLine); child.off('exit', onExit); };
    lines.on('line', onLine);
    child.on('exit', onExit);
  });
  return { child, next, closed };
}

async function main() {
  // process.stdout and process.stderr open their handles when first touched: open them now, so
  // that the handles counted before and after differ only by what the run left behind.
  void process.stdout;
  void process.stderr;
  const timersBefore = timers();
  const resourcesBefore = process.getActiveResourcesInfo().sort();
  const softnetBefore = softnetDrops();
  // Reuse off: another process's socket with SO_REUSEADDR bound to port 0 may otherwise be
  // given this port and take datagrams from the count (jest runs other files meanwhile).
  socket = UDP.open(0, { ip: '127.0.0.1', recbuf: 1 << 20, reuseaddr: false, reuseport: false });
  socketPort = UDP.sockname(socket).port;

  const sender = startSender(socketPort);
  const ready = await sender.next();
  senderPort = ready.port;
  const started = Date.now();

  // Per tick (about a millisecond): single sends and batch sizes giving roughly SELF_RATE.
  const perTick = Math.max(1, Math.round(SELF_RATE / 1000 / 3));
  const receivers = [recvLoop(0), recvLoop(0), recvLoop(64), recvBatchLoop(), recvBatchLoop(), abortedRecvLoop()];
  const senders = [sendLoop(perTick), sendBatchLoop(perTick * 4)];
  const pokers = [optionsLoop(), getoptsLoop(), getstatLoop()];

  await sleep(SECONDS * 1000);
  const loadSeconds = (Date.now() - started) / 1000;

  // Stop the flood and our own sends, then drain until the socket stays quiet.
  const done = sender.next();
  sender.child.stdin.end('stop\n');
  const external = await done;
  await sender.closed;
  stop.send = true;
  await Promise.all(senders);
  stop.options = true;
  await Promise.all(pokers);
  let counted = -1;
  let quietSince = Date.now();
  while (Date.now() - quietSince < QUIET_MS) {
    await sleep(50);
    if (got.datagrams !== counted) {
      counted = got.datagrams;
      quietSince = Date.now();
    }
  }
  stop.recv = true;
  await Promise.all(receivers);

  const stats = UDP.getstat(socket);
  UDP.close(socket);
  // Let closed handles and finished timers go.
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  const softnetAfter = softnetDrops();
  const report = {
    seconds: SECONDS,
    loadSeconds,
    rate: RATE,
    selfRate: SELF_RATE,
    stats,
    got,
    sent,
    calls,
    external,
    accounting: {
      sentToSocket: external.sent + stats.send_cnt,
      received: got.datagrams,
      kernelDrops: stats.kernel.drops,
      leftInQueue: stats.kernel.rx_queue,
      missing: external.sent + stats.send_cnt - got.datagrams - stats.kernel.drops,
      softnetDrops: softnetAfter - softnetBefore,
      externalReceived: got.external,
      selfReceived: got.self,
    },
    problems,
    unhandled,
    uncaught,
    timers: { before: timersBefore, after: timers() },
    resources: { before: resourcesBefore, after: process.getActiveResourcesInfo().sort() },
  };
  process.stdout.write(`SOAK-REPORT ${JSON.stringify(report)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stdout.write(`SOAK-FATAL ${String(error && error.stack ? error.stack : error)}\n`);
    process.exit(1);
  },
);
