/**
 * The boundary (native/protocol.h): every argument of every call is read once, in TypeScript,
 * and never while a native call runs, so no user code can run inside one. Arguments here are
 * Proxies that count each read and check a flag that only the wrapped native methods set
 * (the addon cannot set it); the same holds through a second copy of the package, which
 * shares the one addon.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { RecvArena, UDP, type Socket } from '../lib';
import { binding } from '../lib/native/binding';
import { type SecondCopy, loadSecondCopy } from './helpers/second-copy';
import { closeAll, listen, portOf, tempDir, track } from './helpers/sockets';

let inNative = 0;
const violations: string[] = [];
const reads = new Map<string, number>();

/** Wraps every method and accessor of the addon so that `inNative` is set while one runs. */
function wrapNative(): () => void {
  const restore: (() => void)[] = [];
  const wrap = (owner: object, name: string): void => {
    const descriptor = Object.getOwnPropertyDescriptor(owner, name)!;
    const around = <F extends (...args: never[]) => unknown>(fn: F): F => function (this: unknown, ...args: never[]) {
      inNative++;
      try {
        return fn.apply(this, args);
      } finally {
        inNative--;
      }
    } as F;
    const wrapped = { ...descriptor };
    if (typeof descriptor.value === 'function') wrapped.value = around(descriptor.value);
    if (descriptor.get) wrapped.get = around(descriptor.get);
    Object.defineProperty(owner, name, wrapped);
    restore.push(() => Object.defineProperty(owner, name, descriptor));
  };
  const prototype = binding.NativeSocket.prototype;
  for (const name of Object.getOwnPropertyNames(prototype)) if (name !== 'constructor') wrap(prototype, name);
  for (const name of ['ownsDescriptor', 'interfaceIndex']) wrap(binding, name);
  return () => restore.forEach((undo) => undo());
}

/** `value` as a Proxy (deeply) that counts each read of each property and checks `inNative`. */
function observed<T>(value: T, where = 'argument'): T {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || value instanceof AbortSignal) return value;
  return new Proxy(value as object, {
    get(target, key) {
      const inner = Reflect.get(target, key, target);
      if (typeof key !== 'string') return inner;
      const at = `${where}.${key}`;
      if (inNative > 0) violations.push(`${at} was read inside a native call`);
      reads.set(at, (reads.get(at) ?? 0) + 1);
      return observed(inner, at);
    },
  }) as T;
}

/** Runs a call with observed arguments: no read inside a native call, none read twice. */
async function expectReadOnce(call: () => unknown): Promise<void> {
  violations.length = 0;
  reads.clear();
  try {
    await call();
  } catch {
    // The outcome is beside the point here: how the arguments were read is.
  }
  expect(violations).toEqual([]);
  expect([...reads].filter(([, count]) => count !== 1)).toEqual([]);
  expect(reads.size).toBeGreaterThan(0);
}

let unwrap: () => void;
let copy: SecondCopy;
let other: typeof UDP;
let OtherArena: typeof RecvArena;
beforeAll(() => {
  unwrap = wrapNative();
  copy = loadSecondCopy('abyss-boundary-');
  ({ UDP: other, RecvArena: OtherArena } = copy.exports);
});
afterAll(() => {
  unwrap();
  copy.remove();
});
afterEach(() => closeAll());

/** Every call that takes arguments, on `udp` (this copy or the other one). */
function calls(udp: typeof UDP, make: (port: number, options: object) => Socket): [string, (socket: Socket, port: number) => unknown][] {
  const ancillary = { ttl: 9, tos: 0x10, pktinfo: { address: '127.0.0.1', ifindex: 0 } };
  const iodata = ['a', [Buffer.from('b'), ['c']]];
  return [
    ['listen options', () => make(0, observed({ ip: '127.0.0.1', ttl: 7, recvttl: true, raw: [{ level: 1, option: 12, value: Buffer.alloc(4) }], active: false }))],
    ['listen with a unix path', () => make(0, observed({ ip: { local: path.join(tempDir(), 'u') } }))],
    ['send/2 data', (s, port) => { udp.connect(s, '127.0.0.1', port); return udp.send(s, observed(iodata)); }],
    ['send/3 destination and data', (s, port) => udp.send(s, observed({ address: '127.0.0.1', port }), observed(iodata))],
    ['send/3 a sockname', (s, port) => udp.send(s, observed({ address: '127.0.0.1', family: 'IPv4', port }), 'x')],
    ['send/4 data', (s, port) => udp.send(s, '127.0.0.1', port, observed(iodata))],
    ['send/5 ancillary and data', (s, port) => udp.send(s, '127.0.0.1', port, observed(ancillary), observed(iodata))],
    ['sendBatch messages', (s, port) => udp.sendBatch(s, observed([
      { address: '127.0.0.1', port, data: iodata, ancillary }, { address: '127.0.0.1', port, data: 'two' }, { address: '127.0.0.1', port, data: [[]] },
    ]))],
    ['setopts options', (s) => udp.setopts(s, observed({
      ttl: 5, recbuf: 100000, multicast_if: '127.0.0.1', add_membership: ['239.9.9.9', '127.0.0.1'],
      raw: [{ level: 1, option: 12, value: Buffer.alloc(4) }, { level: 1, option: 12, value: Buffer.alloc(4) }], buffer: 1000, read_packets: 8,
      coalesce: { usecs: 100, packets: 8 },
    }))],
    ['getopts names', (s) => udp.getopts(s, observed(['ttl', 'recbuf', 'buffer', { raw: { level: 1, option: 12, length: 4 } }]))],
    ['getstat names', (s) => udp.getstat(s, observed(['recv_cnt', 'kernel']) as never)],
    ['recv options', (s) => udp.recv(s, 0, 1, observed({ signal: new AbortController().signal }))],
    ['recvBatch options', (s) => udp.recvBatch(s, 4, 1, observed({ signal: new AbortController().signal }))],
    ['recvInto options', (s) => udp.recvInto(s, new (udp === UDP ? RecvArena : OtherArena)({ slots: 2 }), 1, observed({ signal: new AbortController().signal }))],
    ['a RecvArena\'s options', () => new (udp === UDP ? RecvArena : OtherArena)(observed({ slots: 2, slotSize: 100 }))],
    ['connect to a unix destination', (s) => udp.connect(s, observed({ local: '/nonexistent' }), 0)],
    ['splitSegments a datagram', () => udp.splitSegments(observed({ address: '127.0.0.1', port: 1, data: Buffer.alloc(10), ancillary: { segmentSize: 4 } }))],
  ];
}

describe.each([['this copy of the package', () => UDP], ['a second copy, on the same addon', () => other]])('%s', (_name, which) => {
  test.each(calls(UDP, () => undefined as never).map(([name], index) => [name, index]))('%s: each read once, none inside a native call', async (_call, index) => {
    const udp = which();
    const made: Socket[] = [];
    const make = (port: number, options: object): Socket => {
      const socket = udp.listen(port, options) as unknown as Socket;
      made.push(socket);
      return socket;
    };
    const receiver = make(0, { ip: '127.0.0.1' });
    const socket = make(0, { ip: '127.0.0.1' });
    const port = (udp.sockname(receiver as never) as { port: number }).port;
    try {
      await expectReadOnce(() => calls(udp, make)[index][1](socket, port));
    } finally {
      for (const s of made) udp.close(s as never);
    }
  });
});

test('adopt reads a ref once, in the thread it was handed to', async () => {
  const socket = listen(0, { ip: '127.0.0.1' });
  // It keeps listening, and so stays alive until terminated: with a once() listener it could
  // exit before the hand-over below (it did, under the sanitizers' slower main thread).
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    parentPort.on('message', () => parentPort.postMessage('ready'));`, { eval: true });
  await new Promise((resolve) => worker.once('message', resolve).postMessage('go'));
  try {
    UDP.controllingProcess(socket, worker);
    // Another thread's socket cannot be adopted here, but the ref is read all the same.
    await expectReadOnce(() => UDP.adopt(observed(socket.handoff)));
  } finally {
    await worker.terminate();
  }
});

test('Socket methods read their arguments once too', async () => {
  const receiver = track(UDP.listen(0, { ip: '127.0.0.1' }));
  const socket = track(UDP.listen(0, { ip: '127.0.0.1' }));
  const port = portOf(receiver);
  await expectReadOnce(() => socket.send(observed({ address: '127.0.0.1', port }), observed(['x', ['y']])));
  await expectReadOnce(() => socket.sendBatch(observed([{ address: '127.0.0.1', port, data: 'z' }])));
  await expectReadOnce(() => socket.setopts(observed({ ttl: 3 })));
  await expectReadOnce(() => socket.getopts(observed(['ttl'])));
});
