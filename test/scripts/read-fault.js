// Runs under test/native/eintr_shim.c with ABYSS_FAULT_ERRNO=ENOMEM: every other recvmmsg
// on a datagram socket fails. The second failure happens in the read made for a waiting recv
// when the socket turns readable. Prints one JSON line.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { UDP } = require(path.join(__dirname, '..', '..', 'dist'));

const outcome = (promise) => promise.then((d) => ({ data: String(d.data) }), (error) => ({ reason: error.reason }));

async function main() {
  const receiver = UDP.open(0, { ip: 'loopback' });
  const port = UDP.sockname(receiver).port;
  // recvmmsg 1 fails at once; 2 finds nothing, so the recv waits. (A socket reads the kernel
  // once per turn of the loop: the second recv comes a turn later, so that it reads.)
  const atOnce = await outcome(UDP.recv(receiver, 0, 2000));
  await new Promise((resolve) => setImmediate(resolve));
  const waiting = outcome(UDP.recv(receiver, 0, 5000));
  // recvmmsg 3 is the read on readiness: it fails, and the datagram stays in the kernel.
  // From Python, outside the shim, which would fail a node:dgram peer's sendmsg too.
  const { LD_PRELOAD: _shim, ...env } = process.env;
  execFileSync('python3', ['-c', `import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'kept', ('127.0.0.1', ${port}))`], { env });
  const whileWaiting = await waiting;
  const after = await outcome(UDP.recv(receiver, 0, 2000));
  UDP.close(receiver);
  process.stdout.write(`${JSON.stringify({ atOnce, whileWaiting, after })}\n`);
}

main().catch((error) => {
  process.stdout.write(`${JSON.stringify({ error: String(error && error.stack || error) })}\n`);
  process.exit(1);
});
