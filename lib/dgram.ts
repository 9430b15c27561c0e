/**
 * `DgramUDP`: the transport contract (types.ts, CONTRACT.md) on node:dgram, without the
 * native addon. It is the benchmark's baseline through the same API, and a portable
 * fallback where the addon cannot be built. What node:dgram cannot do fails `enotsup`,
 * never silently.
 *
 * How it differs from the native `UDP`, by design of node:dgram:
 *
 * - Receiving is push-based: libuv reads the kernel queue as soon as it is readable and
 *   hands every datagram to JavaScript. They wait in a bounded queue until `recv` takes
 *   them. The queue holds at most SO_RCVBUF bytes of payload (as read back from the
 *   kernel, so `recbuf` keeps its meaning; every datagram counts at least one byte, and an
 *   empty queue always takes one); a datagram beyond that is dropped and counted in
 *   `getstat().kernel.drops`, as the kernel drops what overflows a passive socket.
 * - `recv(socket, n, 0)` "polls once" by letting one turn of the event loop pass, in which
 *   libuv reads what the kernel holds. Only a call that has to wait, with a finite timeout,
 *   needs a timer: one per socket, re-armed only when a waiter is due sooner than it.
 * - `recvBatch` waits for the first datagram, then returns it with every datagram libuv
 *   read in the same turn of the event loop (up to `max`): the batch is served from
 *   `setImmediate`, one check phase after the reads.
 * - Bind and connect are synchronous: every socket is made with a `lookup` that answers
 *   IP literals at once (hostnames are `badarg`, as in `UDP`), which makes node:dgram bind
 *   and connect inside the call. A failed connect reports its errno on the next tick
 *   only; its reason is then read synchronously by repeating the connect on dgram's
 *   internal handle (when that is reachable; otherwise the reason is `einval`).
 * - Options are applied after bind, except `reuseaddr`, `reuseport` and `ipv6_v6only`,
 *   which node:dgram takes only when it creates the socket: they are listen options here,
 *   and `setopts` may only repeat their value (`enotsup` otherwise; `einval` for
 *   `ipv6_v6only`, as the kernel refuses it after bind). `reuseport` exists from
 *   Node 22.12 / 23.1 on; before that `reuseport: true` is `enotsup` and the default is off.
 *   Since the flags are on at bind, port 0 may be given a port another reusing socket
 *   holds (the native `UDP` binds port 0 with them off); `reuseaddr: false` avoids it.
 * - Supported options: `recbuf`, `sndbuf`, `buffer`, `broadcast`, `ttl` (IPv4),
 *   `multicast_ttl`, `multicast_loop`, `multicast_if`, `add/drop_membership`,
 *   `add/drop_source_membership`, `unicast_hops`/`multicast_hops` (IPv6, 1..255 / 0..255:
 *   libuv takes no -1), `reuseaddr`, `reuseport`, `ipv6_v6only`, `mode: 'binary'`,
 *   `active: false`. Every other option of the contract is `enotsup` (IPv6-only options
 *   on an IPv4 socket are `einval`, as in `UDP`); unknown names and bad values are
 *   `badarg`. `setopts` checks every entry first and undoes what it already applied when
 *   the kernel refuses a later one. Values node:dgram cannot read back (`broadcast`,
 *   `ttl`, `multicast_*`) are the ones last set, or the kernel's default.
 * - No ancillary data: `send` with a non-empty ancillary object is `enotsup`; received
 *   datagrams never carry `ancillary`. No unix datagram sockets (`enotsup`), no `netns`,
 *   no active mode, no `controllingProcess` to another thread (`enotsup`).
 * - `fd`: node:dgram does not expose the descriptor. It is read from dgram's internal
 *   handle when that is reachable, and is -1 otherwise (and once closed).
 * - `getstat().kernel`: `rcvbuf` and `sndbuf` from node:dgram; `rmem_alloc`, `wmem_alloc`
 *   and the kernel's `drops` from /proc/net/udp{,6} (found by the descriptor's inode; 0 when
 *   the descriptor or the file is unavailable); `drops` adds the datagrams the facade queue
 *   dropped. `rx_queue` is the payload bytes waiting in the facade queue (libuv keeps the
 *   kernel's own queue drained), `tx_queue` the bytes libuv holds unsent
 *   (getSendQueueSize). `fwd_alloc`, `wmem_queued`, `optmem` and `backlog` are 0: only
 *   SO_MEMINFO knows them, and node:dgram cannot ask for it.
 * - IOData is handed to node:dgram as a list of buffers, which libuv gives the kernel as
 *   one sendmsg with an iovec per piece (more than 1024 pieces, IOV_MAX, are joined first).
 * - On a connected socket node:dgram can only send to the peer: another destination is
 *   `eisconn`. Connecting to port 0 is `enotsup`.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { threadId, Worker } from 'node:worker_threads';
import { TransportError, badarg, closedError } from './errors';
import type {
  Active, BatchMessage, KernelStats, ListenOptions, OptionName, RecvData,
  SocketHandle, SocketInfo, SocketOptions, SocketStats, Timeout, Transport,
} from './types';

type Family = 'inet' | 'inet6';

/** setTimeout's limit: a longer wait is re-armed in steps of it. */
const MAX_TIMER = 2 ** 31 - 1;
/** The most pieces one sendmsg takes (IOV_MAX). */
const IOV_MAX = 1024;
const INT_MAX = 2 ** 31 - 1;

const [NODE_MAJOR, NODE_MINOR] = process.versions.node.split('.').map(Number);
/** node:dgram's `reusePort` (Node 22.12 / 23.1 on, Linux). */
const DGRAM_REUSEPORT = os.platform() === 'linux' &&
  (NODE_MAJOR > 23 || (NODE_MAJOR === 23 && NODE_MINOR >= 1) || (NODE_MAJOR === 22 && NODE_MINOR >= 12));

// ---------------------------------------------------------------------------------------
// Small helpers

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.prototype.toString.call(value) !== '[object Object]') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const isInt = (value: unknown, low: number, high: number): value is number =>
  Number.isInteger(value) && (value as number) >= low && (value as number) <= high;

function enotsup(operation: string, what: string): TransportError {
  return new TransportError('enotsup', `${operation}: ${what}`);
}

let errorDescriptions: Map<string, string> | undefined;
function describe(code: string): string {
  if (!errorDescriptions) {
    errorDescriptions = new Map();
    for (const [name, text] of getSystemErrorMap().values()) errorDescriptions.set(name, text);
  }
  const text = errorDescriptions.get(code) ?? code;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A system error: the kernel's (or libuv's) errno name, as UDP reports it. */
function sysError(operation: string, syscall: string, code: string, detail = ''): TransportError {
  const reason = code.toLowerCase();
  const errno = (os.constants.errno as Record<string, number>)[code];
  return new TransportError(reason, `${operation}: ${detail}${syscall} failed: ${reason} (${describe(code)})`, syscall, errno);
}

/** Node's error (err.code 'EADDRINUSE', 'ERR_…') as a TransportError. */
function fromNode(error: unknown, operation: string, syscall?: string, detail = ''): TransportError {
  if (error instanceof TransportError) return error;
  const e = error as (NodeJS.ErrnoException & { info?: { code?: string; syscall?: string } }) | undefined;
  let code = typeof e?.code === 'string' ? e.code : undefined;
  let call = syscall ?? e?.syscall;
  if (code === 'ERR_SOCKET_BUFFER_SIZE' && typeof e?.info?.code === 'string') {
    code = e.info.code;
    call = syscall ?? e.info.syscall;
  }
  if (code === 'ERR_SOCKET_DGRAM_NOT_RUNNING') return closedError(operation);
  if (code !== undefined && /^E[A-Z0-9_]+$/.test(code)) return sysError(operation, call ?? 'call', code, detail);
  if (code !== undefined && code.startsWith('ERR_')) return badarg(operation, `${detail}${e?.message ?? code}`);
  return new TransportError('einval', `${operation}: ${detail}${e?.message ?? String(error)}`, call);
}

function checkTimeout(timeout: unknown, operation: string): number {
  if (timeout === 'infinity' || timeout === Infinity) return Infinity;
  if (typeof timeout !== 'number' || !(timeout >= 0) || !Number.isFinite(timeout)) {
    throw badarg(operation, `timeout must be milliseconds >= 0, Infinity or 'infinity', got ${show(timeout)}`);
  }
  return timeout;
}

function checkPort(port: unknown, operation: string): number {
  if (!isInt(port, 0, 65535)) throw badarg(operation, `port must be an integer from 0 to 65535, got ${show(port)}`);
  return port;
}

function checkCount(value: unknown, low: number, operation: string, what: string): number {
  if (!isInt(value, low, INT_MAX)) throw badarg(operation, `${what} must be an integer >= ${low}, got ${show(value)}`);
  return value;
}

/**
 * An IP literal the socket's family can use, as node:dgram wants it: IPv4 on an IPv6
 * socket becomes v4-mapped. `{ local }` is `eafnosupport` (UDP's answer too); the rest `badarg`.
 */
function ipFor(address: unknown, family: Family, operation: string): string {
  if (isPlainObject(address) && typeof address.local === 'string') {
    throw new TransportError('eafnosupport', `${operation}: a unix address on an IP socket`);
  }
  if (typeof address === 'string') {
    const kind = isIP(address);
    if (family === 'inet' && kind === 4) return address;
    if (family === 'inet6' && kind === 6) return address;
    if (family === 'inet6' && kind === 4) return `::ffff:${address}`;
  }
  throw badarg(operation, `not an IP address of this socket's family: ${show(address)}`);
}

/** node:dgram's lookup, answered at once: binds, connects and sends happen inside the call. */
function literalLookup(address: string, options: unknown, callback?: (error: Error | null, address: string, family: number) => void): void {
  const done = typeof options === 'function' ? options as typeof callback : callback;
  const kind = isIP(address);
  if (kind === 0) {
    const error = Object.assign(new Error(`not an IP literal: ${address}`), { code: 'EINVAL', syscall: 'getaddrinfo' });
    done!(error, '', 0);
  } else {
    done!(null, address, kind);
  }
}

/** The iodata as the buffers node:dgram sends in one datagram; undefined when it is no iodata. */
function flatten(data: unknown): Buffer[] | undefined {
  const pieces: Buffer[] = [];
  const leaf = (piece: unknown): boolean => {
    if (typeof piece === 'string') pieces.push(Buffer.from(piece, 'utf8'));
    else if (Buffer.isBuffer(piece)) pieces.push(piece);
    else if (piece instanceof Uint8Array) pieces.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
    else return false;
    return true;
  };
  if (!Array.isArray(data)) return leaf(data) ? pieces : undefined;
  // Depth first without recursion; an array inside itself (on the current path) has no end.
  const frames: { list: unknown[]; index: number }[] = [{ list: data, index: 0 }];
  const path = new Set<unknown[]>([data]);
  while (frames.length > 0) {
    const frame = frames[frames.length - 1];
    if (frame.index === frame.list.length) {
      frames.pop();
      path.delete(frame.list);
      continue;
    }
    const piece = frame.list[frame.index++];
    if (Array.isArray(piece)) {
      if (path.has(piece)) return undefined;
      path.add(piece);
      frames.push({ list: piece, index: 0 });
    } else if (!leaf(piece)) {
      return undefined;
    }
  }
  return pieces.length > IOV_MAX ? [Buffer.concat(pieces)] : pieces;
}

function byteLength(pieces: Buffer[]): number {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  return length;
}

/** dgram's internal UDP handle (for the descriptor and a failed connect's errno), if reachable. */
function internalHandle(socket: dgram.Socket): { fd?: number; connect?(ip: string, port: number): number; connect6?(ip: string, port: number): number } | undefined {
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = symbol ? (socket as unknown as Record<symbol, { handle?: unknown }>)[symbol] : undefined;
  return state && typeof state.handle === 'object' && state.handle !== null ? state.handle as ReturnType<typeof internalHandle> : undefined;
}

function readNumber(file: string, fallback: number): number {
  try {
    const value = Number.parseInt(fs.readFileSync(file, 'latin1').trim(), 10);
    return Number.isFinite(value) ? value : fallback;
  } catch {
    return fallback;
  }
}

/** The name of interface `index` (for node:dgram's '::%name' scoped addresses). */
function interfaceName(index: number, operation: string, option: string): string | undefined {
  if (index === 0) return undefined;
  try {
    for (const name of fs.readdirSync('/sys/class/net')) {
      if (readNumber(`/sys/class/net/${name}/ifindex`, -1) === index) return name;
    }
  } catch {
    // no sysfs: fall through
  }
  throw sysError(operation, 'setsockopt', 'ENODEV', `option '${option}' ${index}: `);
}

/** rx_queue/tx_queue (memory) and drops of a socket in /proc/net/udp{,6}, by inode. */
function procStats(fd: number, family: Family): { rmem: number; wmem: number; drops: number } | undefined {
  if (fd < 0) return undefined;
  try {
    const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
    if (!match) return undefined;
    const text = fs.readFileSync(family === 'inet6' ? '/proc/net/udp6' : '/proc/net/udp', 'latin1');
    for (const line of text.split('\n')) {
      const fields = line.trim().split(/\s+/);
      if (fields[9] !== match[1]) continue;
      const [tx, rx] = fields[4].split(':').map((hex) => Number.parseInt(hex, 16));
      return { rmem: rx, wmem: tx, drops: Number(fields[12]) || 0 };
    }
  } catch {
    // not Linux, or no /proc
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Socket state

interface Waiter {
  numBytes: number;
  /** 0 for recv; the most datagrams for recvBatch. */
  batch: number;
  resolve(value: RecvData | RecvData[]): void;
  reject(error: TransportError): void;
  /** performance.now() when it times out; Infinity: never (or a zero timeout, see immediate). */
  deadline: number;
  immediate?: NodeJS.Immediate;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface PendingSend {
  bytes: number;
  reject(error: TransportError): void;
}

/** A queued datagram, or a receive error (ICMP's econnrefused) in the order it came. */
type Entry = RecvData | TransportError;

interface State {
  readonly dgram: dgram.Socket;
  readonly family: Family;
  fd: number;
  closed: boolean;
  queue: Entry[];
  head: number;
  queuedBytes: number;
  /** Datagrams the bounded queue dropped. */
  dropped: number;
  /** SO_RCVBUF as read back: the queue's bound in bytes. */
  rcvbuf: number;
  waiters: Waiter[];
  serveScheduled: boolean;
  referenced: boolean;
  unrefScheduled: boolean;
  /**
   * One timer per socket for the waiters' deadlines, due at `timerDue`. It is re-armed only
   * when a waiter must time out sooner, so a busy loop of recv(…, 1000) does not pay a timer
   * per call. It is unref'd: the socket itself keeps the loop alive while anything waits.
   */
  timer?: NodeJS.Timeout;
  timerDue: number;
  sends: Set<PendingSend>;
  sendPending: number;
  peer?: { address: string; port: number };
  counters: {
    recv_oct: number; recv_cnt: number; recv_max: number; recv_avg: number; recv_dvi: number;
    send_oct: number; send_cnt: number; send_max: number; send_avg: number;
  };
  // What node:dgram cannot read back: the values last set (undefined: the kernel's default).
  buffer: number;
  reuseaddr: boolean;
  reuseport: boolean;
  v6only?: boolean;
  broadcast: boolean;
  ttl?: number;
  multicastTtl?: number;
  multicastLoop: boolean;
  multicastIf?: string | number;
  hops?: number;
}

const states = new WeakMap<object, State>();

/** A socket of DgramUDP: opaque, with the contract's read-only `fd` and `closed`. */
export class DgramSocket implements SocketHandle {
  /** The descriptor, when node:dgram's internal handle shows it; -1 otherwise and once closed. */
  get fd(): number {
    const state = states.get(this);
    return state && !state.closed ? state.fd : -1;
  }

  get closed(): boolean {
    return states.get(this)?.closed ?? true;
  }

  /** `using socket = DgramUDP.listen(…)` closes it at the end of the scope. */
  [Symbol.dispose](): void {
    const state = states.get(this);
    if (state) shut(state);
  }
}

function stateOf(socket: unknown, operation: string): State {
  const state = typeof socket === 'object' && socket !== null ? states.get(socket) : undefined;
  if (!state) throw badarg(operation, `not a socket: ${show(socket)}`);
  return state;
}

function openState(socket: unknown, operation: string): State {
  const state = stateOf(socket, operation);
  if (state.closed) throw closedError(operation);
  return state;
}

/**
 * The socket keeps the event loop alive only while a recv waits on it, as UDP's do. Letting
 * go waits a microtask: the caller usually waits again at once.
 */
function updateRef(state: State): void {
  const wanted = state.waiters.length > 0;
  if (wanted === state.referenced || state.closed) return;
  if (wanted) {
    state.referenced = true;
    state.dgram.ref();
  } else if (!state.unrefScheduled) {
    state.unrefScheduled = true;
    queueMicrotask(() => {
      state.unrefScheduled = false;
      if (state.waiters.length > 0 || !state.referenced || state.closed) return;
      state.referenced = false;
      state.dgram.unref();
    });
  }
}

// ---------------------------------------------------------------------------------------
// Receiving

function countReceived(state: State, length: number): void {
  const c = state.counters;
  const count = c.recv_cnt + 1;
  const avg = c.recv_avg + (length - c.recv_avg) / count;
  c.recv_avg = avg;
  c.recv_dvi += (length - avg - c.recv_dvi) / count;
  if (length > c.recv_max) c.recv_max = length;
  c.recv_oct += length;
  c.recv_cnt = count;
}

function countSent(state: State, length: number): void {
  const c = state.counters;
  c.send_cnt += 1;
  c.send_avg += (length - c.send_avg) / c.send_cnt;
  if (length > c.send_max) c.send_max = length;
  c.send_oct += length;
}

/** The datagram cut to `limit` bytes, marked truncated when that cut it; counted as handed out. */
function handOut(state: State, record: RecvData, limit: number): RecvData {
  const out = record.data.length > limit ? { ...record, data: record.data.subarray(0, limit), truncated: true as const } : record;
  countReceived(state, out.data.length);
  return out;
}

function shift(state: State): Entry {
  const entry = state.queue[state.head];
  state.queue[state.head++] = undefined as unknown as Entry;
  if (!(entry instanceof TransportError)) state.queuedBytes -= Math.max(1, entry.data.length);
  if (state.head === state.queue.length) {
    state.queue.length = 0;
    state.head = 0;
  }
  return entry;
}

const queued = (state: State): number => state.queue.length - state.head;

/** The next datagram (or batch) from the queue; the queue is not empty. Throws a queued error. */
function take(state: State, numBytes: number, batch: number): RecvData | RecvData[] {
  if (batch === 0) {
    const entry = shift(state);
    if (entry instanceof TransportError) throw entry;
    return handOut(state, entry, numBytes || state.buffer);
  }
  const records: RecvData[] = [];
  while (records.length < batch && queued(state) > 0) {
    const entry = state.queue[state.head];
    if (entry instanceof TransportError) {
      if (records.length > 0) break;
      shift(state);
      throw entry;
    }
    records.push(handOut(state, shift(state) as RecvData, state.buffer));
  }
  return records;
}

function settle(waiter: Waiter): Waiter {
  if (waiter.immediate) clearImmediate(waiter.immediate);
  if (waiter.onAbort) waiter.signal!.removeEventListener('abort', waiter.onAbort);
  return waiter;
}

function checkSignal(options: unknown, operation: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const signal = isPlainObject(options) ? options.signal : undefined;
  if (!isPlainObject(options) || (signal !== undefined && !(signal instanceof AbortSignal))) {
    throw badarg(operation, `options must be { signal?: AbortSignal }, got ${show(options)}`);
  }
  return signal as AbortSignal | undefined;
}

function abortedError(operation: string, signal: AbortSignal): TransportError {
  const error = new TransportError('aborted', `${operation}: aborted`);
  (error as Error).cause = signal.reason;
  return error;
}

function serveWaiters(state: State): void {
  while (state.waiters.length > 0 && queued(state) > 0) {
    const waiter = settle(state.waiters.shift()!);
    try {
      waiter.resolve(take(state, waiter.numBytes, waiter.batch));
    } catch (error) {
      waiter.reject(error as TransportError);
    }
  }
  updateRef(state);
}

function scheduleServe(state: State): void {
  if (state.serveScheduled) return;
  state.serveScheduled = true;
  setImmediate(() => {
    state.serveScheduled = false;
    if (!state.closed) serveWaiters(state);
  });
}

function enqueue(state: State, entry: Entry): void {
  if (!(entry instanceof TransportError)) {
    const cost = Math.max(1, entry.data.length);
    if (queued(state) > 0 && state.queuedBytes + cost > state.rcvbuf) {
      state.dropped++;
      return;
    }
    state.queuedBytes += cost;
  }
  state.queue.push(entry);
}

function onMessage(state: State, data: Buffer, info: dgram.RemoteInfo): void {
  if (state.closed) return;
  const record: RecvData = { address: info.address, port: info.port, data };
  // A recv waiting on an empty queue takes the datagram at once; a recvBatch is served a
  // turn later, with whatever else libuv reads now.
  if (state.waiters.length > 0 && queued(state) === 0 && state.waiters[0].batch === 0) {
    const waiter = settle(state.waiters.shift()!);
    waiter.resolve(handOut(state, record, waiter.numBytes || state.buffer));
    updateRef(state);
    return;
  }
  enqueue(state, record);
  if (state.waiters.length > 0) scheduleServe(state);
}

function onError(state: State, error: Error): void {
  if (state.closed) return;
  const transportError = fromNode(error, 'recv', 'recvmsg');
  if (state.waiters.length > 0 && queued(state) === 0) {
    settle(state.waiters.shift()!).reject(transportError);
    updateRef(state);
    return;
  }
  enqueue(state, transportError);
  if (state.waiters.length > 0) scheduleServe(state);
}

function withdraw(state: State, waiter: Waiter, error: TransportError): void {
  const index = state.waiters.indexOf(waiter);
  if (index < 0) return;
  state.waiters.splice(index, 1);
  settle(waiter).reject(error);
  updateRef(state);
}

/** Makes sure the socket's timer fires by `deadline`. */
function armBy(state: State, deadline: number): void {
  if (state.timer && state.timerDue <= deadline) return;
  clearTimeout(state.timer);
  const delay = Math.min(Math.max(0, Math.ceil(deadline - performance.now())), MAX_TIMER);
  state.timerDue = performance.now() + delay;
  state.timer = setTimeout(() => expire(state), delay);
  state.timer.unref();
}

/** The socket's timer fired: every waiter past its deadline times out; re-arm for the next. */
function expire(state: State): void {
  state.timer = undefined;
  if (state.closed) return;
  // Timers may fire up to a millisecond early by performance.now(): that counts as due.
  const now = performance.now() + 1;
  let next = Infinity;
  for (const waiter of [...state.waiters]) {
    if (waiter.deadline <= now) {
      withdraw(state, waiter, new TransportError('timeout', `${waiter.batch ? 'recvBatch' : 'recv'}: nothing arrived in time`));
    } else if (waiter.deadline < next) {
      next = waiter.deadline;
    }
  }
  if (next !== Infinity) armBy(state, next);
}

function receive(socket: unknown, numBytes: number, batch: number, timeout: unknown, options: unknown): Promise<RecvData | RecvData[]> {
  const operation = batch ? 'recvBatch' : 'recv';
  let state: State;
  let wait: number;
  let signal: AbortSignal | undefined;
  try {
    state = openState(socket, operation);
    wait = checkTimeout(timeout, operation);
    signal = checkSignal(options, operation);
    if (signal?.aborted) throw abortedError(operation, signal);
    if (state.waiters.length === 0 && queued(state) > 0) return Promise.resolve(take(state, numBytes, batch));
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    const waiter: Waiter = { numBytes, batch, resolve, reject, deadline: wait === 0 ? Infinity : performance.now() + wait };
    if (wait === 0) {
      // Poll once: let the event loop reach its poll phase, where libuv reads the kernel.
      waiter.immediate = setImmediate(() => {
        waiter.immediate = setImmediate(() => {
          waiter.immediate = undefined;
          withdraw(state, waiter, new TransportError('timeout', `${operation}: nothing arrived in time`));
        });
      });
    } else if (wait !== Infinity) {
      armBy(state, waiter.deadline);
    }
    if (signal) {
      waiter.signal = signal;
      waiter.onAbort = () => withdraw(state, waiter, abortedError(operation, signal));
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    state.waiters.push(waiter);
    if (queued(state) > 0) scheduleServe(state);
    updateRef(state);
  });
}

// ---------------------------------------------------------------------------------------
// Options

interface OptionSpec {
  /** The only family it exists in (the other one is `einval`, as the kernel says). */
  only?: Family;
  /** node:dgram cannot do it on this family: `enotsup`. */
  unsupported?(family: Family, value: unknown): string | undefined;
  valid(value: unknown, family: Family): boolean;
  expected: string;
  /** Reads the value; absent: set-only (`einval`, as inet). */
  get?(state: State): unknown;
  /** Applies the value; returns how to undo it. */
  set(state: State, value: any): (() => void) | void;
}

const bool = (value: unknown): boolean => typeof value === 'boolean';
const v4 = (value: unknown): boolean => typeof value === 'string' && isIP(value) === 4;
const v6 = (value: unknown): boolean => typeof value === 'string' && isIP(value) === 6;
const validActive = (v: unknown): boolean => typeof v === 'boolean' || v === 'once' || isInt(v, -32768, 32767);

/** '::%name' for an IPv6 interface index (node:dgram's way to name one); undefined for 0. */
function scope(index: number, option: string): string | undefined {
  const name = interfaceName(index, 'setopts', option);
  return name === undefined ? undefined : `::%${name}`;
}

function membershipValid(size: 2 | 3) {
  return (value: unknown, family: Family): boolean => {
    if (!Array.isArray(value) || value.length !== size) return false;
    const [group, iface, source] = value as unknown[];
    if (family === 'inet') return v4(group) && v4(iface) && (size === 2 || v4(source));
    return v6(group) && isInt(iface, 0, INT_MAX) && (size === 2 || v6(source));
  };
}

function interfaceArgument(state: State, iface: string | number, option: string): string | undefined {
  return state.family === 'inet' ? iface as string : scope(iface as number, option);
}

function membership(join: boolean) {
  return (state: State, [group, iface]: [string, string | number]): () => void => {
    const option = join ? 'add_membership' : 'drop_membership';
    const on = interfaceArgument(state, iface, option);
    if (join) state.dgram.addMembership(group, on);
    else state.dgram.dropMembership(group, on);
    return () => (join ? state.dgram.dropMembership(group, on) : state.dgram.addMembership(group, on));
  };
}

function sourceMembership(join: boolean) {
  return (state: State, [group, iface, source]: [string, string | number, string]): () => void => {
    const option = join ? 'add_source_membership' : 'drop_source_membership';
    const on = interfaceArgument(state, iface, option);
    if (join) state.dgram.addSourceSpecificMembership(source, group, on);
    else state.dgram.dropSourceSpecificMembership(source, group, on);
    return () => (join ? state.dgram.dropSourceSpecificMembership(source, group, on) : state.dgram.addSourceSpecificMembership(source, group, on));
  };
}

/** Options fixed when node:dgram creates the socket: setopts may only repeat them. */
function creationOnly(key: 'reuseaddr' | 'reuseport', name: string): OptionSpec {
  return {
    valid: bool,
    expected: 'true or false',
    get: (s) => s[key],
    set: (s, v: boolean) => {
      if (v !== s[key]) throw enotsup('setopts', `node:dgram sets '${name}' only when it creates the socket: pass it to listen/open`);
    },
  };
}

const SPECS: Record<string, OptionSpec> = {
  active: {
    valid: validActive,
    expected: "true, false, 'once' or an integer from -32768 to 32767",
    unsupported: () => undefined,
    get: () => false,
    set: (_s, v: Active) => {
      if (v !== false) throw enotsup('setopts', `active mode (${show(v)}) is not implemented by DgramUDP: use recv`);
    },
  },
  mode: { valid: (v) => v === 'binary', expected: "'binary'", get: () => 'binary', set: () => undefined },
  buffer: {
    valid: (v) => isInt(v, 1, INT_MAX),
    expected: 'a positive integer',
    get: (s) => s.buffer,
    set: (s, v: number) => {
      const old = s.buffer;
      s.buffer = v;
      return () => { s.buffer = old; };
    },
  },
  recbuf: {
    valid: (v) => isInt(v, 1, Math.floor(INT_MAX / 2)),
    expected: `an integer from 1 to ${Math.floor(INT_MAX / 2)}`,
    get: (s) => s.dgram.getRecvBufferSize(),
    set: (s, v: number) => {
      const old = s.dgram.getRecvBufferSize();
      s.dgram.setRecvBufferSize(v);
      s.rcvbuf = s.dgram.getRecvBufferSize();
      return () => {
        s.dgram.setRecvBufferSize(Math.max(1, old >> 1));
        s.rcvbuf = s.dgram.getRecvBufferSize();
      };
    },
  },
  sndbuf: {
    valid: (v) => isInt(v, 1, Math.floor(INT_MAX / 2)),
    expected: `an integer from 1 to ${Math.floor(INT_MAX / 2)}`,
    get: (s) => s.dgram.getSendBufferSize(),
    set: (s, v: number) => {
      const old = s.dgram.getSendBufferSize();
      s.dgram.setSendBufferSize(v);
      return () => s.dgram.setSendBufferSize(Math.max(1, old >> 1));
    },
  },
  broadcast: {
    valid: bool,
    expected: 'true or false',
    get: (s) => s.broadcast,
    set: (s, v: boolean) => {
      const old = s.broadcast;
      s.dgram.setBroadcast(v);
      s.broadcast = v;
      return () => { s.dgram.setBroadcast(old); s.broadcast = old; };
    },
  },
  ttl: {
    unsupported: (f) => (f === 'inet6' ? "node:dgram cannot set IP_TTL on an IPv6 socket (its TTL is 'unicast_hops')" : undefined),
    valid: (v) => isInt(v, 1, 255),
    expected: 'an integer from 1 to 255',
    get: (s) => s.ttl ?? readNumber('/proc/sys/net/ipv4/ip_default_ttl', 64),
    set: (s, v: number) => {
      const old = s.ttl;
      s.dgram.setTTL(v);
      s.ttl = v;
      return () => { s.dgram.setTTL(old ?? readNumber('/proc/sys/net/ipv4/ip_default_ttl', 64)); s.ttl = old; };
    },
  },
  multicast_ttl: {
    valid: (v) => isInt(v, 0, 255),
    expected: 'an integer from 0 to 255',
    get: (s) => s.multicastTtl ?? 1,
    set: (s, v: number) => {
      const old = s.multicastTtl;
      s.dgram.setMulticastTTL(v);
      s.multicastTtl = v;
      return () => { s.dgram.setMulticastTTL(old ?? 1); s.multicastTtl = old; };
    },
  },
  multicast_loop: {
    valid: bool,
    expected: 'true or false',
    get: (s) => s.multicastLoop,
    set: (s, v: boolean) => {
      const old = s.multicastLoop;
      s.dgram.setMulticastLoopback(v);
      s.multicastLoop = v;
      return () => { s.dgram.setMulticastLoopback(old); s.multicastLoop = old; };
    },
  },
  multicast_if: {
    valid: (v, f) => (f === 'inet' ? v4(v) : isInt(v, 0, INT_MAX)),
    expected: 'an IPv4 interface address (IPv4) or an interface index (IPv6)',
    get: (s) => s.multicastIf ?? (s.family === 'inet' ? '0.0.0.0' : 0),
    set: (s, v: string | number) => {
      const old = s.multicastIf;
      const apply = (value: string | number | undefined): void => {
        s.dgram.setMulticastInterface(s.family === 'inet' ? (value as string | undefined) ?? '0.0.0.0' : scope((value as number | undefined) ?? 0, 'multicast_if') ?? '::');
      };
      apply(v);
      s.multicastIf = v;
      return () => { apply(old); s.multicastIf = old; };
    },
  },
  add_membership: { valid: membershipValid(2), expected: '[group, interface]', set: membership(true) },
  drop_membership: { valid: membershipValid(2), expected: '[group, interface]', set: membership(false) },
  add_source_membership: { valid: membershipValid(3), expected: '[group, interface, source]', set: sourceMembership(true) },
  drop_source_membership: { valid: membershipValid(3), expected: '[group, interface, source]', set: sourceMembership(false) },
  reuseaddr: creationOnly('reuseaddr', 'reuseaddr'),
  reuseport: {
    ...creationOnly('reuseport', 'reuseport'),
    unsupported: (_f, v) => (v === true && !DGRAM_REUSEPORT ? `node:dgram has no reusePort before Node 22.12 (this is ${process.version})` : undefined),
  },
  ipv6_v6only: {
    only: 'inet6',
    valid: bool,
    expected: 'true or false',
    get: (s) => s.v6only ?? readNumber('/proc/sys/net/ipv6/bindv6only', 0) === 1,
    set: (s, v: boolean) => {
      const current = s.v6only ?? readNumber('/proc/sys/net/ipv6/bindv6only', 0) === 1;
      if (v !== current) throw sysError('setopts', 'setsockopt', 'EINVAL', `option 'ipv6_v6only' ${show(v)}: the socket is bound: `);
    },
  },
  unicast_hops: {
    only: 'inet6',
    valid: (v) => isInt(v, -1, 255),
    expected: 'an integer from -1 to 255',
    get: (s) => s.hops ?? readNumber('/proc/sys/net/ipv6/conf/default/hop_limit', 64),
    set: (s, v: number) => {
      if (v < 1) throw enotsup('setopts', `node:dgram sets 'unicast_hops' from 1 to 255, not ${v}`);
      const old = s.hops;
      s.dgram.setTTL(v);
      s.hops = v;
      return () => { s.dgram.setTTL(old ?? readNumber('/proc/sys/net/ipv6/conf/default/hop_limit', 64)); s.hops = old; };
    },
  },
  multicast_hops: {
    only: 'inet6',
    valid: (v) => isInt(v, -1, 255),
    expected: 'an integer from -1 to 255',
    get: (s) => s.multicastTtl ?? 1,
    set: (s, v: number) => {
      if (v < 0) throw enotsup('setopts', `node:dgram sets 'multicast_hops' from 0 to 255, not ${v}`);
      return SPECS.multicast_ttl.set(s, v);
    },
  },
};

/** Options of the contract node:dgram has no way to reach. */
const UNSUPPORTED = new Set([
  'reuseport_lb', 'priority', 'tos', 'recvtos', 'recvttl', 'dontroute', 'bind_to_device', 'read_packets', 'raw',
  'pktinfo', 'recvorigdstaddr', 'timestamp', 'rxq_ovfl', 'gro', 'segment', 'recverr', 'mtu_discover', 'freebind',
  'transparent', 'mark', 'busy_poll', 'incoming_cpu', 'rcvbufforce', 'sndbufforce',
]);
/** IPv6-only options node:dgram cannot reach either. */
const UNSUPPORTED_INET6 = new Set(['tclass', 'recvtclass', 'recvhoplimit']);
/** inet options that would break the contract's shapes. */
const REFUSED = new Set(['header', 'packet', 'deliver', 'packet_size', 'line_delimiter']);
const LISTEN_ONLY = new Set(['ip', 'family', 'fd', 'netns', 'inet_backend']);

interface Planned {
  name: string;
  value: unknown;
  spec: OptionSpec;
}

/** Checks every entry before anything is applied. */
function plan(family: Family, options: Record<string, unknown>, operation: string): Planned[] {
  const planned: Planned[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (REFUSED.has(name)) throw badarg(operation, `option '${name}' is refused: it would break the contract's datagram shape`);
    if (name === 'mode' && value !== 'binary') throw badarg(operation, `option 'mode' ${show(value)} is refused: only 'binary' is supported`);
    if (LISTEN_ONLY.has(name)) throw badarg(operation, `'${name}' is a listen option, not a socket option`);
    const spec = Object.hasOwn(SPECS, name) ? SPECS[name] : undefined;
    const sixOnly = UNSUPPORTED_INET6.has(name) || spec?.only === 'inet6';
    if (!spec && !UNSUPPORTED.has(name) && !UNSUPPORTED_INET6.has(name)) throw badarg(operation, `unknown option '${name}'`);
    if (sixOnly && family === 'inet') {
      throw sysError(operation, 'setsockopt', 'EINVAL', `option '${name}' is for IPv6 sockets: `);
    }
    if (!spec) throw enotsup(operation, `option '${name}' is not available through node:dgram`);
    if (!spec.valid(value, family)) throw badarg(operation, `bad value for option '${name}': ${show(value)}, expected ${spec.expected}`);
    const why = spec.unsupported?.(family, value);
    if (why) throw enotsup(operation, `option '${name}': ${why}`);
    planned.push({ name, value, spec });
  }
  return planned;
}

/** Applies checked options in order; when one fails, undoes the others and throws. */
function apply(state: State, planned: Planned[], operation: string): void {
  const undo: (() => void)[] = [];
  for (const { name, value, spec } of planned) {
    try {
      const back = spec.set(state, value);
      if (back) undo.push(back);
    } catch (error) {
      for (const step of undo.reverse()) {
        try {
          step();
        } catch {
          // best effort: the kernel refused to go back
        }
      }
      if (error instanceof TransportError) {
        if (error.message.startsWith('setopts: ') && operation !== 'setopts') {
          throw new TransportError(error.reason, `${operation}: ${error.message.slice(9)}`, error.syscall, error.errno);
        }
        throw error;
      }
      throw fromNode(error, operation, 'setsockopt', `option '${name}' ${show(value)}: `);
    }
  }
}

// ---------------------------------------------------------------------------------------
// The transport

function newState(socket: dgram.Socket, family: Family, created: { reuseaddr: boolean; reuseport: boolean; v6only?: boolean }): State {
  const handle = internalHandle(socket);
  return {
    dgram: socket,
    family,
    fd: typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : -1,
    closed: false,
    queue: [],
    head: 0,
    queuedBytes: 0,
    dropped: 0,
    rcvbuf: socket.getRecvBufferSize(),
    waiters: [],
    serveScheduled: false,
    referenced: true,
    unrefScheduled: false,
    timerDue: 0,
    sends: new Set(),
    sendPending: 0,
    counters: { recv_oct: 0, recv_cnt: 0, recv_max: 0, recv_avg: 0, recv_dvi: 0, send_oct: 0, send_cnt: 0, send_max: 0, send_avg: 0 },
    buffer: 65536,
    reuseaddr: created.reuseaddr,
    reuseport: created.reuseport,
    v6only: created.v6only,
    broadcast: false,
    multicastLoop: true,
  };
}

function listen(port: number, options: ListenOptions = {}): DgramSocket {
  checkPort(port, 'listen');
  if (!isPlainObject(options)) throw badarg('listen', `options must be an object, got ${show(options)}`);
  const { ip, family: familyOption, fd, netns, inet_backend: backend, ...socketOptions } = options as ListenOptions;
  if (familyOption !== undefined && familyOption !== 'inet' && familyOption !== 'inet6' && familyOption !== 'local') {
    throw badarg('listen', `family must be 'inet', 'inet6' or 'local', got ${show(familyOption)}`);
  }
  if (familyOption === 'local' || isPlainObject(ip)) throw enotsup('listen', 'node:dgram has no unix datagram sockets');
  if (fd !== undefined && !isInt(fd, 0, INT_MAX)) throw badarg('listen', `fd must be a descriptor number, got ${show(fd)}`);
  if (netns !== undefined) {
    if (typeof netns !== 'string' || netns.includes('\0')) throw badarg('listen', `netns must be a path, got ${show(netns)}`);
    throw enotsup('listen', 'node:dgram cannot open a socket in another network namespace');
  }
  if (backend !== undefined && backend !== 'inet' && backend !== 'socket') {
    throw badarg('listen', `inet_backend must be 'inet' or 'socket', got ${show(backend)}`);
  }
  const family: Family = familyOption ?? (typeof ip === 'string' && isIP(ip) === 6 ? 'inet6' : 'inet');
  let address: string;
  if (ip === undefined || ip === 'any') address = family === 'inet6' ? '::' : '0.0.0.0';
  else if (ip === 'loopback') address = family === 'inet6' ? '::1' : '127.0.0.1';
  else address = ipFor(ip, family, 'listen');

  const { reuseaddr = true, reuseport, ipv6_v6only: v6only, ...rest } = socketOptions as Record<string, unknown>;
  // Creation-time options are checked like the others, before anything is made.
  plan(family, {
    reuseaddr,
    ...(reuseport !== undefined ? { reuseport } : {}),
    ...(v6only !== undefined ? { ipv6_v6only: v6only } : {}),
  }, 'listen');
  const planned = plan(family, rest, 'listen');
  if (fd === 0) throw enotsup('listen', 'node:dgram cannot adopt descriptor 0');

  const flags = { reuseaddr: reuseaddr as boolean, reuseport: reuseport === true, v6only: v6only as boolean | undefined };
  const socket = dgram.createSocket({
    type: family === 'inet6' ? 'udp6' : 'udp4',
    reuseAddr: flags.reuseaddr,
    ...(flags.v6only !== undefined ? { ipv6Only: flags.v6only } : {}),
    ...(flags.reuseport ? { reusePort: true } : {}),
    lookup: literalLookup as unknown as dgram.SocketOptions['lookup'],
  });
  let failure: unknown;
  let bound = false;
  const onBindError = (error: Error): void => { failure = error; };
  socket.on('error', onBindError);
  socket.once('listening', () => { bound = true; });
  try {
    if (fd !== undefined) socket.bind({ fd, exclusive: true });
    else socket.bind({ port, address, exclusive: true });
  } catch (error) {
    failure = error;
  }
  socket.removeListener('error', onBindError);
  if (failure !== undefined || !bound) {
    try {
      socket.close();
    } catch {
      // never bound
    }
    const error = failure as NodeJS.ErrnoException | undefined;
    if (error?.code === 'ERR_INVALID_FD_TYPE') throw sysError('listen', 'open', 'ENOTSOCK', `fd ${fd}: `);
    throw error ? fromNode(error, 'listen', fd !== undefined ? 'open' : 'bind') : new TransportError('einval', 'listen: bind did not complete', 'bind');
  }

  const state = newState(socket, family, flags);
  const handle = new DgramSocket();
  states.set(handle, state);
  socket.on('message', (data, info) => onMessage(state, data, info));
  socket.on('error', (error) => onError(state, error));
  socket.unref();
  state.referenced = false;
  try {
    apply(state, planned, 'listen');
  } catch (error) {
    shut(state);
    throw error;
  }
  return handle;
}

function shut(state: State): void {
  if (state.closed) return;
  state.closed = true;
  try {
    state.dgram.close();
  } catch {
    // already closed underneath
  }
  clearTimeout(state.timer);
  state.timer = undefined;
  state.queue.length = 0;
  state.head = 0;
  state.queuedBytes = 0;
  const closed = (): TransportError => new TransportError('closed', 'socket is closed');
  for (const waiter of state.waiters.splice(0)) settle(waiter).reject(closed());
  for (const pending of [...state.sends]) pending.reject(closed());
  state.sends.clear();
  state.sendPending = 0;
}

/** One datagram through node:dgram; `address` undefined: to the connected peer. */
function transmit(state: State, pieces: Buffer[], address: string | undefined, port: number, operation: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const bytes = byteLength(pieces);
    const pending: PendingSend = { bytes, reject };
    const done = (error: Error | null): void => {
      if (!state.sends.delete(pending)) return; // closed meanwhile: already rejected
      state.sendPending -= bytes;
      if (error) return reject(fromNode(error, operation, 'sendmsg'));
      countSent(state, bytes);
      resolve();
    };
    state.sends.add(pending);
    state.sendPending += bytes;
    try {
      if (address === undefined) state.dgram.send(pieces, done);
      else state.dgram.send(pieces, port, address, done);
    } catch (error) {
      state.sends.delete(pending);
      state.sendPending -= bytes;
      reject(fromNode(error, operation, 'sendmsg'));
    }
  });
}

/** Where a send goes: undefined for the connected peer. Throws what the call should reject with. */
function destination(state: State, address: unknown, port: unknown, operation: string): { ip?: string; port: number } {
  if (address === undefined) {
    if (!state.peer) throw sysError(operation, 'sendmsg', 'EDESTADDRREQ');
    return { port: 0 };
  }
  const ip = ipFor(address, state.family, operation);
  const checked = checkPort(port, operation);
  if (state.peer) {
    if (ip === state.peer.address && checked === state.peer.port) return { port: 0 };
    throw sysError(operation, 'sendmsg', 'EISCONN', 'node:dgram sends only to the peer of a connected socket: ');
  }
  if (checked === 0) throw sysError(operation, 'sendmsg', 'EINVAL', 'port 0: ');
  return { ip, port: checked };
}

const ANCILLARY_FIELDS = new Set(['tos', 'tclass', 'ttl', 'hoplimit', 'pktinfo', 'segmentSize']);

function checkAncillary(ancillary: unknown, operation: string): void {
  if (!isPlainObject(ancillary)) throw badarg(operation, `ancillary must be an object, got ${show(ancillary)}`);
  const keys = Object.keys(ancillary).filter((key) => ancillary[key] !== undefined);
  const unknown = keys.find((key) => !ANCILLARY_FIELDS.has(key));
  if (unknown !== undefined) throw badarg(operation, `unknown ancillary field '${unknown}'`);
  if (keys.length > 0) throw enotsup(operation, `node:dgram cannot send ancillary data (${keys.join(', ')})`);
}

function send(socket: DgramSocket, a: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<void> {
  let state: State;
  let address: unknown;
  let port: unknown = 0;
  let data: unknown;
  try {
    state = stateOf(socket, 'send');
    switch (arguments.length) {
      case 2:
        data = a;
        break;
      case 3:
        if (!isPlainObject(a)) throw badarg('send', `destination must be { address, port } or { local }, got ${show(a)}`);
        if (typeof a.local === 'string') address = a;
        else ({ address, port } = a);
        data = b;
        if (address === undefined) throw badarg('send', `destination must be { address, port }, got ${show(a)}`);
        break;
      case 4:
        address = a;
        port = b;
        data = c;
        break;
      case 5:
        address = a;
        port = b;
        data = d;
        checkAncillary(c, 'send');
        break;
      default:
        throw badarg('send', 'takes (socket, data), (socket, dest, data), (socket, address, port, data) or (socket, address, port, ancillary, data)');
    }
    if (state.closed) throw closedError('send');
    const pieces = flatten(data);
    if (!pieces) throw badarg('send', `data must be iodata (strings, Uint8Arrays, nested arrays of them), got ${show(data)}`);
    if (arguments.length > 2 && address === undefined) throw badarg('send', 'address is missing');
    const to = destination(state, address, port, 'send');
    return transmit(state, pieces, to.ip, to.port, 'send');
  } catch (error) {
    return Promise.reject(error);
  }
}

const MESSAGE_FIELDS = new Set(['address', 'port', 'data', 'ancillary']);

function sendBatch(socket: DgramSocket, messages: BatchMessage[]): Promise<number> {
  let state: State;
  const ready: { pieces: Buffer[]; ip?: string; port: number }[] = [];
  try {
    state = openState(socket, 'sendBatch');
    if (!Array.isArray(messages)) throw badarg('sendBatch', `messages must be an array, got ${show(messages)}`);
    // Every message is checked before the first goes out, so a bad one sends nothing.
    for (let index = 0; index < messages.length; index++) {
      const message: unknown = messages[index];
      const where = `message ${index}`;
      if (!isPlainObject(message)) throw badarg('sendBatch', `${where} must be { address, port, data, ancillary? }`);
      const unknown = Object.keys(message).find((key) => !MESSAGE_FIELDS.has(key));
      if (unknown !== undefined) throw badarg('sendBatch', `${where}: unknown field '${unknown}'`);
      const pieces = flatten(message.data);
      if (!pieces) throw badarg('sendBatch', `${where}: data must be iodata`);
      if (message.ancillary !== undefined) checkAncillary(message.ancillary, 'sendBatch');
      ready.push({ pieces, ...destination(state, message.address, message.port, 'sendBatch') });
    }
  } catch (error) {
    return Promise.reject(error);
  }
  // node:dgram queues them in order; the batch settles when the last one did.
  const sent = ready.map((message) => transmit(state, message.pieces, message.ip, message.port, 'sendBatch'));
  return Promise.all(sent).then(() => ready.length);
}

function getopts(socket: DgramSocket, names: OptionName[]): Partial<SocketOptions> {
  const state = openState(socket, 'getopts');
  if (!Array.isArray(names)) throw badarg('getopts', `names must be an array, got ${show(names)}`);
  const result: Record<string, unknown> = {};
  for (const name of names as unknown[]) {
    if (isPlainObject(name) && isPlainObject(name.raw)) throw enotsup('getopts', 'node:dgram has no raw socket options');
    if (typeof name !== 'string') throw badarg('getopts', `not an option name: ${show(name)}`);
    if (REFUSED.has(name)) throw badarg('getopts', `option '${name}' is refused: it would break the contract's datagram shape`);
    if (name === 'raw') throw badarg('getopts', 'raw is read as { raw: { level, option, length } }');
    const spec = Object.hasOwn(SPECS, name) ? SPECS[name] : undefined;
    if (!spec && !UNSUPPORTED.has(name) && !UNSUPPORTED_INET6.has(name)) throw badarg('getopts', `unknown option '${name}'`);
    if ((UNSUPPORTED_INET6.has(name) || spec?.only === 'inet6') && state.family === 'inet') {
      throw sysError('getopts', 'getsockopt', 'EINVAL', `option '${name}' is for IPv6 sockets: `);
    }
    if (!spec) throw enotsup('getopts', `option '${name}' is not available through node:dgram`);
    if (!spec.get) throw sysError('getopts', 'getsockopt', 'EINVAL', `option '${name}' can only be set: `);
    const why = spec.unsupported?.(state.family, undefined);
    if (why) throw enotsup('getopts', `option '${name}': ${why}`);
    try {
      result[name] = spec.get(state);
    } catch (error) {
      throw fromNode(error, 'getopts', 'getsockopt', `option '${name}': `);
    }
  }
  return result as Partial<SocketOptions>;
}

function getstat(socket: DgramSocket): SocketStats {
  const state = openState(socket, 'getstat');
  const c = state.counters;
  const proc = procStats(state.fd, state.family);
  let sendQueue = 0;
  try {
    sendQueue = state.dgram.getSendQueueSize();
  } catch {
    // older Node
  }
  const kernel: KernelStats = {
    rx_queue: state.queuedBytes,
    tx_queue: sendQueue,
    drops: (proc?.drops ?? 0) + state.dropped,
    rmem_alloc: proc?.rmem ?? 0,
    rcvbuf: state.dgram.getRecvBufferSize(),
    wmem_alloc: proc?.wmem ?? 0,
    sndbuf: state.dgram.getSendBufferSize(),
    fwd_alloc: 0,
    wmem_queued: 0,
    optmem: 0,
    backlog: 0,
  };
  return {
    recv_oct: c.recv_oct,
    recv_cnt: c.recv_cnt,
    recv_max: c.recv_max,
    recv_avg: Math.trunc(c.recv_avg),
    recv_dvi: Math.trunc(Math.abs(c.recv_dvi)),
    send_oct: c.send_oct,
    send_cnt: c.send_cnt,
    send_max: c.send_max,
    send_avg: Math.trunc(c.send_avg),
    send_pend: state.sendPending,
    kernel,
  };
}

function info(raw: { address: string; family: string; port: number }): SocketInfo {
  return { address: raw.address, family: raw.family === 'IPv6' ? 'IPv6' : 'IPv4', port: raw.port };
}

function connect(socket: DgramSocket, address: string, port: number): void {
  const state = openState(socket, 'connect');
  const ip = ipFor(address, state.family, 'connect');
  checkPort(port, 'connect');
  if (port === 0) throw enotsup('connect', 'node:dgram cannot connect to port 0');
  if (state.peer) {
    state.dgram.disconnect();
    state.peer = undefined;
  }
  let connected = false;
  // The outcome of a failed connect comes on the next tick: it was read here already.
  try {
    state.dgram.connect(port, ip, () => undefined);
  } catch (error) {
    throw fromNode(error, 'connect', 'connect');
  }
  try {
    state.dgram.remoteAddress();
    connected = true;
  } catch {
    // failed inside the call: learn why from the same connect on the handle
  }
  if (connected) {
    state.peer = { address: ip, port };
    return;
  }
  const handle = internalHandle(state.dgram);
  const attempt = state.family === 'inet6' ? handle?.connect6 : handle?.connect;
  const status = typeof attempt === 'function' ? attempt.call(handle, ip, port) : -22;
  if (status === 0) {
    // The kernel took it the second time: undo, the socket stays as node:dgram sees it.
    try {
      (handle as unknown as { disconnect(): number }).disconnect();
    } catch {
      // nothing to undo
    }
  }
  const code = status < 0 ? getSystemErrorMap().get(status)?.[0] ?? 'EINVAL' : 'EINVAL';
  throw sysError('connect', 'connect', code);
}

/** The transport contract on node:dgram. See the top of this file for what differs from UDP. */
export const DgramUDP = {
  listen,
  open: listen,
  connect,
  controllingProcess(socket: DgramSocket, owner: Worker | number): void {
    openState(socket, 'controllingProcess');
    const target = owner instanceof Worker ? owner.threadId : owner;
    if (!isInt(target, 0, Number.MAX_SAFE_INTEGER)) {
      throw badarg('controllingProcess', `owner must be a live Worker or a threadId, got ${show(owner instanceof Worker ? 'an exited Worker' : owner)}`);
    }
    if (target === threadId) return;
    throw enotsup('controllingProcess', 'a node:dgram socket cannot move to another thread');
  },
  recv(socket: DgramSocket, numBytes: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData> {
    try {
      return receive(socket, checkCount(numBytes, 0, 'recv', 'numBytes'), 0, timeout, options) as Promise<RecvData>;
    } catch (error) {
      return Promise.reject(error);
    }
  },
  recvBatch(socket: DgramSocket, max: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData[]> {
    try {
      return receive(socket, 0, checkCount(max, 1, 'recvBatch', 'max'), timeout, options) as Promise<RecvData[]>;
    } catch (error) {
      return Promise.reject(error);
    }
  },
  send: send as Transport<DgramSocket>['send'],
  sendBatch,
  getopts,
  setopts(socket: DgramSocket, options: SocketOptions): void {
    const state = openState(socket, 'setopts');
    if (!isPlainObject(options)) throw badarg('setopts', `options must be an object, got ${show(options)}`);
    apply(state, plan(state.family, options as Record<string, unknown>, 'setopts'), 'setopts');
  },
  close(socket: DgramSocket): void {
    shut(stateOf(socket, 'close'));
  },
  sockname(socket: DgramSocket): SocketInfo {
    const state = openState(socket, 'sockname');
    try {
      return info(state.dgram.address());
    } catch (error) {
      throw fromNode(error, 'sockname', 'getsockname');
    }
  },
  peername(socket: DgramSocket): SocketInfo {
    const state = openState(socket, 'peername');
    if (!state.peer) throw sysError('peername', 'getpeername', 'ENOTCONN');
    try {
      return info(state.dgram.remoteAddress());
    } catch (error) {
      throw fromNode(error, 'peername', 'getpeername');
    }
  },
  getstat,
  negotiatedProtocol(socket: DgramSocket): string {
    openState(socket, 'negotiatedProtocol');
    throw new TransportError('protocol_not_negotiated', 'negotiatedProtocol: plain UDP negotiates no protocol');
  },
} satisfies Transport<DgramSocket> & Record<string, unknown>;
