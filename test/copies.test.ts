/**
 * Two copies of the package in one process (two versions in node_modules, a bundler's second
 * copy): both load the one addon, whose per-thread scratch and shared records they share.
 * Since every argument is read before any native call, and no JavaScript runs inside one, a
 * call through one copy can never see the other's data, whatever user code runs when.
 */
import { UDP, type Socket } from '../lib';
import { Peer, type PeerSocket, stopPeers } from './helpers/peer';
import { type SecondCopy, loadSecondCopy } from './helpers/second-copy';
import { closeAll, listen, portOf } from './helpers/sockets';

let other: typeof UDP;
let copy: SecondCopy;
let peer: Peer;
let receivers: PeerSocket[];

beforeAll(async () => {
  copy = loadSecondCopy('abyss-copy-');
  other = copy.exports.UDP;
  peer = await Peer.start();
  receivers = [await peer.bind('inet', '127.0.0.1'), await peer.bind('inet', '127.0.0.1')];
});
afterAll(() => {
  stopPeers();
  copy.remove();
});
afterEach(async () => {
  closeAll();
  for (const receiver of receivers) await receiver.drain();
});

function otherSocket(): Socket {
  const socket = other.open(0, { ip: '127.0.0.3' }) as unknown as Socket;
  afterEachClose.push(socket);
  return socket;
}
const afterEachClose: Socket[] = [];
afterEach(() => {
  for (const socket of afterEachClose.splice(0)) other.close(socket as never);
});

const otherPort = (socket: Socket): number => (other.sockname(socket as never) as { port: number }).port;

/** iodata of `count` pieces spelling `text` repeatedly, whose piece `at` runs `inside` when read. */
function pieces(text: string, count: number, at: number, inside: () => void): string[] {
  const data = Array.from({ length: count }, (_, i) => text[i % text.length]);
  Object.defineProperty(data, at, { enumerable: true, get: () => (inside(), text[at % text.length]) });
  return data;
}

test('a getter in one copy\'s send that sends through the other copy: each datagram has its own bytes and destination', async () => {
  const mine = listen(0, { ip: '127.0.0.2' });
  const theirs = otherSocket();
  const nested: Promise<unknown>[] = [];
  const data = pieces('outer', 2000, 700, () => {
    nested.push(other.send(theirs as never, '127.0.0.1', receivers[1].port, pieces('inner', 1500, 3, () => undefined)));
    nested.push(other.sendBatch(theirs as never, [{ address: '127.0.0.1', port: receivers[1].port, data: 'batched', ancillary: { ttl: 7 } }]));
  });
  await UDP.send(mine, '127.0.0.1', receivers[0].port, { ttl: 9 }, data);
  await Promise.all(nested);
  const outer = await receivers[0].recv(3000);
  expect({ text: String(outer.data), port: outer.port, ttl: outer.ttl }).toEqual({ text: 'outer'.repeat(400), port: portOf(mine), ttl: 9 });
  const inner = await receivers[1].recv(3000);
  expect({ text: String(inner.data), port: inner.port }).toEqual({ text: 'inner'.repeat(300), port: otherPort(theirs) });
  const batched = await receivers[1].recv(3000);
  expect({ text: String(batched.data), ttl: batched.ttl }).toEqual({ text: 'batched', ttl: 7 });
  await receivers[0].expectNone(50);
});

test("a getter in one copy's sendBatch that sends through the other copy: the batch goes out whole and unchanged", async () => {
  const mine = listen(0, { ip: '127.0.0.2' });
  const theirs = otherSocket();
  const nested: Promise<unknown>[] = [];
  const messages = Array.from({ length: 70 }, (_, i) => ({
    address: '127.0.0.1',
    port: receivers[0].port,
    data: i === 33 ? pieces('middle', 1200, 5, () => nested.push(other.sendBatch(theirs as never, Array.from({ length: 70 }, (_, j) => ({ address: '127.0.0.1', port: receivers[1].port, data: `theirs${j}` }))))) : `mine${i}`,
    ancillary: { ttl: 1 + i },
  }));
  expect(await UDP.sendBatch(mine, messages)).toBe(70);
  await Promise.all(nested);
  for (let i = 0; i < 70; i++) {
    const got = await receivers[0].recv(3000);
    expect({ text: String(got.data), ttl: got.ttl }).toEqual({ text: i === 33 ? 'middle'.repeat(200) : `mine${i}`, ttl: 1 + i });
  }
  for (let j = 0; j < 70; j++) expect(String((await receivers[1].recv(3000)).data)).toBe(`theirs${j}`);
});

test('both copies receive at once through the shared records: every datagram to its own socket', async () => {
  const mine = listen(0, { ip: '127.0.0.1' });
  const theirs = other.listen(0, { ip: '127.0.0.1' }) as unknown as Socket;
  afterEachClose.push(theirs);
  const sender = await peer.bind('inet', '127.0.0.1');
  const ports = [portOf(mine), otherPort(theirs)];
  for (let i = 0; i < 200; i++) await sender.send('127.0.0.1', ports[i % 2], `to${i % 2}-${i}`);
  const got: string[][] = [[], []];
  await Promise.all([
    (async () => { while (got[0].length < 100) for (const d of await UDP.recvBatch(mine, 7, 3000)) got[0].push(String(d.data)); })(),
    (async () => { while (got[1].length < 100) for (const d of await other.recvBatch(theirs as never, 5, 3000)) got[1].push(String(d.data)); })(),
  ]);
  expect(got[0]).toEqual(Array.from({ length: 100 }, (_, i) => `to0-${2 * i}`));
  expect(got[1]).toEqual(Array.from({ length: 100 }, (_, i) => `to1-${2 * i + 1}`));
});
