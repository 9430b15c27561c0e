// One measured side of a benchmark case, in a process of its own:
//   node bench/cases.js receive IMPL IDLE_S [WINDOW]     prints {"port"}, then what it received
//                                                        (WINDOW: POLL_MS for -polled, µs for -coalesced)
//   node bench/cases.js send IMPL PORT SECONDS SIZE      prints what it sent
//   node bench/cases.js ping IMPL PORT COUNT SIZE        prints round-trip percentiles
// IMPL names the implementation and the call (see IMPLS below). Every line on stdout is JSON;
// a failure is {"error": "..."} and exit code 1. CPU is this process's (process.cpuUsage):
// for receivers from WARMUP_MS after the first datagram (what the JIT compiles then is not the
// steady state; udpbench.c's receivers skip the same), over the whole loop for senders.
'use strict';
const dgram = require('node:dgram');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const RCVBUF = 4 << 20;
/** How many datagrams go in one recvBatch / sendBatch / in flight for raw dgram. */
const BATCH = 64;
const LOOPBACK = '127.0.0.1';
/** Receivers count CPU, datagrams and latency from this long after their first datagram. */
const WARMUP_MS = 250;

function cpuSince(start) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** The Transport an IMPL runs on: abyss-transport's UDP, or DgramUDP (node:dgram). */
function transport(impl) {
  if (impl.startsWith('dgramudp')) return require(path.join(dist, 'dgram')).DgramUDP;
  if (impl.startsWith('udp')) return require(dist).UDP;
  return undefined;
}

function failure(error) {
  const reason = error && error.reason ? `${error.reason}: ${error.message}` : String(error && error.message || error);
  say({ error: reason.split('\n')[0] });
  process.exit(1);
}

// ----------------------------------------------------------------------------------------
// receive: udp-recv, udp-recvBatch, dgramudp-recv, dgramudp-recvBatch, dgram-raw,
//          udp-floor, udp-floor-polled (the runtime's floor, see floorReceive),
//          udp-gro (recvBatch with UDP_GRO), dgramudp-gro,
//          udp-polled, dgramudp-polled (recvBatch of POLLED_BATCH, then a POLL_MS sleep when it
//          brought more than one),
//          udp-coalesced-recv, udp-coalesced-recvBatch (the `coalesce` option, WINDOW µs),
//          udp-recvInto, udp-coalesced-recvInto, udp-gro-recvInto (into a reused RecvArena)

/** One-way latency, from the CLOCK_MONOTONIC nanoseconds the C sender writes into each datagram. */
class Latency {
  // The buckets of udpbench.c: 1 µs up to 10 ms, 100 µs up to 1 s, then one for the rest.
  static FINE = 10000;
  static COARSE = 9900;
  static COARSE_US = 100;
  buckets = new Float64Array(Latency.FINE + Latency.COARSE + 1);
  count = 0;
  /** Past the warm-up: samples count. */
  on = false;

  /** The clock the sender stamps with (libuv's hrtime is CLOCK_MONOTONIC), in ns. */
  static now() {
    return Number(process.hrtime.bigint());
  }

  /** The datagram at `bytes[offset…offset+length)` was read at `now`. */
  add(bytes, offset, length, now) {
    if (length < 8 || !this.on) return;
    const stamp = bytes.readUInt32LE(offset) + bytes.readUInt32LE(offset + 4) * 4294967296;
    const us = Math.max(0, Math.floor((now - stamp) / 1000));
    const bucket = us < Latency.FINE ? us : Math.min(Latency.FINE + Math.floor((us - Latency.FINE) / Latency.COARSE_US), Latency.FINE + Latency.COARSE);
    this.buckets[bucket]++;
    this.count++;
  }

  /** The lower edge of the bucket holding the q-quantile, µs; -1 with no samples. */
  quantile(q) {
    if (this.count === 0) return -1;
    const rank = Math.floor(q * (this.count - 1));
    let seen = 0;
    for (let bucket = 0; bucket < this.buckets.length; bucket++) {
      seen += this.buckets[bucket];
      if (seen > rank) return bucket < Latency.FINE ? bucket : Latency.FINE + (bucket - Latency.FINE) * Latency.COARSE_US;
    }
    return -1;
  }

  summary() {
    return { p50: this.quantile(0.5), p99: this.quantile(0.99), p999: this.quantile(0.999) };
  }
}

const POLLED_BATCH = 1024;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once nothing has arrived for a second since the first datagram (or for `idle` ms
 * before it), for receivers that are called back rather than awaited. `quiet()` tells when
 * the first and the last datagram arrived (0: none yet).
 */
function untilQuiet(idle, quiet) {
  return new Promise((resolve) => {
    const started = performance.now();
    const check = setInterval(() => {
      const { first, last } = quiet();
      if (first ? performance.now() - last > 1000 : performance.now() - started > idle) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
}

/**
 * What any receiver on this path pays before doing anything with a datagram: libuv's
 * readiness callback into JavaScript, then the addon's recvmmsg of up to BATCH until the
 * kernel queue is empty. No RecvData, queue, promise or Buffer view is made. It reaches into
 * the facade's internals (the socket's native handle and the shared metadata records) on
 * purpose: no public call is this thin. Against C it is the runtime's own cost; against
 * UDP.recvBatch it is what the facade adds.
 * pollMs > 0: as the polled receivers, after a read that brought more than one datagram it
 * stops watching and reads again in pollMs.
 */
async function floorReceive(idle, pollMs, arrived, quiet, latency) {
  const { UDP } = require(dist);
  const { shared } = require(path.join(dist, 'native', 'binding'));
  const { META_COUNT, META_STRIDE, META_LENGTH, META_OFFSET, READABLE, WATCH_EVENTS, WATCH_BUSY } = require(
    path.join(dist, 'native', 'protocol'),
  );
  const socket = UDP.listen(0, { ip: LOOPBACK, recbuf: RCVBUF });
  say({ port: UDP.sockname(socket).port });
  const { native } = socket;
  const { meta } = shared;
  let timer;
  const watch = (events, busy) => {
    native.watchCells[WATCH_EVENTS] = events;
    native.watchCells[WATCH_BUSY] = busy ? 1 : 0;
    native.watch();
  };
  const drain = () => {
    let gathered = 0;
    for (;;) {
      const bytes = native.recv(BATCH);
      if (typeof bytes === 'number') return gathered;
      const now = Latency.now();
      const count = meta[META_COUNT];
      let size = 0;
      for (let i = 0; i < count; i++) {
        const length = meta[i * META_STRIDE + META_LENGTH];
        latency.add(bytes, meta[i * META_STRIDE + META_OFFSET], length, now);
        size += length;
      }
      arrived(count, size);
      gathered += count;
      if (count < BATCH) return gathered;
    }
  };
  const readLater = () => {
    watch(0, true);
    timer = setTimeout(() => {
      if (drain() > 1) readLater();
      else watch(READABLE, true);
    }, pollMs);
  };
  native.socket = {
    onReady() {
      if (drain() > 1 && pollMs > 0) readLater();
    },
  };
  watch(READABLE, true);
  await untilQuiet(idle, quiet);
  clearTimeout(timer);
  watch(0, false);
  const { kernel } = UDP.getstat(socket);
  UDP.close(socket);
  return { drops: kernel.drops };
}

async function receive(impl, idleSeconds, window) {
  const idle = idleSeconds * 1000;
  let received = 0;
  let total = 0;
  let totalBytes = 0;
  let bytes = 0;
  let calls = 0;
  let started = 0;
  let first = 0;
  let last = 0;
  let cpu;
  const latency = new Latency();
  // Every read (a call, or a datagram event) is counted in `total`; CPU, `received`, `calls`
  // and latency from WARMUP_MS on.
  const arrived = (count, size) => {
    const now = performance.now();
    total += count;
    totalBytes += size;
    last = now;
    if (started === 0) started = now;
    if (first === 0) {
      if (now - started < WARMUP_MS) return;
      first = now;
      cpu = process.cpuUsage();
      latency.on = true;
      return;
    }
    calls++;
    received += count;
    bytes += size;
  };
  const quiet = () => ({ first: started, last });
  const report = (extra = {}) => say({
    received, total, bytes, totalBytes, calls, seconds: first ? (last - first) / 1000 : 0, cpu: first ? cpuSince(cpu) : 0,
    system: first ? process.cpuUsage(cpu).system / 1e6 : 0, ...latency.summary(), ...extra,
  });

  if (impl === 'dgram-raw') {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: RCVBUF });
    await new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, LOOPBACK, resolve);
    });
    say({ port: socket.address().port });
    socket.on('message', (message) => {
      latency.add(message, 0, message.length, Latency.now());
      arrived(1, message.length);
    });
    await untilQuiet(idle, quiet);
    socket.close();
    return report();
  }
  if (impl === 'udp-floor' || impl === 'udp-floor-polled') {
    const counted = await floorReceive(idle, impl === 'udp-floor' ? 0 : window, arrived, quiet, latency);
    return report({ drops: counted.drops });
  }

  const T = transport(impl);
  const gro = impl.includes('-gro');
  const polled = impl.endsWith('-polled');
  const into = impl.endsWith('recvInto');
  const coalesce = impl.includes('-coalesced') ? { coalesce: { usecs: window } } : {};
  const batch = gro || polled || impl.endsWith('recvBatch');
  const socket = T.listen(0, { ip: LOOPBACK, recbuf: RCVBUF, ...(gro ? { gro: true } : {}), ...coalesce });
  say({ port: T.sockname(socket).port });
  // recvInto's memory, reused by every call: nothing is allocated per datagram.
  const arena = into ? new (require(dist).RecvArena)({ slots: BATCH }) : undefined;
  let timeout = idle;
  for (;;) {
    try {
      if (into) {
        const count = await T.recvInto(socket, arena, timeout);
        const now = Latency.now();
        let size = 0;
        for (let i = 0; i < count; i++) {
          const length = arena.length(i);
          size += length;
          if (!gro) latency.add(arena.data, arena.offset(i), length, now);
        }
        arrived(count, size);
      } else if (batch) {
        const records = await T.recvBatch(socket, polled ? POLLED_BATCH : BATCH, timeout);
        // One arrival per batch: the clock is read per call, as the C receivers do.
        const now = Latency.now();
        let count = 0;
        let size = 0;
        for (const record of records) {
          const segment = record.ancillary && record.ancillary.segmentSize;
          count += segment ? Math.ceil(record.data.length / segment) : 1;
          size += record.data.length;
          if (!gro) latency.add(record.data, 0, record.data.length, now);
        }
        arrived(count, size);
        // As examples/polled-receiver.js: a lone datagram means the socket is quiet.
        if (polled && records.length > 1) await sleep(window);
      } else {
        const record = await T.recv(socket, 0, timeout);
        latency.add(record.data, 0, record.data.length, Latency.now());
        arrived(1, record.data.length);
      }
      timeout = 1000;
    } catch (error) {
      if (error.reason !== 'timeout') throw error;
      break;
    }
  }
  const { kernel } = T.getstat(socket);
  T.close(socket);
  return report({ drops: kernel.drops });
}

// ----------------------------------------------------------------------------------------
// send: udp-send, udp-sendBatch, dgramudp-send, dgramudp-sendBatch, dgram-raw,
//       udp-gso, dgramudp-gso (SIZE is then the segment size)

async function send(impl, port, seconds, size) {
  const payload = Buffer.alloc(size, 'x');
  let sent = 0;
  let bytes = 0;
  let calls = 0;
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  let cpu;

  if (impl === 'dgram-raw') {
    // The fast node:dgram idiom: a window of sends in flight, callbacks refill it.
    const socket = dgram.createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, LOOPBACK, resolve));
    cpu = process.cpuUsage();
    await new Promise((resolve, reject) => {
      let inFlight = 0;
      let stop = false;
      const done = (error) => {
        inFlight--;
        if (error) return reject(error);
        sent++;
        if (!stop && elapsed() >= seconds) stop = true;
        if (!stop) pump();
        else if (inFlight === 0) resolve();
      };
      const pump = () => {
        while (inFlight < BATCH) {
          inFlight++;
          calls++;
          socket.send(payload, port, LOOPBACK, done);
        }
      };
      pump();
    });
    const result = { sent, bytes: sent * size, calls, seconds: elapsed(), cpu: cpuSince(cpu) };
    socket.close();
    return say(result);
  }

  const T = transport(impl);
  const socket = T.open(0, { ip: LOOPBACK });
  cpu = process.cpuUsage();
  if (impl.endsWith('-send')) {
    while (elapsed() < seconds) {
      for (let i = 0; i < BATCH; i++) await T.send(socket, LOOPBACK, port, payload);
      sent += BATCH;
      calls += BATCH;
    }
    bytes = sent * size;
  } else if (impl.endsWith('-sendBatch')) {
    const messages = Array.from({ length: BATCH }, () => ({ address: LOOPBACK, port, data: payload }));
    while (elapsed() < seconds) {
      sent += await T.sendBatch(socket, messages);
      calls++;
    }
    bytes = sent * size;
  } else if (impl.endsWith('-gso')) {
    const segment = size;
    const big = Buffer.alloc(Math.floor(65000 / segment) * segment, 'g');
    const ancillary = { segmentSize: segment };
    while (elapsed() < seconds) {
      await T.send(socket, LOOPBACK, port, ancillary, big);
      bytes += big.length;
      calls++;
    }
    sent = Math.ceil(bytes / segment);
  } else {
    throw new Error(`unknown send implementation ${impl}`);
  }
  const result = { sent, bytes, calls, seconds: elapsed(), cpu: cpuSince(cpu) };
  T.close(socket);
  return say(result);
}

// ----------------------------------------------------------------------------------------
// ping: udp, udp-into (recvInto), dgramudp, dgram-raw. COUNT timed round trips after COUNT/10 warm-up ones.

async function ping(impl, port, count, size) {
  const payload = Buffer.alloc(size, 'p');
  const samples = new Float64Array(count);
  const warmup = Math.floor(count / 10);
  let roundTrip;
  let close;
  if (impl === 'dgram-raw') {
    const socket = dgram.createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, LOOPBACK, resolve));
    let waiting;
    socket.on('message', () => waiting && waiting());
    roundTrip = () => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no echo within 2 s')), 2000);
      waiting = () => {
        clearTimeout(timer);
        waiting = undefined;
        resolve();
      };
      socket.send(payload, port, LOOPBACK);
    });
    close = () => socket.close();
  } else if (impl === 'udp-into') {
    const { UDP, RecvArena } = require(dist);
    const socket = UDP.open(0, { ip: LOOPBACK });
    const arena = new RecvArena({ slots: 1, slotSize: Math.max(size, 1) });
    roundTrip = async () => {
      await UDP.send(socket, LOOPBACK, port, payload);
      await UDP.recvInto(socket, arena, 2000);
    };
    close = () => UDP.close(socket);
  } else {
    const T = transport(impl);
    const socket = T.open(0, { ip: LOOPBACK });
    roundTrip = async () => {
      await T.send(socket, LOOPBACK, port, payload);
      await T.recv(socket, 0, 2000);
    };
    close = () => T.close(socket);
  }
  for (let i = -warmup; i < count; i++) {
    const start = performance.now();
    await roundTrip();
    if (i >= 0) samples[i] = (performance.now() - start) * 1000;
  }
  close();
  samples.sort();
  say({ count, p50: samples[Math.floor(count / 2)], p99: samples[Math.floor((count * 99) / 100)] });
}

const [role, impl, ...args] = process.argv.slice(2);
const roles = { receive, send, ping };
if (!roles[role]) failure(new Error(`unknown role ${role}`));
try {
  roles[role](impl, ...args.map(Number)).catch(failure);
} catch (error) {
  failure(error);
}
