// Resource checks that need a process of their own (run with --expose-gc): prints one JSON line.
const fs = require('node:fs');
const { UDP, OWN_PORT, collect: collectRounds } = require('./transport');

const descriptors = () => fs.readdirSync('/proc/self/fd').length;
const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
const collect = () => collectRounds(4);

const checks = {
  async openClose() {
    const before = descriptors();
    for (let i = 0; i < 10000; i++) UDP.close(UDP.open(0, { ip: 'loopback', ...OWN_PORT }));
    return { before, after: descriptors() };
  },
  async timedOutWaits() {
    const socket = UDP.open(0, { ip: 'loopback', ...OWN_PORT });
    const before = { descriptors: descriptors(), timers: timers() };
    const waits = [];
    for (let i = 0; i < 5000; i++) waits.push(UDP.recv(socket, 0, 5).catch((error) => error.reason));
    const reasons = await Promise.all(waits);
    const after = { descriptors: descriptors(), timers: timers() };
    // The line of waiters is empty again: a datagram now goes to a new recv at once.
    const sender = UDP.open(0, { ip: 'loopback', ...OWN_PORT });
    await UDP.send(sender, '127.0.0.1', UDP.sockname(socket).port, 'after');
    const next = String((await UDP.recv(socket, 0, 1000)).data);
    return { before, after, timeouts: reasons.filter((r) => r === 'timeout').length, next };
  },
  async recvMemory() {
    const socket = UDP.open(0, { ip: 'loopback', recbuf: 4 << 20 });
    const sender = UDP.open(0, { ip: 'loopback' });
    const port = UDP.sockname(socket).port;
    const batch = Array.from({ length: 64 }, (_, i) => ({ address: '127.0.0.1', port, data: Buffer.alloc(100, i) }));
    let received = 0;
    const round = async (count) => {
      for (let sent = 0; sent < count; sent += batch.length) {
        await UDP.sendBatch(sender, batch);
        for (let i = 0; i < batch.length; i++) {
          await UDP.recv(socket, 0, 1000);
          received++;
        }
      }
    };
    await round(19968);
    await collect();
    const before = process.memoryUsage();
    await round(200000);
    await collect();
    const after = process.memoryUsage();
    return { received, heapGrowth: after.heapUsed - before.heapUsed, externalGrowth: after.external - before.external, rssGrowth: after.rss - before.rss };
  },
  // A datagram the program has dropped is garbage while its socket stays open, whether it
  // reached a call that waited (recv, recvBatch) or one that found it read ahead. Each shape
  // keeps only WeakRefs to what it received, and is collected before the next one waits.
  async receivedReleased() {
    const socket = UDP.open(0, { ip: 'loopback', ...OWN_PORT });
    const sender = UDP.open(0, { ip: 'loopback', ...OWN_PORT });
    const port = UDP.sockname(socket).port;
    const send = (text) => UDP.send(sender, '127.0.0.1', port, text);
    const texts = [];
    const weak = (record) => {
      texts.push(String(record.data));
      return [new WeakRef(record), new WeakRef(record.data)];
    };
    const shapes = {
      async waitingRecv() {
        const waiting = UDP.recv(socket, 0, 1000);
        await send('waiting');
        return weak(await waiting);
      },
      async waitingRecvBatch() {
        const waiting = UDP.recvBatch(socket, 8, 1000);
        await send('batch');
        return weak((await waiting)[0]);
      },
      async readAhead() {
        await send('first');
        await send('second');
        const first = await UDP.recv(socket, 0, 1000);
        const second = await UDP.recv(socket, 0, 1000);
        return [...weak(first), ...weak(second)];
      },
    };
    const kept = [];
    for (const [name, shape] of Object.entries(shapes)) {
      const refs = await shape();
      await collect();
      if (refs.some((ref) => ref.deref() !== undefined)) kept.push(name);
    }
    UDP.close(socket);
    UDP.close(sender);
    return { kept, texts };
  },
  // An unref'd socket nothing waits on and nothing references is collected, and closed; a
  // referenced one (the default) is not, as a node:dgram socket is not.
  async garbageCollected() {
    const fds = {};
    (() => {
      fds.unreferenced = UDP.open(0, { ip: 'loopback' }).unref().fd;
      fds.referenced = UDP.open(0, { ip: 'loopback' }).fd;
      fds.reReferenced = UDP.open(0, { ip: 'loopback' }).unref().ref().fd;
    })();
    const open = (fd) => fs.existsSync(`/proc/self/fd/${fd}`);
    const before = Object.values(fds).every(open);
    for (let i = 0; i < 10 && open(fds.unreferenced); i++) await collect();
    await collect();
    return { before, unreferenced: open(fds.unreferenced), referenced: open(fds.referenced), reReferenced: open(fds.reReferenced) };
  },
};

checks[process.argv[2]]().then((result) => {
  console.log(JSON.stringify(result));
  process.exit(0);
});
