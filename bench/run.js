#!/usr/bin/env node
// `npm run bench`: abyss-transport's UDP against node:dgram (through DgramUDP, the same
// Transport API, and raw) and against C, on this machine, in one run. Every measured side
// runs in a process of its own (bench/cases.js, bench/bin/udpbench); CPU is that process's
// CPU time, not wall time. Loopback only.
//
//   --size N        datagram size for receive, send and echo (default 64)
//   --duration S    seconds per throughput case (default 3)
//   --cases LIST    recv,recvBatch,paced,coalesced,send,sendBatch,echo,gso,gro (default all)
//   --rate PPS      the offered rate of the paced and coalesced receive cases (default 100000)
//   --window US     the coalescing window of the coalesced receive case, µs (default 1000)
//   --rounds N      interleaved rounds per case, each figure their median (default 3)
//   --quick         1 s per case, one round and fewer round trips
//
// Prints progress on stderr and a table on stdout; writes bench/results/<timestamp>.json,
// bench/results/latest.json and bench/results/latest.svg.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const root = path.join(__dirname, '..');
const binDir = path.join(__dirname, 'bin');
const cSources = path.join(__dirname, 'c');
const casesScript = path.join(__dirname, 'cases.js');
const resultsDir = path.join(__dirname, 'results');
const udpbench = path.join(binDir, 'udpbench');

const ALL_CASES = ['recv', 'recvBatch', 'paced', 'coalesced', 'send', 'sendBatch', 'echo', 'gso', 'gro'];
const SEGMENT = 1400;
/** How long a receiver waits for the first datagram. */
const FIRST_WAIT_S = 10;
/** The polled receivers' period: they read what arrived and, when busy, sleep this long. */
const POLL_MS = 1;

function usage(message) {
  if (message) process.stderr.write(`bench: ${message}\n`);
  process.stderr.write(`usage: npm run bench -- [--size 1..65507] [--duration SECONDS] [--rounds N] [--rate PPS] [--window US] [--cases ${ALL_CASES.join(',')}] [--quick]\n`);
  process.exit(2);
}

function parseOptions(argv) {
  const options = { size: 64, duration: 3, rounds: 3, rate: 100000, window: 1000, cases: [...ALL_CASES], quick: false, pings: 10000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--size') options.size = Number(value());
    else if (arg === '--duration') options.duration = Number(value());
    else if (arg === '--rounds') options.rounds = Number(value());
    else if (arg === '--rate') options.rate = Number(value());
    else if (arg === '--window') options.window = Number(value());
    else if (arg === '--cases') options.cases = value().split(',').map((name) => name.trim()).filter(Boolean);
    else if (arg === '--quick') options.quick = true;
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  if (options.quick) {
    if (!argv.includes('--duration')) options.duration = 1;
    if (!argv.includes('--rounds')) options.rounds = 1;
    options.pings = 2000;
  }
  if (!Number.isInteger(options.size) || options.size < 1 || options.size > 65507) usage('--size must be an integer from 1 to 65507');
  if (!(options.duration > 0 && options.duration <= 60)) usage('--duration must be a number of seconds from 0 to 60');
  if (!Number.isInteger(options.rounds) || options.rounds < 1 || options.rounds > 9) usage('--rounds must be an integer from 1 to 9');
  if (!Number.isInteger(options.rate) || options.rate < 1000 || options.rate > 10_000_000) usage('--rate must be an integer from 1000 to 10000000');
  if (!Number.isInteger(options.window) || options.window < 1 || options.window > 1_000_000) usage('--window must be an integer from 1 to 1000000 (µs)');
  const unknown = options.cases.filter((name) => !ALL_CASES.includes(name));
  if (unknown.length > 0 || options.cases.length === 0) usage(`unknown case(s): ${unknown.join(', ') || '(none given)'}`);
  return options;
}

const progress = (text) => process.stderr.write(`[bench] ${text}\n`);

// ----------------------------------------------------------------------------------------
// Building what is measured

function newestMtime(dir, filter) {
  let newest = 0;
  for (const name of fs.readdirSync(dir)) {
    if (filter(name)) newest = Math.max(newest, fs.statSync(path.join(dir, name)).mtimeMs);
  }
  return newest;
}

/** Compiles lib/ to dist/ when dist is missing or older than lib; returns a reason it failed. */
function buildFacade() {
  const lib = path.join(root, 'lib');
  const dist = path.join(root, 'dist');
  const wanted = fs.readdirSync(lib).filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => path.join(dist, name.replace(/\.ts$/, '.js')));
  const stale = wanted.some((file) => !fs.existsSync(file)) ||
    Math.min(...wanted.map((file) => fs.statSync(file).mtimeMs)) < newestMtime(lib, (name) => name.endsWith('.ts'));
  if (!stale) return undefined;
  progress('compiling the TypeScript facade (npx tsc -p tsconfig.build.json)');
  const result = spawnSync('npx', ['--no-install', 'tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    const output = `${result.stdout || ''}${result.stderr || ''}`.split('\n').filter((line) => line && !line.includes('npm warn'));
    process.stderr.write(`${output.join('\n')}\n`);
    return `tsc failed: ${output[0] || result.error?.message || 'exit ' + result.status}`;
  }
  return undefined;
}

/** Compiles bench/c/*.c to bench/bin/ when missing or stale; returns a reason it failed. */
function buildC() {
  fs.mkdirSync(binDir, { recursive: true });
  for (const source of fs.readdirSync(cSources).filter((name) => name.endsWith('.c'))) {
    const from = path.join(cSources, source);
    const to = path.join(binDir, source.replace(/\.c$/, ''));
    if (fs.existsSync(to) && fs.statSync(to).mtimeMs >= fs.statSync(from).mtimeMs) continue;
    progress(`compiling ${path.relative(root, from)} (cc -O2)`);
    const result = spawnSync(process.env.CC || 'cc', ['-O2', '-Wall', '-o', to, from], { encoding: 'utf8' });
    if (result.status !== 0) {
      process.stderr.write(result.stderr || '');
      return `cc failed: ${(result.stderr || result.error?.message || '').split('\n')[0]}`;
    }
  }
  return undefined;
}

/** Whether a module loads in a fresh process (the native addon may be missing or broken). */
function loads(expression) {
  const result = spawnSync(process.execPath, ['-e', expression], { cwd: root, encoding: 'utf8', timeout: 20000 });
  if (result.status === 0) return undefined;
  const lines = `${result.stderr || ''}`.split('\n').map((line) => line.trim()).filter(Boolean);
  const message = lines.find((line) => /^[A-Za-z]*Error\b.*:/.test(line)) || lines.find((line) => /rror/.test(line)) || lines[0] || `exit ${result.status}`;
  return message.length > 160 ? `${message.slice(0, 157)}...` : message;
}

// ----------------------------------------------------------------------------------------
// Child processes: every one is tracked and killed at the end

const children = new Set();
function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

class Unavailable extends Error {}

/** A child whose stdout is JSON lines; next(ms) is the next one (an {error} line throws Unavailable). */
function start(command, args) {
  const child = spawn(command, args.map(String), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines = [];
  const waiting = [];
  let stderr = '';
  let ended = false;
  const wake = () => {
    while (waiting.length > 0 && (lines.length > 0 || ended)) waiting.shift()();
  };
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    wake();
  });
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  child.on('error', (error) => {
    stderr += error.message;
  });
  child.on('close', () => {
    ended = true;
    children.delete(child);
    wake();
  });
  // Named as what runs, not as the taskset in front of it.
  const [program, shown] = command === 'taskset' ? [args[2], args.slice(3)] : [command, args];
  const name = `${path.basename(program) === path.basename(process.execPath) ? 'node cases.js' : path.basename(program)} ${shown.slice(program === process.execPath ? 1 : 0).slice(0, 2).join(' ')}`;
  return {
    child,
    next(ms) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiting.indexOf(take);
          if (index >= 0) waiting.splice(index, 1);
          reject(new Error(`${name}: no answer within ${Math.round(ms / 1000)} s`));
        }, ms);
        function take() {
          clearTimeout(timer);
          if (lines.length === 0) {
            const why = stderr.split('\n').map((line) => line.trim()).filter(Boolean).find((line) => /rror/.test(line)) || stderr.trim().split('\n')[0];
            return reject(new Unavailable(`${name} exited${why ? `: ${why}` : ''}`));
          }
          const line = lines.shift();
          let value;
          try {
            value = JSON.parse(line);
          } catch {
            return reject(new Error(`${name}: not JSON: ${line}`));
          }
          if (value.error) return reject(new Unavailable(value.error));
          resolve(value);
        }
        waiting.push(take);
        wake();
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * The two CPUs a case runs on, as the receive-limits notes measured (BENCHMARK.md): the measured
 * side on MEASURED, its load generator or peer on LOAD, each pinned there (taskset), so that
 * the scheduler never puts the measured process behind a spinning sender. Unpinned where
 * there are fewer than two CPUs or no taskset.
 */
const MEASURED = 0;
const LOAD = 1;
const PIN = os.cpus().length >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const pinned = (cpu, command, args) => (PIN ? start('taskset', ['-c', String(cpu), command, ...args]) : start(command, args));
const c = (cpu, ...args) => pinned(cpu, udpbench, args);
const node = (cpu, ...args) => pinned(cpu, process.execPath, [casesScript, ...args]);

// ----------------------------------------------------------------------------------------
// The cases

/**
 * Receive: a C sendmmsg flood from a separate process, as fast as it goes (paced: at
 * options.rate, one datagram per tick). A row's `receiver(options)` names its receiver's
 * arguments: udpbench's for the C rows, cases.js's IMPL and window for the others.
 */
async function receiveCase(row, options, spawned, { paced = false } = {}) {
  const [command, ...args] = row.receiver ? row.receiver(options) : [row.kind === 'c' ? 'sink' : row.id];
  const receiver = spawned(row.kind === 'c' ? c(MEASURED, command, FIRST_WAIT_S, ...args) : node(MEASURED, 'receive', command, FIRST_WAIT_S, ...args));
  const { port } = await receiver.next(20000);
  const count = Math.round(options.duration * 5e6); // more than one core sends: the duration decides
  const flood = spawned(paced ? c(LOAD, 'pace', port, options.duration, options.size, options.rate)
    : c(LOAD, 'flood', port, options.duration, options.size, count));
  const offered = await flood.next(options.duration * 1000 + 15000);
  const got = await receiver.next(FIRST_WAIT_S * 1000 + 15000);
  if (got.received === 0) throw new Unavailable('nothing was received');
  const latency = (value) => (value >= 0 ? value : undefined);
  return {
    sent: offered.sent,
    offeredPps: offered.sent / offered.seconds,
    received: got.received,
    pps: got.received / Math.max(got.seconds, 1e-9),
    cpuNs: (got.cpu / got.received) * 1e9,
    systemNs: (got.system / got.received) * 1e9,
    cpuSeconds: got.cpu,
    busy: got.cpu / Math.max(got.seconds, 1e-9),
    loss: Math.max(0, 1 - got.total / offered.sent),
    perCall: got.calls ? got.received / got.calls : undefined,
    latencyP50: latency(got.p50),
    latencyP99: latency(got.p99),
    latencyP999: latency(got.p999),
  };
}

/** Send: as fast as the implementation allows, to a C recvmmsg sink. */
async function sendCase(row, options, spawned) {
  const sink = spawned(c(LOAD, 'sink', FIRST_WAIT_S));
  const { port } = await sink.next(20000);
  const sender = spawned(row.id === 'c' ? c(MEASURED, 'send', port, options.duration, options.size)
    : row.id === 'c-gso' ? c(MEASURED, 'sendgso', port, options.duration, options.size)
      : node(MEASURED, 'send', row.id, port, options.duration, options.size));
  const sent = await sender.next(options.duration * 1000 + 30000);
  const got = await sink.next(FIRST_WAIT_S * 1000 + 15000);
  return {
    sent: sent.sent,
    pps: sent.sent / sent.seconds,
    cpuNs: (sent.cpu / sent.sent) * 1e9,
    cpuSeconds: sent.cpu,
    delivered: sent.sent ? got.received / sent.sent : 0,
  };
}

/** Echo: sequential round trips to a C echo in another process. */
async function echoCase(row, options, spawned) {
  const echo = spawned(c(LOAD, 'echo'));
  const { port } = await echo.next(20000);
  const client = spawned(row.id === 'c' ? c(MEASURED, 'ping', port, options.pings, options.size) : node(MEASURED, 'ping', row.id, port, options.pings, options.size));
  const result = await client.next(60000);
  echo.kill();
  return { p50: result.p50, p99: result.p99, count: result.count };
}

/** GSO: UDP_SEGMENT sends of 1400-byte segments to a C sink with UDP_GRO. */
async function gsoCase(row, options, spawned) {
  const sink = spawned(c(LOAD, 'sink', FIRST_WAIT_S, 'gro'));
  const { port } = await sink.next(20000);
  const sender = spawned(row.id === 'c' ? c(MEASURED, 'gso', port, options.duration, SEGMENT) : node(MEASURED, 'send', row.id, port, options.duration, SEGMENT));
  const sent = await sender.next(options.duration * 1000 + 30000);
  const got = await sink.next(FIRST_WAIT_S * 1000 + 15000);
  return {
    gbps: (sent.bytes * 8) / sent.seconds / 1e9,
    receivedGbps: (got.bytes * 8) / Math.max(got.seconds, 1e-9) / 1e9,
    cpuPerGB: sent.cpu / (sent.bytes / 1e9),
    cpuSeconds: sent.cpu,
    delivered: sent.bytes ? got.bytes / sent.bytes : 0,
  };
}

/** GRO: a C UDP_SEGMENT flood into a receiver with UDP_GRO on. */
async function groCase(row, options, spawned) {
  const receiver = spawned(row.id === 'c' ? c(MEASURED, 'sink', FIRST_WAIT_S, 'gro') : node(MEASURED, 'receive', row.id, FIRST_WAIT_S));
  const { port } = await receiver.next(20000);
  const flood = spawned(c(LOAD, 'gso', port, options.duration, SEGMENT));
  const sent = await flood.next(options.duration * 1000 + 15000);
  const got = await receiver.next(FIRST_WAIT_S * 1000 + 15000);
  if (got.bytes === 0) throw new Unavailable('nothing was received');
  return {
    gbps: (got.bytes * 8) / Math.max(got.seconds, 1e-9) / 1e9,
    offeredGbps: (sent.bytes * 8) / sent.seconds / 1e9,
    cpuPerGB: got.cpu / (got.bytes / 1e9),
    cpuSeconds: got.cpu,
    loss: Math.max(0, 1 - got.totalBytes / sent.bytes),
  };
}

// kind: which build a row needs (udp: the native addon, dgramudp: dist/dgram.js, dgram, c).
// select: the --cases name that turns it on (baselines run with any case of their group).
// api: rows with the same api are compared ("vs dgram" is against DgramUDP's row of that api).
const RECEIVE_ROWS = [
  { id: 'udp-recv', label: 'UDP.recv', kind: 'udp', select: 'recv', api: 'recv' },
  { id: 'udp-recvBatch', label: 'UDP.recvBatch(64)', kind: 'udp', select: 'recvBatch', api: 'recvBatch' },
  { id: 'udp-recvInto', label: 'UDP.recvInto, 64 slots', kind: 'udp', select: 'recvBatch', api: 'recvBatch' },
  { id: 'dgramudp-recv', label: 'DgramUDP.recv', kind: 'dgramudp', select: 'recv', api: 'recv', baseline: true },
  { id: 'dgramudp-recvBatch', label: 'DgramUDP.recvBatch(64)', kind: 'dgramudp', select: 'recvBatch', api: 'recvBatch', baseline: true },
  { id: 'dgram-raw', label: "node:dgram 'message'", kind: 'dgram', api: 'recv' },
  { id: 'udp-floor', label: 'floor: readiness callback + recvmmsg(64)', kind: 'udp', select: 'recvBatch', api: 'recvBatch',
    note: "the runtime's cost on this path: the addon's recvmmsg in a bare libuv callback, no facade" },
  { id: 'c', label: 'C recvmmsg(64)', kind: 'c', api: 'recv' },
];

const GROUPS = [
  {
    id: 'receive', title: 'Receive: C sendmmsg flood from another process, as fast as it sends (a receiver near 100% busy is saturated: its CPU/dgram is about 1 / received pps)', run: receiveCase, cases: ['recv', 'recvBatch'],
    rows: RECEIVE_ROWS,
  },
  {
    id: 'paced', layout: 'receive', run: (row, options, spawned) => receiveCase(row, options, spawned, { paced: true }), cases: ['paced'],
    title: 'Receive: a C sender paced at {rate} pps, one datagram per tick (below the receivers\' limit: CPU/dgram is their own cost, not the offered rate\'s)',
    // Every row, whichever of recv and recvBatch was asked for.
    rows: RECEIVE_ROWS.map(({ select: _select, ...row }) => row),
  },
  {
    id: 'coalesced', layout: 'receive', run: (row, options, spawned) => receiveCase(row, options, spawned, { paced: true }), cases: ['coalesced'],
    title: 'Receive, one wakeup per window: the same paced sender; the receivers wait up to {window} µs (coalesce) or sleep {pollMs} ms (polled) after a datagram, so that one wakeup serves many',
    rows: [
      { id: 'udp-coalesced-recvBatch', label: 'UDP.recvBatch(64), coalesce {window} µs', kind: 'udp', api: 'recvBatch', cref: 'c-hold',
        receiver: (options) => ['udp-coalesced-recvBatch', options.window] },
      { id: 'udp-coalesced-recv', label: 'UDP.recv, coalesce {window} µs', kind: 'udp', api: 'recv', cref: 'c-hold',
        receiver: (options) => ['udp-coalesced-recv', options.window] },
      { id: 'udp-coalesced-recvInto', label: 'UDP.recvInto, 64 slots, coalesce {window} µs', kind: 'udp', api: 'recvBatch', cref: 'c-hold',
        receiver: (options) => ['udp-coalesced-recvInto', options.window] },
      { id: 'udp-polled', label: `UDP.recvBatch(1024), ${POLL_MS} ms sleep`, kind: 'udp', api: 'recvBatch', receiver: () => ['udp-polled', POLL_MS] },
      { id: 'dgramudp-polled', label: `DgramUDP.recvBatch(1024), ${POLL_MS} ms sleep`, kind: 'dgramudp', api: 'recvBatch', baseline: true,
        receiver: () => ['dgramudp-polled', POLL_MS] },
      { id: 'udp-floor-polled', label: `floor: recvmmsg(64) until empty, ${POLL_MS} ms sleep`, kind: 'udp', api: 'recvBatch',
        receiver: () => ['udp-floor-polled', POLL_MS],
        note: "the runtime's cost on this path: the addon's recvmmsg from a bare timer or readiness callback, no facade" },
      { id: 'c-hold', label: 'C recvmmsg(64), hold {window} µs (timerfd)', kind: 'c', api: 'recvBatch', receiver: (options) => ['hold', options.window],
        note: 'coalesces as the coalesce option does: a readiness after an emptied queue waits the window on a timerfd, then drains' },
      { id: 'c', label: `C recvmmsg(64) until empty, ${POLL_MS} ms sleep`, kind: 'c', api: 'recvBatch', receiver: () => ['poll', POLL_MS] },
      { id: 'c-plain', label: 'C recvmmsg(64), a wakeup per readiness', kind: 'c', api: 'recv', receiver: () => ['sink'],
        note: 'the paced group\'s C row again, in this group\'s rounds: "CPU vs C plain" divides by it' },
    ],
  },
  {
    id: 'send', title: 'Send: to a C recvmmsg sink in another process', run: sendCase, cases: ['send', 'sendBatch'],
    rows: [
      { id: 'udp-send', label: 'UDP.send', kind: 'udp', select: 'send', api: 'send' },
      { id: 'udp-sendBatch', label: 'UDP.sendBatch(64)', kind: 'udp', select: 'sendBatch', api: 'sendBatch', cref: 'c-gso' },
      { id: 'dgramudp-send', label: 'DgramUDP.send', kind: 'dgramudp', select: 'send', api: 'send', baseline: true },
      { id: 'dgramudp-sendBatch', label: 'DgramUDP.sendBatch(64)', kind: 'dgramudp', select: 'sendBatch', api: 'sendBatch', baseline: true },
      { id: 'dgram-raw', label: 'node:dgram, 64 in flight', kind: 'dgram', api: 'send' },
      { id: 'c', label: 'C sendmmsg(64)', kind: 'c', api: 'send' },
      { id: 'c-gso', label: 'C UDP_SEGMENT, 64 per send', kind: 'c', select: 'sendBatch', api: 'sendBatch', note: 'what UDP.sendBatch does with equal messages to one destination' },
    ],
  },
  {
    id: 'echo', title: 'Echo round trip (C echo in another process)', run: echoCase, cases: ['echo'],
    rows: [
      { id: 'udp', label: 'UDP send+recv', kind: 'udp', select: 'echo', api: 'echo' },
      { id: 'udp-into', label: 'UDP send+recvInto', kind: 'udp', select: 'echo', api: 'echo' },
      { id: 'dgramudp', label: 'DgramUDP send+recv', kind: 'dgramudp', select: 'echo', api: 'echo', baseline: true },
      { id: 'dgram-raw', label: "node:dgram send+'message'", kind: 'dgram', api: 'echo' },
      { id: 'c', label: 'C sendto+recv', kind: 'c', api: 'echo' },
    ],
  },
  {
    id: 'gso', title: `GSO send: ${SEGMENT}-byte segments, ~64 KiB per send, to a C GRO sink`, run: gsoCase, cases: ['gso'],
    rows: [
      { id: 'udp-gso', label: 'UDP.send {segmentSize}', kind: 'udp', select: 'gso', api: 'gso' },
      { id: 'dgramudp-gso', label: 'DgramUDP.send {segmentSize}', kind: 'dgramudp', select: 'gso', api: 'gso', baseline: true },
      { id: 'c', label: 'C UDP_SEGMENT sendto', kind: 'c', api: 'gso' },
    ],
  },
  {
    id: 'gro', title: `GRO receive: C UDP_SEGMENT flood of ${SEGMENT}-byte segments`, run: groCase, cases: ['gro'],
    rows: [
      { id: 'udp-gro', label: 'UDP.recvBatch {gro}', kind: 'udp', select: 'gro', api: 'gro' },
      { id: 'udp-gro-recvInto', label: 'UDP.recvInto {gro}, 64 slots', kind: 'udp', select: 'gro', api: 'gro' },
      { id: 'dgramudp-gro', label: 'DgramUDP.recvBatch {gro}', kind: 'dgramudp', select: 'gro', api: 'gro', baseline: true },
      { id: 'c', label: 'C recvmmsg UDP_GRO', kind: 'c', api: 'gro' },
    ],
  },
];

// ----------------------------------------------------------------------------------------
// Reporting

const fmt = (value, digits = 0) => (value === undefined || !Number.isFinite(value) ? '-' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const pct = (value) => (value === undefined || !Number.isFinite(value) ? '-' : `${(value * 100).toFixed(value > 0 && value < 0.001 ? 2 : 1)}%`);
const times = (value) => (value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}×`);

/** The DgramUDP row a row is compared with (same api), raw node:dgram's row, the C row, and C without coalescing. */
function references(group, row, results) {
  const ok = (id) => (results[id] && results[id].status === 'ok' ? results[id] : undefined);
  const base = group.rows.find((r) => r.baseline && r.api === row.api) || group.rows.find((r) => r.baseline);
  const raw = group.rows.find((r) => r.kind === 'dgram');
  const cId = row.cref || 'c';
  return {
    dgram: base && base.id !== row.id ? ok(base.id) : undefined,
    raw: raw && raw.id !== row.id && row.kind !== 'c' ? ok(raw.id) : undefined,
    c: row.id !== cId && row.kind !== 'c' ? ok(cId) : undefined,
    plain: row.kind !== 'c' ? ok('c-plain') : undefined,
  };
}

const RECEIVE_COLUMNS = ['implementation', 'offered pps', 'received pps', 'CPU ns/dgram', 'busy', 'loss', 'dgrams/call', 'latency p50 µs', 'p99 µs',
  'p99.9 µs', 'CPU vs dgram', 'pps vs dgram', 'CPU vs raw', 'CPU vs C'];
const COLUMNS = {
  receive: RECEIVE_COLUMNS,
  // The coalescing receivers are also set against C that wakes per readiness.
  coalesced: [...RECEIVE_COLUMNS, 'CPU vs C plain'],
  send: ['implementation', 'sent pps', 'CPU ns/dgram', 'delivered', 'CPU vs dgram', 'pps vs dgram', 'CPU vs raw', 'CPU vs C'],
  echo: ['implementation', 'p50 µs', 'p99 µs', 'p50 vs dgram', 'p99 vs dgram', 'p50 vs C', 'p99 vs C'],
  gso: ['implementation', 'sent Gbit/s', 'CPU s/GB', 'delivered', 'Gbit/s vs C', 'CPU/GB vs C'],
  gro: ['implementation', 'offered Gbit/s', 'received Gbit/s', 'CPU s/GB', 'loss', 'Gbit/s vs C', 'CPU/GB vs C'],
};
/** The chart a group is drawn with: its own, or the one it shares (`layout`). */
const layoutOf = (group) => group.layout || group.id;
/** The table a group is printed with. */
const columnsOf = (group) => COLUMNS[group.id] || COLUMNS[layoutOf(group)];

/** A group's title and a row's label with the run's options filled in. */
const fill = (text, report) => text.replace('{rate}', fmt(report.options.rate)).replace('{window}', fmt(report.options.window))
  .replace('{pollMs}', String(POLL_MS));
const titleOf = (group, report) => fill(group.title, report);
const labelOf = (row, report) => fill(row.label, report);

function cells(group, row, results, report) {
  const label = labelOf(row, report);
  const r = results[row.id];
  if (!r || r.status !== 'ok') return [label, `unavailable: ${r ? r.reason : 'not run'}`];
  const m = r.metrics;
  const { dgram, raw, c, plain } = references(group, row, results);
  const ratio = (a, b) => (a !== undefined && b ? a / b : undefined);
  switch (layoutOf(group)) {
    case 'receive': {
      const values = [label, fmt(m.offeredPps), fmt(m.pps), fmt(m.cpuNs), pct(m.busy), pct(m.loss), fmt(m.perCall, 1), fmt(m.latencyP50), fmt(m.latencyP99),
        fmt(m.latencyP999), times(ratio(m.cpuNs, dgram?.metrics.cpuNs)), times(ratio(m.pps, dgram?.metrics.pps)), times(ratio(m.cpuNs, raw?.metrics.cpuNs)),
        times(ratio(m.cpuNs, c?.metrics.cpuNs))];
      return columnsOf(group).length > values.length ? [...values, times(ratio(m.cpuNs, plain?.metrics.cpuNs))] : values;
    }
    case 'send':
      return [label, fmt(m.pps), fmt(m.cpuNs), pct(m.delivered), times(ratio(m.cpuNs, dgram?.metrics.cpuNs)),
        times(ratio(m.pps, dgram?.metrics.pps)), times(ratio(m.cpuNs, raw?.metrics.cpuNs)), times(ratio(m.cpuNs, c?.metrics.cpuNs))];
    case 'echo':
      return [label, fmt(m.p50, 1), fmt(m.p99, 1), times(ratio(m.p50, dgram?.metrics.p50)), times(ratio(m.p99, dgram?.metrics.p99)),
        times(ratio(m.p50, c?.metrics.p50)), times(ratio(m.p99, c?.metrics.p99))];
    case 'gso':
      return [label, fmt(m.gbps, 2), fmt(m.cpuPerGB, 3), pct(m.delivered), times(ratio(m.gbps, c?.metrics.gbps)), times(ratio(m.cpuPerGB, c?.metrics.cpuPerGB))];
    default:
      return [label, fmt(m.offeredGbps, 2), fmt(m.gbps, 2), fmt(m.cpuPerGB, 3), pct(m.loss), times(ratio(m.gbps, c?.metrics.gbps)),
        times(ratio(m.cpuPerGB, c?.metrics.cpuPerGB))];
  }
}

function table(report) {
  const out = [];
  out.push(`abyss-transport benchmark: ${report.options.size}-byte datagrams, ${report.options.duration} s per throughput case, ` +
    `median of ${report.options.rounds} interleaved round${report.options.rounds > 1 ? 's' : ''}, ` +
    `${report.options.pings} round trips; node ${report.node}, ${report.cpus} CPUs (${report.cpuModel}), Linux ${report.kernel}`);
  out.push('Ratios are this row / the DgramUDP row of the same call (node:dgram through the Transport API), / raw node:dgram, and / C');
  out.push('(UDP.sendBatch / the C UDP_SEGMENT row: it sends runs of equal messages to one destination as one GSO send).');
  out.push('Latency is one way, from the C sender\'s clock stamp in each datagram to the read that returned it (same clock).');
  out.push('CPU and latency: lower is better; pps and Gbit/s: higher is better.');
  for (const group of GROUPS) {
    const results = report.results[group.id];
    if (!results) continue;
    const head = columnsOf(group);
    const rows = group.rows.filter((row) => results[row.id]).map((row) => cells(group, row, results, report));
    const widths = head.map((title, i) => Math.max(title.length, ...rows.filter((r) => r.length > 2).map((r) => String(r[i] ?? '').length)));
    widths[0] = Math.max(widths[0], ...rows.map((r) => r[0].length));
    const line = (values) => values.map((value, i) => (i === 0 ? String(value).padEnd(widths[i]) : String(value ?? '').padStart(widths[i]))).join('  ').trimEnd();
    out.push('', titleOf(group, report), line(head), widths.map((w) => '-'.repeat(w)).join('  '));
    for (const values of rows) out.push(values.length === 2 ? `${values[0].padEnd(widths[0])}  ${values[1]}` : line(values));
    for (const row of group.rows) if (row.note && results[row.id]) out.push(`* ${labelOf(row, report)}: ${row.note}`);
  }
  return out.join('\n');
}

/** Each numeric metric's median over the rounds (the upper one of two). */
function median(list) {
  const out = {};
  for (const key of Object.keys(list[0])) {
    const values = list.map((m) => m[key]).filter((v) => typeof v === 'number').sort((a, b) => a - b);
    out[key] = values.length ? values[Math.floor(values.length / 2)] : list[0][key];
  }
  return out;
}

const escapeXml = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Lines of at most `chars` characters, broken at spaces. */
function wrap(text, chars) {
  const lines = [''];
  for (const word of text.split(' ')) {
    const current = lines[lines.length - 1];
    if (current && current.length + 1 + word.length > chars) lines.push(word);
    else lines[lines.length - 1] = current ? `${current} ${word}` : word;
  }
  return lines;
}

/**
 * A bar chart per group, hand-written SVG. Receive groups get two panels side by side, CPU per
 * datagram and one-way latency (p50 bar, p99 tick), so that coalescing shows its price next to
 * its gain. Widths follow from the text (about CHAR_PX a character at 12 px), so no label, value
 * or title runs off the edge.
 */
function svg(report) {
  const CHAR_PX = 6.8;
  const width = 1240;
  const rowHeight = 22;
  const textChars = (width - 24) / CHAR_PX;
  const colours = { udp: '#1f77b4', dgramudp: '#ff7f0e', dgram: '#a0a0a0', c: '#333333' };
  const groups = GROUPS.filter((group) => report.results[group.id]);
  const labels = groups.flatMap((group) => group.rows.filter((row) => report.results[group.id][row.id]).map((row) => labelOf(row, report)));
  const labelWidth = 24 + CHAR_PX * Math.max(20, ...labels.map((label) => label.length));
  const parts = [];
  let y = 30;
  parts.push(`<text x="12" y="${y}" font-size="17" font-weight="bold">abyss-transport vs node:dgram vs C, ${report.options.size}-byte datagrams</text>`);
  for (const line of wrap(`${report.date}, node ${report.node}, ${report.cpus} CPUs, ${report.options.duration} s per case, median of ${report.options.rounds} rounds. ` +
    'Each side in its own process; CPU is process CPU time; latency is one way, from the C sender\'s stamp to the read.', textChars)) {
    y += 16;
    parts.push(`<text x="12" y="${y}" fill="#555">${escapeXml(line)}</text>`);
  }
  y += 10;
  const legend = [['udp', 'abyss-transport UDP'], ['dgramudp', 'DgramUDP (node:dgram, same API)'], ['dgram', 'raw node:dgram'], ['c', 'C']];
  let x = 12;
  for (const [kind, text] of legend) {
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${colours[kind]}"/><text x="${x + 17}" y="${y + 11}">${escapeXml(text)}</text>`);
    x += 40 + text.length * CHAR_PX;
  }
  y += 16;
  // A panel: a metric's bars for every row, and a value text after each bar.
  const panels = {
    receive: [
      { unit: 'ns CPU per datagram received (lower is better)', value: (m) => m.cpuNs, text: (m) => `${fmt(m.cpuNs)}  (${fmt(m.pps)} pps, loss ${pct(m.loss)})` },
      { unit: 'one-way latency, µs: p50 bar, p99 tick (lower is better)', value: (m) => m.latencyP50, tick: (m) => m.latencyP99,
        text: (m) => (m.latencyP50 === undefined ? 'no stamps' : `${fmt(m.latencyP50)} / p99 ${fmt(m.latencyP99)}`) },
    ],
    send: [{ unit: 'ns CPU per datagram sent (lower is better)', value: (m) => m.cpuNs, text: (m) => `${fmt(m.cpuNs)}  (${fmt(m.pps)} pps)` }],
    echo: [{ unit: 'µs round trip: p50 bar, p99 tick (lower is better)', value: (m) => m.p50, tick: (m) => m.p99,
      text: (m) => `${fmt(m.p50, 1)}  (p99 ${fmt(m.p99, 1)} µs)` }],
    gso: [{ unit: 'Gbit/s sent (higher is better)', value: (m) => m.gbps, text: (m) => `${fmt(m.gbps, 2)}  (${fmt(m.cpuPerGB, 3)} CPU s/GB)` }],
    gro: [{ unit: 'Gbit/s received (higher is better)', value: (m) => m.gbps, text: (m) => `${fmt(m.gbps, 2)}  (${fmt(m.cpuPerGB, 3)} CPU s/GB, loss ${pct(m.loss)})` }],
  };
  for (const group of groups) {
    const results = report.results[group.id];
    const rows = group.rows.filter((row) => results[row.id]);
    const metrics = rows.map((row) => (results[row.id].status === 'ok' ? results[row.id].metrics : undefined));
    const layout = panels[layoutOf(group)];
    const panelWidth = (width - labelWidth - 12) / layout.length;
    y += 26;
    for (const line of wrap(titleOf(group, report), textChars)) {
      parts.push(`<text x="12" y="${y}" font-weight="bold">${escapeXml(line)}</text>`);
      y += 15;
    }
    layout.forEach((panel, p) => {
      parts.push(`<text x="${(labelWidth + p * panelWidth).toFixed(1)}" y="${y}" fill="#555">${escapeXml(panel.unit)}</text>`);
    });
    y += 8;
    rows.forEach((row, i) => {
      const m = metrics[i];
      parts.push(`<text x="12" y="${y + 15}">${escapeXml(labelOf(row, report))}</text>`);
      if (!m) {
        const room = Math.floor((width - labelWidth - 12) / CHAR_PX);
        parts.push(`<text x="${labelWidth}" y="${y + 15}" fill="#b00">${escapeXml(`unavailable: ${results[row.id].reason}`.slice(0, room))}</text>`);
        y += rowHeight;
        return;
      }
      layout.forEach((panel, p) => {
        const left = labelWidth + p * panelWidth;
        const text = panel.text(m);
        // The longest value text of the panel decides how long its bars may be.
        const room = panelWidth - 16 - CHAR_PX * Math.max(...metrics.filter(Boolean).map((other) => panel.text(other).length));
        const max = Math.max(1e-9, ...metrics.filter(Boolean).map((other) => Math.max(panel.value(other) ?? 0, panel.tick ? panel.tick(other) ?? 0 : 0)));
        const value = panel.value(m);
        let end = left;
        if (value !== undefined) {
          const length = Math.max(1, (value / max) * room);
          parts.push(`<rect x="${left.toFixed(1)}" y="${y + 4}" width="${length.toFixed(1)}" height="${rowHeight - 8}" fill="${colours[row.kind]}"/>`);
          end = left + length;
          const tick = panel.tick && panel.tick(m);
          if (tick !== undefined) {
            const at = left + (tick / max) * room;
            parts.push(`<line x1="${at.toFixed(1)}" x2="${at.toFixed(1)}" y1="${y + 2}" y2="${y + rowHeight - 2}" stroke="${colours[row.kind]}" stroke-width="2"/>` +
              `<line x1="${end.toFixed(1)}" x2="${at.toFixed(1)}" y1="${y + rowHeight / 2}" y2="${y + rowHeight / 2}" stroke="${colours[row.kind]}"/>`);
            end = Math.max(end, at);
          }
        }
        parts.push(`<text x="${(end + 6).toFixed(1)}" y="${y + 15}">${escapeXml(text)}</text>`);
      });
      y += rowHeight;
    });
  }
  y += 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="Helvetica, Arial, sans-serif" font-size="12">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}

// ----------------------------------------------------------------------------------------

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const blocked = {};
  const facade = buildFacade();
  const cBuild = buildC();
  if (cBuild) blocked.c = cBuild;
  if (facade) blocked.udp = blocked.dgramudp = facade;
  if (!blocked.udp) {
    const why = loads("require('./dist').UDP.listen(0, { ip: '127.0.0.1' })");
    if (why) blocked.udp = `cannot use the native UDP: ${why}`;
  }
  if (!blocked.dgramudp) {
    const why = loads("require('./dist/dgram').DgramUDP.close(require('./dist/dgram').DgramUDP.listen(0, { ip: '127.0.0.1' }))");
    if (why) blocked.dgramudp = `cannot use DgramUDP: ${why}`;
  }
  for (const [kind, reason] of Object.entries(blocked)) if (reason) progress(`${kind} rows unavailable: ${reason}`);

  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: (os.cpus()[0] && os.cpus()[0].model || 'unknown').trim(),
    kernel: os.release(),
    options: {
      size: options.size, duration: options.duration, rounds: options.rounds, rate: options.rate, window: options.window, cases: options.cases,
      quick: options.quick, pings: options.pings, segment: SEGMENT,
    },
    results: {},
  };
  // Each group runs its rows interleaved, round after round (A B C A B C …), and keeps
  // each metric's median, so a slow moment of the machine does not land on one row.
  const plan = [];
  for (const group of GROUPS) {
    if (!group.cases.some((name) => options.cases.includes(name))) continue;
    const rows = group.rows.filter((row) => !row.select || options.cases.includes(row.select));
    const { rounds } = options;
    for (let round = 1; round <= rounds; round++) {
      for (const row of rows) plan.push({ group, row, round, rounds });
    }
  }
  const samples = new Map();
  let index = 0;
  for (const { group, row, round, rounds } of plan) {
    index++;
    const results = (report.results[group.id] ||= {});
    const tag = `(${index}/${plan.length}) ${group.id}: ${labelOf(row, report)}${rounds > 1 ? ` [round ${round}/${rounds}]` : ''}`;
    if (round > 1 && results[row.id] && results[row.id].status !== 'ok') continue;
    if (blocked[row.kind] || (row.kind !== 'c' && blocked.c)) {
      results[row.id] = { status: 'unavailable', reason: blocked[row.kind] || `the C side is needed: ${blocked.c}` };
      progress(`${tag}: unavailable: ${results[row.id].reason}`);
      continue;
    }
    progress(`${tag} …`);
    const mine = [];
    const spawned = (handle) => {
      mine.push(handle);
      return handle;
    };
    const t0 = Date.now();
    try {
      const measured = await group.run(row, options, spawned);
      const key = `${group.id}/${row.id}`;
      samples.set(key, [...(samples.get(key) || []), measured]);
      const metrics = median(samples.get(key));
      results[row.id] = { status: 'ok', metrics, ...(rounds > 1 ? { rounds: samples.get(key) } : {}) };
      const summary = cells(group, row, results, report).slice(1, 5).map((value, i) => `${columnsOf(group)[i + 1]} ${value}`).join(', ');
      progress(`${tag}: ${summary} [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
    } catch (error) {
      results[row.id] = { status: 'unavailable', reason: error.message };
      progress(`${tag}: unavailable: ${error.message}`);
    } finally {
      for (const handle of mine) handle.kill();
    }
  }
  killAll();
  report.seconds = (Date.now() - started) / 1000;

  process.stdout.write(`\n${table(report)}\n\n`);
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = report.date.replace(/[:.]/g, '-');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  fs.writeFileSync(path.join(resultsDir, `${stamp}.json`), json);
  fs.writeFileSync(path.join(resultsDir, 'latest.json'), json);
  fs.writeFileSync(path.join(resultsDir, 'latest.svg'), svg(report));
  process.stdout.write(`wrote bench/results/${stamp}.json (and latest.json) and bench/results/latest.svg in ${report.seconds.toFixed(0)} s\n`);
}

if (require.main === module) {
  main().catch((error) => {
    killAll();
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
  });
}

module.exports = { parseOptions, table, svg, GROUPS };
