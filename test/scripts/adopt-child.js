// Run by test/peers/adopt_fd.py with an inherited UDP socket: adopts it with listen({ fd }),
// reports what it sees as JSON lines, answers one datagram, then closes it. The transport is
// ABYSS_TRANSPORT's ('UDP', the default, or 'DgramUDP').
'use strict';
const { UDP } = require('./transport');

const [fd, port] = process.argv.slice(-2).map(Number);
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

(async () => {
  const socket = UDP.listen(0, { fd });
  say({ fd: socket.fd, inheritedFd: fd, inheritedPort: port, sockname: UDP.sockname(socket) });
  const got = await UDP.recv(socket, 0, 5000);
  say({ data: got.data.toString('hex'), address: got.address, port: got.port });
  await UDP.send(socket, got.address, got.port, 'pong');
  UDP.close(socket);
  say({ closed: socket.closed });
})().catch((error) => {
  say({ error: String(error), reason: error && error.reason });
  process.exitCode = 1;
});
