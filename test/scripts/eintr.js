// Runs under test/native/eintr_shim.c (LD_PRELOAD), which fails every other socket call with
// EINTR: every call below must still do exactly its work. Prints one JSON line.
const path = require('node:path');
const { UDP } = require(path.join(__dirname, '..', '..', 'dist'));

async function main() {
  const receiver = UDP.open(0, { ip: 'loopback', recbuf: 1 << 20, recverr: true });
  const sender = UDP.open(0, { ip: 'loopback' });
  const port = UDP.sockname(receiver).port;
  UDP.connect(sender, '127.0.0.1', port);
  const sent = [];
  for (let round = 0; round < 20; round++) {
    await UDP.send(sender, `single ${round}`);
    sent.push(`single ${round}`);
    const batch = Array.from({ length: 5 }, (_, i) => ({ address: '127.0.0.1', port, data: `batch ${round}.${i}` }));
    await UDP.sendBatch(sender, batch);
    sent.push(...batch.map((message) => message.data));
  }
  const received = [];
  while (received.length < sent.length) {
    if (received.length % 2 === 0) received.push(String((await UDP.recv(receiver, 0, 2000)).data));
    else received.push(...(await UDP.recvBatch(receiver, 7, 2000)).map((d) => String(d.data)));
  }
  const errorQueue = UDP.recvErrorQueue(receiver);
  UDP.close(receiver);
  UDP.close(sender);
  process.stdout.write(`${JSON.stringify({ sent, received, errorQueue: errorQueue ?? null })}\n`);
}

main().catch((error) => {
  process.stdout.write(`${JSON.stringify({ error: `${error.reason}: ${error.message}` })}\n`);
  process.exitCode = 1;
});
