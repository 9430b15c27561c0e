// Run by test/listen.test.ts in a network namespace of its own (unshare -rn), so that its
// thousands of reusing sockets cannot share a port with the sockets of other test files.
// For each family: 2000 node:dgram sockets with SO_REUSEADDR hold ports; then 300 binds to
// port 0 through UDP.listen and, as the control, 300 through node:dgram with reuseAddr. Prints
// one JSON line: for each family, the ports each kind got that a holder already held, and the
// reuse flags UDP.listen's sockets read back.
const dgram = require('node:dgram');
const { once } = require('node:events');
const path = require('node:path');
const { UDP } = require(path.join(__dirname, '..', '..', 'dist'));

const HOLDERS = 2000;
const BINDS = 300;

async function bindDgram(type, ip) {
  const socket = dgram.createSocket({ type, reuseAddr: true });
  socket.bind(0, ip);
  await once(socket, 'listening');
  return socket;
}

const closeAll = (sockets) => Promise.all(sockets.map((socket) => new Promise((resolve) => socket.close(resolve))));

async function family(type, ip) {
  const holders = [];
  for (let i = 0; i < HOLDERS; i++) holders.push(await bindDgram(type, ip));
  const held = new Set(holders.map((holder) => holder.address().port));
  const result = { udp: [], dgram: [], flags: [] };
  for (let i = 0; i < BINDS; i++) {
    const socket = UDP.listen(0, { ip });
    const { port } = UDP.sockname(socket);
    if (held.has(port)) result.udp.push(port);
    const flags = JSON.stringify(UDP.getopts(socket, ['reuseaddr', 'reuseport']));
    if (!result.flags.includes(flags)) result.flags.push(flags);
    UDP.close(socket);
  }
  for (let i = 0; i < BINDS; i++) {
    const socket = await bindDgram(type, ip);
    if (held.has(socket.address().port)) result.dgram.push(socket.address().port);
    await closeAll([socket]);
  }
  await closeAll(holders);
  return result;
}

async function main() {
  const report = { inet: await family('udp4', '127.0.0.1'), inet6: await family('udp6', '::1') };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  },
);
