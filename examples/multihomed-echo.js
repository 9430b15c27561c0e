// A server bound to the wildcard address that answers every datagram from the address
// it was sent to, echoing its TTL and TOS, as a DNS server on a multi-homed host must:
// a reply from another of the host's addresses would be dropped by the client.
//
//   node examples/multihomed-echo.js [port]
const { UDP, TransportError } = require('..');

/** Starts the echo server on `port` (0: any free port). */
function startEchoServer(port = 0) {
  const socket = UDP.listen(port, { ip: 'any', pktinfo: true, recvttl: true, recvtos: true });
  let running = true;
  const done = (async () => {
    while (running) {
      let datagram;
      try {
        datagram = await UDP.recv(socket, 0, 'infinity');
      } catch (error) {
        if (error instanceof TransportError && error.reason === 'closed') return;
        throw error;
      }
      const { address, port: from, data, ancillary } = datagram;
      // With pktinfo, recvttl and recvtos on, the kernel describes every datagram. pktinfo
      // goes back as it came: its addresses become the reply's source, its ifindex the
      // interface the reply leaves by.
      if (!ancillary?.pktinfo) continue;
      const reply = { pktinfo: ancillary.pktinfo, ttl: ancillary.ttl, tos: ancillary.tos };
      await UDP.send(socket, address, from, reply, data);
    }
  })();
  return {
    port: UDP.sockname(socket).port,
    socket,
    async stop() {
      running = false;
      UDP.close(socket);
      await done;
    },
  };
}

module.exports = { startEchoServer };

if (require.main === module) {
  const server = startEchoServer(Number(process.argv[2] ?? 5300));
  console.log(`echoing on *:${server.port}; try: nc -u 127.0.0.2 ${server.port}`);
  process.on('SIGINT', () => server.stop());
}
