import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UDP, type Socket } from '../lib';
import { countActivity } from './helpers/sockets';

const sockets: Socket[] = [];
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'abyss-faults-'));
});
afterEach(() => {
  for (const socket of sockets.splice(0)) UDP.close(socket);
  fs.rmSync(dir, { recursive: true, force: true });
});

function local(name: string): Socket {
  const socket = UDP.listen(0, { ip: { local: path.join(dir, name) } });
  sockets.push(socket);
  return socket;
}

/** A unix receiver that does not read makes a unix sender's queue fill: sends then wait. */
async function fillUntilBlocked(sender: Socket, receiver: string): Promise<{ sent: number; pending: Promise<void>[] }> {
  let sent = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 5000; i++) {
    const sending = UDP.send(sender, { local: receiver }, `d${i}`);
    const settled = await Promise.race([sending.then(() => true, () => true), new Promise((resolve) => setImmediate(() => resolve(false)))]);
    if (!settled) {
      pending.push(sending);
      break;
    }
    sent++;
  }
  return { sent, pending };
}

test('a full send queue makes send wait for writability, without spinning, and keeps order', async () => {
  const receiver = local('receiver');
  const sender = local('sender');
  const { sent, pending } = await fillUntilBlocked(sender, path.join(dir, 'receiver'));
  expect(pending).toHaveLength(1);
  expect(sent).toBeGreaterThan(0);
  for (let i = 0; i < 3; i++) pending.push(UDP.send(sender, { local: path.join(dir, 'receiver') }, `late${i}`));
  // Handled now: if an assertion below fails, afterEach's close rejects them with `closed`, and
  // unhandled that would end the jest process instead of failing this test.
  for (const sending of pending) sending.catch(() => undefined);
  expect(UDP.getstat(sender).send_pend).toBe(Buffer.byteLength(`d${sent}`) + 3 * 'late0'.length);

  const activity = countActivity(sender, 'send');
  await new Promise((resolve) => setTimeout(resolve, 300));
  // Waiting is idle: while the queue stays full, a report or two (a unix sender may look
  // writable while its peer's queue is full) and the back-off's retries, on a timer that
  // doubles (about ten in 300 ms), where a spinning retry loop would count thousands.
  expect(activity.reports).toBeLessThan(5);
  expect(activity.calls).toBeLessThan(50);

  const drained: string[] = [];
  for (let i = 0; i < sent + 4; i++) drained.push(String((await UDP.recv(receiver, 0, 2000)).data));
  await Promise.all(pending);
  // The counting saw the four waiting sends go out (on a report, or on the back-off's timer).
  expect(activity.calls).toBeGreaterThanOrEqual(4);
  expect(drained).toEqual([...Array.from({ length: sent + 1 }, (_, i) => `d${i}`), 'late0', 'late1', 'late2']);
  expect(UDP.getstat(sender)).toMatchObject({ send_pend: 0, send_cnt: sent + 4 });
});

test('close rejects sends waiting for room with closed', async () => {
  local('receiver');
  const sender = local('sender');
  const { pending } = await fillUntilBlocked(sender, path.join(dir, 'receiver'));
  expect(pending).toHaveLength(1);
  UDP.close(sender);
  await expect(pending[0]).rejects.toMatchObject({ reason: 'closed' });
  sockets.splice(sockets.indexOf(sender), 1);
});

test('an unreachable network surfaces as enetunreach (in a namespace of our own with no route at all)', async () => {
  // A fresh network namespace has only a downed loopback: nothing can leave it.
  const namespace = `abyss-test-${process.pid}`;
  execFileSync('ip', ['netns', 'add', namespace]);
  try {
    const socket = UDP.open(0, { netns: `/run/netns/${namespace}` });
    sockets.push(socket);
    expect(UDP.sockname(socket)).toMatchObject({ address: '0.0.0.0', family: 'IPv4' });
    await expect(UDP.send(socket, '198.51.100.1', 9, 'x')).rejects.toMatchObject({ reason: 'enetunreach', syscall: 'sendmsg' });
    expect(() => UDP.open(0, { netns: '/run/netns/no-such-namespace' })).toThrow(expect.objectContaining({ reason: 'enoent', syscall: 'open' }));
  } finally {
    execFileSync('ip', ['netns', 'del', namespace]);
  }
});

test('a unix datagram larger than a 64 KiB slot arrives whole, and numBytes cuts it with truncated', async () => {
  const receiver = local('receiver');
  const sender = local('sender');
  UDP.setopts(sender, { sndbuf: 1 << 20 });
  const big = Buffer.alloc(200000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 256;
  await UDP.send(sender, { local: path.join(dir, 'receiver') }, big);
  await UDP.send(sender, { local: path.join(dir, 'receiver') }, big);
  const whole = await UDP.recv(receiver, 0, 2000);
  expect(whole.data.equals(big)).toBe(true);
  expect(whole).not.toHaveProperty('truncated');
  const cut = await UDP.recv(receiver, 1000, 2000);
  expect(cut.truncated).toBe(true);
  expect(cut.data.equals(big.subarray(0, 1000))).toBe(true);
});

test('received bytes are exactly the datagram: nothing from earlier, larger datagrams shows through', async () => {
  const receiver = local('receiver');
  const sender = local('sender');
  const target = { local: path.join(dir, 'receiver') };
  await UDP.send(sender, target, Buffer.alloc(3000, 0xaa));
  await UDP.send(sender, target, Buffer.from('tiny'));
  await UDP.send(sender, target, Buffer.alloc(0));
  const [first, second, empty] = [await UDP.recv(receiver, 0, 1000), await UDP.recv(receiver, 0, 1000), await UDP.recv(receiver, 0, 1000)];
  expect(first.data.length).toBe(3000);
  expect(second.data).toEqual(Buffer.from('tiny'));
  expect(empty.data).toEqual(Buffer.alloc(0));
  // The Buffer views only its own bytes.
  expect(second.data.byteLength).toBe(4);
});

test('the memory behind a received datagram holds no uninitialised bytes past it', async () => {
  const receiver = UDP.listen(0, { ip: 'loopback' });
  const peer = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < 3; i++) {
      peer.send(Buffer.alloc(100 + i, 0xee), (UDP.sockname(receiver) as { port: number }).port, '127.0.0.1');
      const { data } = await UDP.recv(receiver, 0, 2000);
      expect(data.equals(Buffer.alloc(100 + i, 0xee))).toBe(true);
      // Received datagrams share a slab: what lies beyond the newest one is not written yet.
      const after = new Uint8Array(data.buffer, data.byteOffset + data.length);
      expect(after.every((byte) => byte === 0)).toBe(true);
    }
  } finally {
    UDP.close(receiver);
    peer.close();
  }
});

/** Runs test/scripts/<script> under the fault shim (test/native/eintr_shim.c); its JSON line and the shim's counts. */
function underShim(script: string, faultEnv: Record<string, string> = {}): { result: Record<string, unknown>; calls: Record<string, { interrupted: number }> } {
  const shim = path.join(dir, 'eintr_shim.so');
  if (!fs.existsSync(shim)) {
    execFileSync(process.env.CC ?? 'cc', ['-shared', '-fPIC', '-O1', '-Wall', '-Werror', '-o', shim,
      path.join(__dirname, 'native', 'eintr_shim.c'), '-ldl']);
  }
  const report = path.join(dir, `${script}.calls.json`);
  const child = spawnSync(process.execPath, [path.join(__dirname, 'scripts', script)], {
    encoding: 'utf8',
    timeout: 30000,
    // After whatever is preloaded already (the sanitizer runtime, in the ASan run).
    env: { ...process.env, ...faultEnv, LD_PRELOAD: [process.env.LD_PRELOAD, shim].filter(Boolean).join(' '), ABYSS_EINTR_REPORT: report },
  });
  return { result: JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}'), calls: JSON.parse(fs.readFileSync(report, 'utf8')) };
}

test('a system call interrupted by a signal (EINTR) is retried: every call still does exactly its work', () => {
  // A signal cannot be aimed at the instant a non-blocking call is in the kernel, so a shim
  // in front of libc fails every other such call with EINTR, in a process of its own.
  const { result, calls } = underShim('eintr.js');
  expect(result.error).toBeUndefined();
  expect(result.received).toEqual(result.sent);
  expect(result.sent).toHaveLength(120);
  expect(result.errorQueue).toBeNull();
  for (const call of ['recvmmsg', 'recvmsg', 'sendmsg', 'sendmmsg', 'connect']) {
    expect({ call, interrupted: calls[call].interrupted > 0 }).toEqual({ call, interrupted: true });
  }
});

test('a read that fails when the socket turns readable rejects the waiting recv with its reason, and the datagram stays for the next', () => {
  const { result, calls } = underShim('read-fault.js', { ABYSS_FAULT_ERRNO: String(os.constants.errno.ENOMEM) });
  expect(result).toEqual({ atOnce: { reason: 'enomem' }, whileWaiting: { reason: 'enomem' }, after: { data: 'kept' } });
  expect(calls.recvmmsg.interrupted).toBe(2);
});
