/** Socket bookkeeping and assertions shared by the suites. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { types } from 'node:util';
import { UDP, TransportError, type ContractSocket, type Socket, type ListenOptions, type SocketInfo } from '../../lib';

const open = new Set<Socket>();
const dirs: string[] = [];

/** UDP.listen, remembered for closeAll(). */
export function listen(port = 0, options?: ListenOptions): Socket {
  const socket = UDP.listen(port, options);
  open.add(socket);
  return socket;
}

/**
 * Counts, on `socket`, the readiness reports the addon delivers and the facade's calls of the
 * native `method` (its sends, or its reads): a socket that spins shows in them, whatever else
 * the process does meanwhile. Under Bun and Deno the whole suite shares one thread, so that
 * thread's CPU time would not do.
 */
export function countActivity(socket: Socket, method: 'send' | 'recv'): { reports: number; calls: number } {
  const counts = { reports: 0, calls: 0 };
  const onReady = socket.onReady.bind(socket);
  socket.onReady = (events: number, errno: number) => {
    counts.reports++;
    onReady(events, errno);
  };
  const native = socket.native as unknown as Record<typeof method, (...args: unknown[]) => unknown>;
  const call = native[method].bind(native);
  native[method] = (...args: unknown[]) => {
    counts.calls++;
    return call(...args);
  };
  return counts;
}

/** UDP.open, remembered for closeAll(). */
export function openSocket(port = 0, options?: ListenOptions): Socket {
  const socket = UDP.open(port, options);
  open.add(socket);
  return socket;
}

/** Remembers a socket made elsewhere. */
export function track<T extends Socket>(socket: T): T {
  open.add(socket);
  return socket;
}

/** A fresh temporary directory, removed by closeAll(). */
export function tempDir(prefix = 'abyss-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Closes every socket opened through these helpers and removes the temp dirs. */
export function closeAll(): void {
  for (const socket of open) {
    try {
      socket.close();
    } catch {
      // already closed, or a test left it in a state close refuses: nothing more to do here
    }
  }
  open.clear();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function portOf(socket: ContractSocket): number {
  const info = socket.sockname() as SocketInfo;
  if (typeof info !== 'object' || !('port' in info)) throw new Error(`not an IP socket: ${JSON.stringify(info)}`);
  return info.port;
}

/**
 * The error is a TransportError and an Error of this realm. Jest runs each test file in its own
 * realm while the process loads the addon once; errors must still belong to the realm of the
 * caller (test/realms.test.ts checks that on its own, deterministically).
 */
export function expectTransportErrorClass(error: unknown): void {
  expect(types.isNativeError(error)).toBe(true);
  expect(error instanceof Error).toBe(true);
  expect(error instanceof TransportError).toBe(true);
}

/** Checks the error is a TransportError with this reason and code (and optional extra fields). */
export function expectTransportError(error: unknown, reason: string, extra: Record<string, unknown> = {}): TransportError {
  expectTransportErrorClass(error);
  const e = error as TransportError;
  expect({ reason: e.reason, code: e.code }).toEqual({ reason, code: reason.toUpperCase() });
  expect(e.name).toBe('TransportError');
  for (const [key, value] of Object.entries(extra)) {
    if (value instanceof RegExp) expect(String((e as unknown as Record<string, unknown>)[key])).toMatch(value);
    else expect((e as unknown as Record<string, unknown>)[key]).toEqual(value);
  }
  return e;
}

/** Deep equality with exactly these keys (toStrictEqual would also compare realms of objects the addon made). */
export function expectExactly(actual: unknown, expected: Record<string, unknown>): void {
  expect(actual).toEqual(expected);
  expect(Object.keys(actual as object).sort()).toEqual(Object.keys(expected).sort());
}

/** A synchronous call must throw a TransportError with this reason. */
export function expectThrows(fn: () => unknown, reason: string, extra: Record<string, unknown> = {}): TransportError {
  let thrown: unknown;
  let returned: unknown;
  try {
    returned = fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) {
    // A promise-returning call used where a throw is required: report it plainly.
    throw new Error(`expected a throw with reason '${reason}', got a return value: ${String(returned)}`);
  }
  return expectTransportError(thrown, reason, extra);
}

/**
 * An asynchronous call must return a promise that rejects with a TransportError with this
 * reason, without throwing synchronously. Bounded: a promise still pending after `limit` ms fails.
 */
export async function expectRejects(fn: () => Promise<unknown>, reason: string, extra: Record<string, unknown> = {}, limit = 3000): Promise<TransportError> {
  let promise: Promise<unknown>;
  try {
    promise = fn();
  } catch (error) {
    throw new Error(`expected a rejected promise with reason '${reason}', but the call threw synchronously: ${String(error)}`);
  }
  expect(promise).toBeInstanceOf(Promise);
  const outcome = await settleWithin(promise, limit);
  if (outcome.state === 'pending') throw new Error(`expected a rejection with reason '${reason}', still pending after ${limit} ms`);
  if (outcome.state === 'fulfilled') throw new Error(`expected a rejection with reason '${reason}', resolved with ${String(outcome.value)}`);
  return expectTransportError(outcome.error, reason, extra);
}

export type Settled<T> = { state: 'fulfilled'; value: T } | { state: 'rejected'; error: unknown } | { state: 'pending' };

/** What a promise did within `ms` milliseconds (never throws). */
export function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ state: 'pending' }), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve({ state: 'fulfilled', value }); },
      (error) => { clearTimeout(timer); resolve({ state: 'rejected', error }); },
    );
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true (bounded). */
export async function waitUntil(check: () => boolean, limit = 2000, step = 5): Promise<void> {
  const end = Date.now() + limit;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(step);
  }
}
