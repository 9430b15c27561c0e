// Host names, resolved as gen_udp and node:dgram resolve them (getaddrinfo through dns.lookup),
// in the socket's family. Run by test/parity.test.ts in a mount namespace whose /etc/hosts
// names 'abyss-peer' (127.0.0.1) and 'abyss-peer6' (::1), so that no DNS server is asked.
// Prints one JSON line.
const path = require('node:path');
const { UDP, DgramUDP } = require(path.join(__dirname, '..', '..', 'dist'));

const outcome = (promise) => promise.then(() => 'sent', (error) => error.reason);

async function round(transport, ip, name, family) {
  const receiver = transport.listen(0, { ip });
  const sender = transport.open(0, { ip, family });
  const port = transport.sockname(receiver).port;
  const results = {
    send: await outcome(transport.send(sender, name, port, 'by name')),
    got: String((await transport.recv(receiver, 0, 2000)).data),
    batch: await outcome(transport.sendBatch(sender, [{ address: name, port, data: 'batched' }, { address: ip, port, data: 'literal' }])),
    gotBatch: [String((await transport.recv(receiver, 0, 2000)).data), String((await transport.recv(receiver, 0, 2000)).data)],
    unknown: await outcome(transport.send(sender, 'no-such-host.invalid', port, 'x')),
    unknownInBatch: await outcome(transport.sendBatch(sender, [{ address: ip, port, data: 'never' }, { address: 'no-such-host.invalid', port, data: 'x' }])),
    // A batch with a name that does not resolve sends nothing.
    leftOver: await transport.recv(receiver, 0, 100).then((d) => String(d.data), (error) => error.reason),
  };
  try {
    transport.connect(sender, name, port);
    results.connect = 'connected';
  } catch (error) {
    results.connect = error.reason;
  }
  transport.close(receiver);
  transport.close(sender);
  return results;
}

async function main() {
  const result = {
    native: await round(UDP, '127.0.0.1', 'abyss-peer', 'inet'),
    native6: await round(UDP, '::1', 'abyss-peer6', 'inet6'),
    dgram: await round(DgramUDP, '127.0.0.1', 'abyss-peer', 'inet'),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  process.stdout.write(`${JSON.stringify({ error: String(error && error.stack || error) })}\n`);
  process.exit(1);
});
