// One benchmark case in a process of its own: `node bench/cases.js ROLE IMPL [args…]`.
// Prints {"port"} first when it receives, then one JSON line with what it measured.
'use strict';
const dgram = require('node:dgram');
const path = require('node:path');
const { UDP } = require(path.join(__dirname, '..', 'dist'));

const [role, impl, ...args] = process.argv.slice(2);
const RCVBUF = 4 << 20;
const IDLE_MS = 1000;
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const cpuSeconds = (start) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

/** Receives until nothing came for IDLE_MS after the first datagram. */
async function receive() {
  let received = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  let cpu;
  const arrived = (count, size) => {
    if (first === 0) {
      first = performance.now();
      cpu = process.cpuUsage();
    }
    last = performance.now();
    received += count;
    bytes += size;
  };
  const finish = () => say({ received, bytes, seconds: (last - first) / 1000, cpu: first ? cpuSeconds(cpu) : 0 });

  if (impl === 'dgram') {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: RCVBUF });
    socket.bind(0, '127.0.0.1', () => say({ port: socket.address().port }));
    socket.on('message', (message) => arrived(1, message.length));
    const idle = setInterval(() => {
      if (first && performance.now() - last > IDLE_MS) {
        clearInterval(idle);
        socket.close();
        finish();
      }
    }, 100);
    return;
  }
  const gro = impl === 'gro';
  const socket = UDP.listen(0, { ip: '127.0.0.1', recbuf: RCVBUF, gro });
  say({ port: UDP.sockname(socket).port });
  let timeout = 30000;
  for (;;) {
    try {
      if (impl === 'recv') {
        const datagram = await UDP.recv(socket, 0, timeout);
        arrived(1, datagram.data.length);
      } else {
        for (const datagram of await UDP.recvBatch(socket, 64, timeout)) {
          const segment = datagram.ancillary?.segmentSize;
          arrived(segment ? Math.ceil(datagram.data.length / segment) : 1, datagram.data.length);
        }
      }
      timeout = IDLE_MS;
    } catch (error) {
      if (error.reason !== 'timeout') throw error;
      break;
    }
  }
  UDP.close(socket);
  finish();
}

/** Sends to PORT for SECONDS as fast as the implementation allows. */
async function send() {
  const port = Number(args[0]);
  const seconds = Number(args[1]);
  const size = Number(args[2]);
  const payload = Buffer.alloc(size, 'x');
  let sent = 0;
  let bytes = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  if (impl === 'dgram') {
    const socket = dgram.createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
    // Keep a window of sends in flight, as a busy server would.
    await new Promise((resolve) => {
      let inFlight = 0;
      const pump = () => {
        while (inFlight < 64 && elapsed() < seconds) {
          inFlight++;
          socket.send(payload, port, '127.0.0.1', () => {
            inFlight--;
            sent++;
            if (elapsed() < seconds) pump();
            else if (inFlight === 0) resolve();
          });
        }
      };
      pump();
    });
    socket.close();
  } else {
    const socket = UDP.open(0, { ip: '127.0.0.1' });
    if (impl === 'send') {
      while (elapsed() < seconds) {
        for (let i = 0; i < 64; i++) await UDP.send(socket, '127.0.0.1', port, payload);
        sent += 64;
      }
    } else if (impl === 'sendBatch') {
      const batch = Array.from({ length: 64 }, () => ({ address: '127.0.0.1', port, data: payload }));
      while (elapsed() < seconds) sent += await UDP.sendBatch(socket, batch);
    } else if (impl === 'gso') {
      const segment = size;
      const big = Buffer.alloc(Math.floor(65000 / segment) * segment, 'g');
      while (elapsed() < seconds) {
        await UDP.send(socket, '127.0.0.1', port, { segmentSize: segment }, big);
        bytes += big.length;
      }
    }
    UDP.close(socket);
  }
  say({ sent, bytes: bytes || sent * size, seconds: elapsed(), cpu: cpuSeconds(cpu) });
}

/** COUNT round trips to an echo at PORT; latency percentiles in microseconds. */
async function ping() {
  const port = Number(args[0]);
  const count = Number(args[1]);
  const payload = Buffer.alloc(Number(args[2]), 'p');
  const samples = [];
  if (impl === 'dgram') {
    const socket = dgram.createSocket('udp4');
    await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
    for (let i = 0; i < count; i++) {
      const start = performance.now();
      await new Promise((resolve) => {
        socket.once('message', resolve);
        socket.send(payload, port, '127.0.0.1');
      });
      samples.push((performance.now() - start) * 1000);
    }
    socket.close();
  } else {
    const socket = UDP.open(0, { ip: '127.0.0.1' });
    for (let i = 0; i < count; i++) {
      const start = performance.now();
      await UDP.send(socket, '127.0.0.1', port, payload);
      await UDP.recv(socket, 0, 5000);
      samples.push((performance.now() - start) * 1000);
    }
    UDP.close(socket);
  }
  samples.sort((a, b) => a - b);
  say({ p50: samples[Math.floor(count / 2)], p99: samples[Math.floor((count * 99) / 100)] });
}

({ receive, send, ping })[role]().catch((error) => {
  console.error(error);
  process.exit(1);
});
