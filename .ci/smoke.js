// A smoke test of an installed package through its public API only, for a Node.js and a
// prebuild that cannot run the jest suite (the arm64 ones under qemu: .ci/arm64.sh):
//   node .ci/smoke.js <package directory> <the .node it must load>
// A round trip, ancillary data both ways, a batch each way, options set and read back, and
// close rejecting a pending recv. Prints one line per part; any mismatch exits non-zero.
'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const [packageDir, expectedAddon] = process.argv.slice(2);
const { UDP } = require(path.resolve(packageDir));

function loadedAddons() {
  const files = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').map((line) => line.split(/\s+/)[5]);
  return [...new Set(files.filter((file) => file && file.endsWith('.node')))];
}

async function main() {
  const addons = loadedAddons();
  assert.deepStrictEqual(addons, [fs.realpathSync(expectedAddon)], 'the process must have mapped exactly the expected addon');
  console.log(`smoke: node ${process.version} ${process.arch}, loaded ${addons[0]}`);

  const server = UDP.listen(0, { ip: '127.0.0.1', recvttl: true, pktinfo: true });
  const client = UDP.open(0, { ip: '127.0.0.1' });
  const { port } = UDP.sockname(server);

  const payload = Buffer.from([0, 1, 2, 0xfe, 0xff, ...Buffer.from('smoke')]);
  await UDP.send(client, '127.0.0.1', port, payload);
  const got = await UDP.recv(server, 0, 5000);
  assert.deepStrictEqual(got.data, payload);
  assert.strictEqual(got.address, '127.0.0.1');
  assert.strictEqual(got.port, UDP.sockname(client).port);
  await UDP.send(server, got.address, got.port, ['pong ', Buffer.from('smoke')]);
  assert.strictEqual(String((await UDP.recv(client, 0, 5000)).data), 'pong smoke');
  console.log(`smoke: round trip of ${payload.length} bytes there and back`);

  // ttl set on the send (a cmsg the addon encodes) arrives as recvttl (a cmsg it decodes).
  await UDP.send(client, '127.0.0.1', port, { ttl: 7 }, 'ttl 7');
  const marked = await UDP.recv(server, 0, 5000);
  assert.strictEqual(String(marked.data), 'ttl 7');
  assert.strictEqual(marked.ancillary.ttl, 7);
  assert.strictEqual(marked.ancillary.pktinfo.address, '127.0.0.1');
  assert.ok(marked.ancillary.pktinfo.ifindex > 0, 'pktinfo names the loopback interface');
  console.log(`smoke: ancillary: sent ttl 7, received ${JSON.stringify(marked.ancillary)}`);

  const batch = ['one', 'two', 'three'].map((word) => ({ address: '127.0.0.1', port, data: Buffer.from(word) }));
  assert.strictEqual(await UDP.sendBatch(client, batch), batch.length);
  const received = [];
  while (received.length < batch.length) received.push(...(await UDP.recvBatch(server, 8, 5000)));
  assert.deepStrictEqual(received.map((d) => String(d.data)), ['one', 'two', 'three']);
  console.log(`smoke: sendBatch of ${batch.length}, recvBatch got them in order`);

  // Options qemu-user relays both ways (its getsockopt knows no IP_RECVTTL: enoprotoopt).
  UDP.setopts(server, { recbuf: 262144, ttl: 33, tos: 0x10, reuseaddr: true, broadcast: true });
  const options = UDP.getopts(server, ['recbuf', 'ttl', 'tos', 'reuseaddr', 'broadcast', 'pktinfo']);
  assert.ok(options.recbuf >= 262144, `recbuf ${options.recbuf}`);
  const { recbuf, ...exact } = options;
  assert.deepStrictEqual(exact, { ttl: 33, tos: 0x10, reuseaddr: true, broadcast: true, pktinfo: true });
  console.log(`smoke: setopts/getopts: ${JSON.stringify(options)}`);

  const pending = UDP.recv(server, 0, 'infinity').then(
    () => assert.fail('recv on a closed socket resolved'),
    (error) => error.reason,
  );
  UDP.close(server);
  UDP.close(client);
  assert.strictEqual(await pending, 'closed');
  console.log("smoke: close rejected the pending recv with 'closed'");
}

main().catch((error) => {
  console.error('smoke:', error);
  process.exit(1);
});
