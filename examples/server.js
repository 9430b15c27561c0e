// A server in one `for await` loop: it answers every datagram with the same text in upper
// case, from the port it was sent to. Ctrl-C (SIGINT) closes the socket, which ends the loop,
// and the process exits once its last reply is out.
//
//   node examples/server.js [port]      then: echo hello | nc -u -w1 127.0.0.1 5300
const { UDP } = require('..');

async function main() {
  const socket = UDP.listen(Number(process.argv[2] ?? 5300), { ip: 'loopback' });
  console.log(`listening on 127.0.0.1:${socket.sockname().port}`);
  // close() makes the waiting receive reject `closed`, which the loop takes as its end.
  process.once('SIGINT', () => socket.close());

  for await (const { address, port, data } of socket) {
    try {
      await socket.send(address, port, data.toString().toUpperCase());
    } catch (error) {
      // A send that fails rejects (no route to the client, a firewall's eperm, the socket
      // closed meanwhile): one client's failure does not stop the others' answers.
      console.error(`no reply to ${address}:${port}: ${error}`);
    }
  }
  console.log('closed');
}

main();
