// The soak's independent peer: floods 127.0.0.1:<port> from node:dgram in bursts, at about
// <rate> datagrams a second (one burst every <interval> ms, so the machine stays responsive).
// Prints { ready, port } once bound; on a 'stop' line on stdin stops, waits for every send
// callback and prints { sent, bytes, errors, attempted }, then exits. Exits when stdin ends.
//
// usage: node soak-sender.js <port> <rate> [interval ms]
// Payload: byte 0 'E', bytes 1..4 the sequence number (BE), byte 5 the length & 0xff, the rest
// (seq + 7) & 0xff; lengths 6..1400.
const dgram = require('node:dgram');
const readline = require('node:readline');

const port = Number(process.argv[2]);
const rate = Number(process.argv[3] ?? 20000);
const interval = Number(process.argv[4] ?? 5);
if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad port ${process.argv[2]}`);

/** At most this many sends waiting for their callback: the sender never runs away with memory. */
const MAX_IN_FLIGHT = 4096;

const socket = dgram.createSocket('udp4');
let seq = 0;
let sent = 0;
let bytes = 0;
let inFlight = 0;
let stopped = false;
const errors = {};

function payload(n) {
  const length = 6 + ((n * 2654435761) >>> 0) % 1395;
  const data = Buffer.alloc(length, (n + 7) & 0xff);
  data[0] = 0x45;
  data.writeUInt32BE(n >>> 0, 1);
  data[5] = length & 0xff;
  return data;
}

let timer;
let credit = 0;
let last = 0;
function burst() {
  const now = performance.now();
  credit = Math.min(credit + ((now - last) * rate) / 1000, rate / 10);
  last = now;
  while (credit >= 1 && inFlight < MAX_IN_FLIGHT) {
    credit--;
    const data = payload(seq++);
    inFlight++;
    socket.send(data, port, '127.0.0.1', (error) => {
      inFlight--;
      if (error) errors[error.code] = (errors[error.code] ?? 0) + 1;
      else {
        sent++;
        bytes += data.length;
      }
      if (stopped && inFlight === 0) finish();
    });
  }
}

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  process.stdout.write(`${JSON.stringify({ sent, bytes, errors, attempted: seq })}\n`);
  socket.close(() => process.exit(0));
}

function stop() {
  if (stopped) return;
  stopped = true;
  clearInterval(timer);
  if (inFlight === 0) finish();
}

socket.bind(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ ready: true, port: socket.address().port })}\n`);
  last = performance.now();
  timer = setInterval(burst, interval);
});

readline.createInterface({ input: process.stdin })
  .on('line', (line) => { if (line.trim() === 'stop') stop(); })
  .on('close', () => {
    // The parent went away without a 'stop': do not linger.
    if (!stopped) process.exit(1);
  });
