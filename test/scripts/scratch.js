// The native send scratch keeps nothing of past traffic: ~1.1 GB through sendBatch, then a
// message of more pieces than IOV_MAX, which arrives and leaves the process's address space
// about as it was (its peak, VmPeak: a reservation freed at once still counts). Prints one JSON line.
const fs = require('node:fs');
const path = require('node:path');
const { UDP } = require(path.join(__dirname, '..', '..', 'dist'));

const virtualBytes = () => Number(/VmPeak:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;

async function main() {
  const sink = UDP.listen(0, { ip: '127.0.0.1', recbuf: 4096 });
  const receiver = UDP.listen(0, { ip: '127.0.0.1' });
  const sender = UDP.open(0, { ip: '127.0.0.1' });
  const big = Buffer.alloc(60000, 1);
  const batch = Array.from({ length: 64 }, () => ({ address: '127.0.0.1', port: UDP.sockname(sink).port, data: [big] }));
  let sentBytes = 0;
  for (let round = 0; round < 300; round++) {
    await UDP.sendBatch(sender, batch);
    sentBytes += 64 * big.length;
  }
  const before = virtualBytes();
  const pieces = Array.from({ length: 1100 }, (_, i) => (i % 2 ? 'x' : Buffer.from([i & 0xff])));
  await UDP.sendBatch(sender, [{ address: '127.0.0.1', port: UDP.sockname(receiver).port, data: pieces }]);
  const grew = virtualBytes() - before;
  const got = await UDP.recv(receiver, 0, 2000);
  for (const socket of [sink, receiver, sender]) UDP.close(socket);
  process.stdout.write(`${JSON.stringify({ sentBytes, arrived: got.data.length === 1100, grewLittle: grew < 64 << 20 })}\n`);
}

main().catch((error) => {
  process.stdout.write(`${JSON.stringify({ error: String(error && error.stack || error) })}\n`);
  process.exit(1);
});
