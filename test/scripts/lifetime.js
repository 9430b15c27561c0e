// Servers that nothing references but their own waiting calls (run with --expose-gc): after
// forced collections they must still answer. Prints one JSON line; `node lifetime.js SHAPE`.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { UDP, OWN_PORT, collect: collectRounds } = require('./transport');
const { receivePolled } = require(path.join(__dirname, '..', '..', 'examples', 'polled-receiver.js'));

const collect = () => collectRounds(6);

/** Each shape starts an echo server referenced only by what waits in it; resolves its port. */
const shapes = {
  recv() {
    const socket = UDP.listen(0, { ip: '127.0.0.1', ...OWN_PORT });
    (async () => {
      for (;;) {
        const datagram = await UDP.recv(socket, 0, 'infinity');
        await UDP.send(socket, datagram.address, datagram.port, datagram.data);
      }
    })();
    return UDP.sockname(socket).port;
  },
  forAwait() {
    const socket = UDP.listen(0, { ip: '127.0.0.1', ...OWN_PORT });
    (async () => {
      for await (const datagram of socket) await UDP.send(socket, datagram.address, datagram.port, datagram.data);
    })();
    return UDP.sockname(socket).port;
  },
  active() {
    const socket = UDP.listen(0, { ip: '127.0.0.1', active: true, ...OWN_PORT });
    socket.on('udp', (datagram) => UDP.send(socket, datagram.address, datagram.port, datagram.data));
    return UDP.sockname(socket).port;
  },
  recvBatch() {
    const socket = UDP.listen(0, { ip: '127.0.0.1', ...OWN_PORT });
    (async () => {
      for (;;) {
        for (const datagram of await UDP.recvBatch(socket, 16, 'infinity')) {
          await UDP.send(socket, datagram.address, datagram.port, datagram.data);
        }
      }
    })();
    return UDP.sockname(socket).port;
  },
  polled() {
    const socket = UDP.listen(0, { ip: '127.0.0.1', ...OWN_PORT });
    receivePolled(socket, (batch) => {
      for (const datagram of batch) UDP.send(socket, datagram.address, datagram.port, datagram.data);
    });
    return UDP.sockname(socket).port;
  },
};

async function echoed(port) {
  const client = UDP.open(0, { ip: '127.0.0.1', ...OWN_PORT });
  try {
    await UDP.send(client, '127.0.0.1', port, 'ping');
    return String((await UDP.recv(client, 0, 2000)).data);
  } catch (error) {
    return error.reason;
  } finally {
    UDP.close(client);
  }
}

/**
 * A unix sender whose receiver does not read yet: its sends wait for room, and nothing else
 * references it. Once the receiver reads, every datagram must come.
 */
async function waitingSends() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'abyss-lifetime-'));
  const receiver = UDP.listen(0, { ip: { local: path.join(dir, 'receiver') } });
  const total = 2000;
  let done = false;
  (async () => {
    const sender = UDP.listen(0, { ip: { local: path.join(dir, 'sender') } });
    for (let i = 0; i < total; i++) await UDP.send(sender, { local: path.join(dir, 'receiver') }, `d${i}`);
    done = true;
  })();
  await collect();
  const got = [];
  while (got.length < total) {
    try {
      got.push(String((await UDP.recv(receiver, 0, 1000)).data));
    } catch {
      break;
    }
    if (got.length % 100 === 0) await collect();
  }
  UDP.close(receiver);
  fs.rmSync(dir, { recursive: true, force: true });
  const inOrder = got.every((text, i) => text === `d${i}`);
  return { received: got.length, inOrder, done };
}

async function main(shape) {
  // Keeps the process up whatever the sockets do, as a server's other work would.
  const keepAlive = setInterval(() => {}, 1000);
  let result;
  if (shape === 'waitingSends') {
    result = await waitingSends();
  } else {
    const port = shapes[shape]();
    await collect();
    const first = await echoed(port);
    await collect();
    result = { first, second: await echoed(port) };
  }
  clearInterval(keepAlive);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

main(process.argv[2]).catch((error) => {
  process.stdout.write(`${JSON.stringify({ error: String(error && error.stack || error) })}\n`);
  process.exit(1);
});
