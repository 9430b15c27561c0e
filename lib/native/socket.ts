import os from 'node:os';
import { countReceived } from '../contract/counters';
import { byteLength, type Piece } from '../contract/iodata';
import type { RecvArena } from '../contract/arena';
import { ContractSocket } from '../contract/socket';
import { WaitLine, abortedError, timeoutError } from '../contract/waiters';
import { TransportError, badarg, closedError, notOwnerError, systemError } from '../errors';
import type { Active, Coalesce, RecvData, SocketFamily, SocketHandoff, Transport } from '../types';
import { AF_INET6, AF_UNIX, SYSCALLS, awaitTurnEnd, shared, threadReadiness, type NativeSocket } from './binding';
import {
  MAX_BATCH, READABLE, RECORD_PIECES, RECORD_PRESENT, RECORD_STRIDE, SEND_RECORDS, STATUS_SYSCALL, STATUS_TURN,
  WATCH_BUSY, WATCH_DISPATCHING, WATCH_EVENTS, WRITABLE,
} from './protocol';
import { cut, readInto, readRecords } from './records';
import { UDP } from './udp';

/** The longest pause between retries of a send the kernel keeps refusing. */
const MAX_RETRY_DELAY = 64;
const { EAGAIN, EBADF } = os.constants.errno;

const { sendRecords, status } = shared;
/** The send record the facade checks a send's ancillary data into (the sends read 0…MAX_BATCH-1). */
export const CHECK_RECORD = (SEND_RECORDS - 1) * RECORD_STRIDE;

/** A failed native call: its result is -errno, the system call is in the status record. */
export function nativeError(operation: string, result: number): TransportError {
  return systemError(operation, SYSCALLS[status[STATUS_SYSCALL]], -result);
}

/**
 * A failed read-only call, which any thread may make: EBADF means its owner closed the socket
 * meanwhile.
 */
export function readError(operation: string, errno: number, detail?: string): TransportError {
  return errno === EBADF ? closedError(operation) : systemError(operation, SYSCALLS[status[STATUS_SYSCALL]], errno, detail);
}

/** A datagram to send, as the facade flattened and checked it. */
export interface OutgoingDatagram {
  pieces: Piece | Piece[];
  /** An IP literal or a unix path; undefined on a connected socket. */
  destination: string | undefined;
  port: number;
  /** Its send record, when it carries ancillary data; pktinfo's address beside it. */
  record: Int32Array | undefined;
  pktinfoAddress: string | undefined;
}

/** sendBatch's messages, flattened: message i is record i, its pieces follow the previous one's. */
export interface OutgoingBatch {
  pieces: Piece[];
  /** Per message: its destination and its pktinfo address (undefined where none). */
  texts: (string | undefined)[];
  /** Per message, a send record (protocol.ts RECORD_*), with its piece count and port. */
  records: Int32Array;
  count: number;
}

interface PendingSend {
  /** Its destination is a host name still being resolved: it keeps its place in line. */
  waiting?: boolean;
  datagram?: OutgoingDatagram;
  /** For a batch: the messages, how many went out so far, and where the next one's pieces start. */
  batch?: OutgoingBatch;
  sent: number;
  nextPiece: number;
  bytes: number;
  /** A batch resolves with how many went out, a single send with nothing. */
  resolve(value: number | undefined): void;
  reject(error: TransportError): void;
}

const FAMILY_NAMES: Record<number, SocketFamily> = { [AF_UNIX]: 'local', [AF_INET6]: 'inet6' };

/**
 * A socket of the native transport (seed `socket()` and `listener_socket()`), as `UDP.listen`,
 * `UDP.open` and `UDP.adopt` make it: an opaque handle that is also the contract's calls as
 * methods, an async iterable of its datagrams, disposable, and in active mode an emitter of
 * the {@link SocketEvents} (`'udp'`, `'udp_passive'`, `'udp_error'`). It is not constructed
 * directly. `F` is its family: `Socket<'local'>` for a unix datagram socket.
 *
 * @example
 * const socket = UDP.listen(5300, { active: true });
 * socket.on('udp', ({ address, port, data }) => socket.send(address, port, data));
 */
export class Socket<F extends SocketFamily = SocketFamily> extends ContractSocket<F> {
  /** @internal */
  readonly native: NativeSocket;
  #owned = true;
  /**
   * This thread closed it. While this thread owns the socket nothing else can close it, so
   * the hot paths read this instead of asking the native side.
   */
  #shut = false;
  #handedRef?: SocketHandoff;
  /**
   * Datagrams read ahead: #queue[#head…#tail). The array is reused, not replaced, when it
   * empties: a fresh one per read would allocate its backing store for every datagram.
   */
  #queue: (RecvData | undefined)[] = [];
  #head = 0;
  #tail = 0;
  readonly #waiters = new WaitLine(() => this.#updateWatch());
  #sends: PendingSend[] = [];
  #watching = 0;
  /** The native side holds this socket while something waits on it (see #updateWatch). */
  #held = false;
  /**
   * The last read found the kernel queue empty. The poll is level-triggered, so a waiting
   * call can go straight to waiting instead of spending a system call to learn that again.
   */
  #drained = false;
  /**
   * The loop turn of the last read. A socket reads the kernel at most once per turn (one
   * batch, as inet reads read_packets per readiness), so a flood cannot keep the loop here:
   * what is left waits a turn, while timers and other sockets get theirs.
   */
  #readTurn = -1;
  /** An error the kernel reported while nobody was reading; the next recv rejects with it. */
  #pendingError?: TransportError;
  readonly #counters: Float64Array;
  readonly #watchCells: Int32Array;
  #active: Active = false;
  #retryDelay = 0;
  #retryTimer?: NodeJS.Timeout;
  /** @internal the receive-side ancillary options that are on */
  readonly receiveOptions = new Set<string>();
  /** @internal what the receive-side ancillary options that are on make datagrams report (records.ts `receiving`); 0: none is on */
  ancillary = 0;
  /** @internal inet's read_packets: datagrams read per system call */
  readPackets = 32;
  /** @internal the `coalesce` option, which the native side applies */
  coalesce: Coalesce | false = false;
  /** @internal inet's buffer: the most bytes of a datagram that recv(…, 0, …) returns */
  buffer: number;
  /** @internal bytes of sends waiting for room in the kernel */
  sendPending = 0;

  /** @internal `carry`: datagrams the previous owner had already read from the kernel. */
  constructor(native: NativeSocket, carry: RecvData[] = []) {
    super();
    this.native = native;
    this.#counters = native.counters;
    this.#watchCells = native.watchCells;
    this.#queue = carry;
    this.#tail = carry.length;
    this.buffer = native.family === AF_UNIX ? 16 * 1024 * 1024 : 65536;
    native.socket = this;
  }

  /** @internal A real Socket, not an object made from its prototype. */
  static is(value: unknown): value is Socket {
    return typeof value === 'object' && value !== null && #owned in value;
  }

  /**
   * The kernel descriptor; -1 once closed.
   *
   * @example
   * UDP.listen(0).fd; // 23
   */
  get fd(): number {
    return this.native.fd;
  }

  /**
   * Whether the socket is closed (by this thread, or by the thread that owns it now).
   *
   * @example
   * socket.close();
   * socket.closed; // true
   */
  get closed(): boolean {
    return this.native.closed;
  }

  /**
   * The socket's family: `'inet'`, `'inet6'` or `'local'`.
   *
   * @example
   * UDP.listen(0, { ip: '::1' }).family; // 'inet6'
   */
  get family(): F {
    return (FAMILY_NAMES[this.native.family] ?? 'inet') as F;
  }

  /** @internal */
  protected get transport(): Transport<ContractSocket<F>> {
    return UDP as unknown as Transport<ContractSocket<F>>;
  }

  /**
   * The hand-over token ({@link SocketHandoff}) the thread this socket was handed to passes to
   * `UDP.adopt`: read it after `controllingProcess` (it then carries the datagrams this thread
   * had read ahead and the socket's active mode) and post it to that thread.
   *
   * @example
   * UDP.controllingProcess(socket, worker);
   * worker.postMessage({ handoff: socket.handoff });
   */
  get handoff(): SocketHandoff {
    return this.#handedRef ?? this.#handoff([]);
  }

  /** The hand-over token: the socket's id, what travels with it (`carry`, `active`) and its own options. */
  #handoff(carry: RecvData[], active?: Active): SocketHandoff {
    const fields = { abyssSocket: this.native.id, carry, buffer: this.buffer, readPackets: this.readPackets, active, coalesce: this.coalesce };
    return fields as SocketHandoff;
  }

  ref(): this {
    this.native.keepAlive(true);
    return this;
  }

  unref(): this {
    this.native.keepAlive(false);
    return this;
  }

  /**
   * The active mode now (see {@link Active}): `false`, `true`, `'once'`, or the count of
   * datagrams still to emit; what `getopts(['active'])` reads.
   *
   * @example
   * const socket = UDP.listen(0, { active: 3 });
   * socket.active; // 3, then 2 after the first 'udp' event
   */
  get active(): Active {
    return this.#active;
  }

  /** @internal Throws `closed` or `not_owner` unless this thread may change the socket. */
  assertOwner(operation: string): void {
    if (this.#owned && !this.#shut) return;
    if (this.native.closed) throw closedError(operation);
    throw notOwnerError(operation);
  }

  /** @internal recv (batch 0), recvBatch (batch = max) and recvInto (`into`, batch = its slots). */
  receive(numBytes: number, batch: number, timeout: number, signal?: AbortSignal): Promise<RecvData | RecvData[]>;
  /** @internal recvInto's: into `into`, resolving with how many datagrams it holds. */
  receive(numBytes: number, batch: number, timeout: number, signal: AbortSignal | undefined, into: RecvArena): Promise<number>;
  receive(numBytes: number, batch: number, timeout: number, signal?: AbortSignal, into?: RecvArena): Promise<RecvData | RecvData[] | number> {
    const operation = into ? 'recvInto' : batch ? 'recvBatch' : 'recv';
    try {
      this.assertOwner(operation);
      if (this.#active !== false) {
        throw new TransportError('einval', `${operation}: the socket is in active mode`);
      }
      if (signal?.aborted) throw abortedError(operation, signal);
      if (this.#waiters.length === 0) {
        const error = this.#pendingError;
        if (error) {
          this.#pendingError = undefined;
          throw error;
        }
        // `timeout` 0 polls once: it may read even when this turn's read is spent.
        if (timeout === 0 || this.#head < this.#tail || (!this.#drained && this.#mayRead())) {
          const ready = into ? this.#takeInto(into, timeout === 0) : this.#take(numBytes, batch, timeout === 0);
          if (ready !== undefined) return Promise.resolve(ready);
        }
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (timeout === 0) return Promise.reject(timeoutError(operation));
    return this.#waiters.wait(numBytes, batch, timeout, signal, undefined, into).promise;
  }

  /** This turn's read is not spent yet. */
  #mayRead(): boolean {
    return this.#readTurn !== status[STATUS_TURN];
  }

  /**
   * Spends this turn's read. The addon's readiness thread counts a turn only when asked
   * (binding.ts awaitTurnEnd), as libuv's loop counts every turn.
   */
  #spendRead(): void {
    this.#readTurn = status[STATUS_TURN];
    if (threadReadiness) awaitTurnEnd();
  }

  /**
   * The next datagram (or batch) from the queue, reading the kernel when it is empty and this
   * turn's read is not spent (`poll`: regardless). A batch fills up to its size.
   */
  #take(numBytes: number, batch: number, poll = false): RecvData | RecvData[] | undefined {
    if (this.#head === this.#tail) {
      if ((!poll && !this.#mayRead()) || !this.#fill(Math.max(batch, this.readPackets))) return undefined;
    }
    if (batch === 0) return this.#deliver(numBytes || this.buffer);
    const records: RecvData[] = [];
    while (records.length < batch) {
      if (this.#head === this.#tail) {
        // The kernel queue ran dry at the last read: what came since waits for the next call.
        if (this.#drained || !this.#fill(Math.max(batch - records.length, this.readPackets))) break;
      }
      records.push(this.#deliver(this.buffer));
    }
    return records;
  }

  /**
   * Fills `arena`: from the queue when datagrams were read ahead (copied), else with one read
   * of the kernel straight into its memory, when this turn's read is not spent (`poll`:
   * regardless). How many datagrams it holds; undefined when none came.
   */
  #takeInto(arena: RecvArena, poll = false): number | undefined {
    arena.begin();
    while (this.#head < this.#tail && arena.freeSlots > 0) {
      const record = this.#shift();
      countReceived(this.#counters, Math.min(record.data.length, arena.slotSize));
      arena.addCopy(record);
    }
    if (arena.count > 0) return arena.count;
    if (!poll && !this.#mayRead()) return undefined;
    if (arena.data.byteLength !== arena.slots * arena.slotSize) {
      throw badarg('recvInto', "the arena's memory is gone (its ArrayBuffer was transferred)");
    }
    this.#spendRead();
    const count = this.native.recvInto(arena.data, arena.slotSize, arena.slots);
    if (count < 0) throw nativeError('recvInto', count);
    this.#drained = count < arena.slots;
    if (count === 0) return undefined;
    readInto(arena, count, this.ancillary, this.#counters);
    return arena.count;
  }

  /** The next queued datagram, cut to `limit` bytes and counted as inet counts what it hands out. */
  #deliver(limit: number): RecvData {
    const record = cut(this.#shift(), limit);
    countReceived(this.#counters, record.data.length);
    return record;
  }

  #shift(): RecvData {
    const record = this.#queue[this.#head]!;
    // Let go of it: the array outlives its datagrams.
    this.#queue[this.#head++] = undefined;
    if (this.#head === this.#tail) {
      this.#head = 0;
      this.#tail = 0;
    }
    return record;
  }

  /** One system call for up to `wanted` datagrams; false when none was waiting. */
  #fill(wanted: number): boolean {
    const max = Math.min(wanted, MAX_BATCH);
    this.#spendRead();
    const bytes = this.native.recv(max);
    if (typeof bytes === 'number') {
      if (bytes < 0) throw nativeError('recv', bytes);
      this.#drained = true;
      return false;
    }
    const before = this.#tail;
    this.#tail = readRecords(bytes, this.ancillary, this.#queue, before);
    this.#drained = this.#tail - before < max;
    return true;
  }

  /** @internal Called by the binding when the descriptor is ready, or reports an error. */
  onReady(events: number, errno: number): void {
    if (this.#shut) return;
    if (errno !== 0) this.#reportError(systemError('recv', 'recvmsg', errno));
    // Readable with nobody to serve: stop watching, or a level-triggered poll keeps firing.
    const unwanted = (events & READABLE) !== 0 && this.#waiters.length === 0 && this.#active === false;
    if (events & READABLE) {
      this.#drained = false;
      if (this.#active !== false) this.#deliverActive();
      else this.#serveWaiters();
    }
    if (events & WRITABLE) this.#flushSends();
    this.#updateWatch(unwanted);
  }

  /** An error of the socket itself (ICMP): the next recv rejects with it, or active mode emits it. */
  #reportError(error: TransportError): void {
    if (this.#active !== false) {
      this.emit('udp_error', error);
    } else if (this.#waiters.length > 0) {
      this.#waiters.shift().reject(error);
    } else {
      this.#pendingError = error;
    }
  }

  #serveWaiters(): void {
    for (let waiter = this.#waiters.first; waiter !== undefined; waiter = this.#waiters.first) {
      let result: RecvData | RecvData[] | number | undefined;
      try {
        result = waiter.into ? this.#takeInto(waiter.into) : this.#take(waiter.numBytes, waiter.batch);
      } catch (error) {
        this.#waiters.shift().reject(error as TransportError);
        continue;
      }
      if (result === undefined) return;
      this.#waiters.shift().resolve(result);
    }
  }

  /** @internal inet's active option: true, 'once', N (added to the count), or false. */
  setActive(value: Active): void {
    this.#active = this.nextActive(this.#active, value);
    if (this.#active === false) return this.#updateWatch();
    this.#waiters.rejectAll(() => new TransportError('einval', 'recv: the socket was put in active mode'));
    if (this.#head < this.#tail) setImmediate(() => this.#deliverActive());
  }

  /** Emits queued datagrams, and one read's worth from the kernel per turn, while active. */
  #deliverActive(): void {
    while (this.#active !== false && !this.#shut) {
      // Read no further ahead than the datagrams still wanted: the rest wait in the kernel.
      const remaining = typeof this.#active === 'number' ? this.#active : this.#active === 'once' ? 1 : this.readPackets;
      let record: RecvData | undefined;
      try {
        if (this.#head === this.#tail && (!this.#mayRead() || !this.#fill(Math.min(remaining, this.readPackets)))) break;
        record = this.#deliver(this.buffer);
      } catch (error) {
        this.emit('udp_error', error as TransportError);
        break;
      }
      if (this.#active === 'once' || this.#active === 1) {
        // As inet: {udp_passive, S} when a count N runs out, never after {active, once}.
        const counted = this.#active === 1;
        this.#active = false;
        this.emit('udp', record);
        if (counted) this.emit('udp_passive', this);
      } else {
        if (typeof this.#active === 'number') this.#active--;
        this.emit('udp', record);
      }
    }
    this.#updateWatch();
  }

  /** @internal One datagram; waits for room in the kernel when the send buffer is full. */
  transmit(datagram: OutgoingDatagram): Promise<void> {
    try {
      this.assertOwner('send');
      if (this.#sends.length === 0 && this.#sendNow(datagram)) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueueSend({ datagram, sent: 0, nextPiece: 0, bytes: byteLength(datagram.pieces) }) as Promise<unknown> as Promise<void>;
  }

  /** One sendmsg; false when the send buffer is full. */
  #sendNow({ pieces, destination, port, record, pktinfoAddress }: OutgoingDatagram): boolean {
    if (record) sendRecords.set(record, 0);
    else sendRecords[RECORD_PRESENT] = 0;
    const result = this.native.send(pieces, destination, port, pktinfoAddress);
    if (result >= 0) return true;
    if (result === -EAGAIN) return false;
    throw nativeError('send', result);
  }

  /**
   * @internal A send or batch to a host name: it takes its place in line now, so that sends
   * after it stay after it, and goes out once `ready` says where to.
   */
  transmitWhenResolved(ready: Promise<{ datagram: OutgoingDatagram } | { batch: OutgoingBatch }>, bytes: number, operation: string): Promise<number | undefined> {
    try {
      this.assertOwner(operation);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const pending: PendingSend = { waiting: true, sent: 0, nextPiece: 0, bytes, resolve, reject };
      this.#sends.push(pending);
      this.sendPending += bytes;
      this.#updateWatch();
      const settled = (error?: TransportError, fields?: object): void => {
        // Closed or handed over meanwhile: already rejected.
        const index = this.#sends.indexOf(pending);
        if (index < 0) return;
        if (error) {
          this.#sends.splice(index, 1);
          this.sendPending -= bytes;
          reject(error);
        } else {
          Object.assign(pending, fields, { waiting: false });
        }
        this.#flushSends();
        this.#updateWatch();
      };
      ready.then((fields) => settled(undefined, fields), (error: TransportError) => settled(error));
    });
  }

  /** @internal Messages in order, one sendmmsg per up to MAX_BATCH of them. */
  transmitBatch(batch: OutgoingBatch): Promise<number> {
    const pending = { batch, sent: 0, nextPiece: 0, bytes: 0 };
    try {
      this.assertOwner('sendBatch');
      if (this.#sends.length === 0 && this.#sendBatchStep(pending)) return Promise.resolve(batch.count);
    } catch (error) {
      return Promise.reject(error);
    }
    // The pieces not sent yet are the messages not sent yet.
    pending.bytes = byteLength(batch.pieces.slice(pending.nextPiece));
    return this.#enqueueSend(pending) as Promise<number>;
  }

  /** Sends what the kernel takes now; true when the whole batch is out. */
  #sendBatchStep(pending: Omit<PendingSend, 'resolve' | 'reject'>): boolean {
    const batch = pending.batch!;
    while (pending.sent < batch.count) {
      const start = pending.sent;
      const count = Math.min(batch.count - start, MAX_BATCH);
      sendRecords.set(batch.records.subarray(start * RECORD_STRIDE, (start + count) * RECORD_STRIDE), 0);
      const sent = this.native.sendBatch(batch.pieces, pending.nextPiece, batch.texts, start, count);
      if (sent === -EAGAIN) return false;
      if (sent < 0) throw nativeError('sendBatch', sent);
      for (let i = start; i < start + sent; i++) pending.nextPiece += batch.records[i * RECORD_STRIDE + RECORD_PIECES];
      pending.sent += sent;
    }
    return true;
  }

  #enqueueSend(pending: Omit<PendingSend, 'resolve' | 'reject'>): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      this.#sends.push({ ...pending, resolve, reject });
      this.sendPending += pending.bytes;
      this.#updateWatch();
    });
  }

  #flushSends(): void {
    let progressed = false;
    while (this.#sends.length > 0) {
      const pending = this.#sends[0];
      if (pending.waiting) return;
      try {
        if (pending.batch) {
          const before = pending.sent;
          const done = this.#sendBatchStep(pending);
          progressed ||= pending.sent > before;
          if (!done) return this.#backOff(progressed);
        } else if (!this.#sendNow(pending.datagram!)) {
          return this.#backOff(progressed);
        }
      } catch (error) {
        this.#sends.shift();
        this.sendPending -= pending.bytes;
        pending.reject(error as TransportError);
        continue;
      }
      progressed = true;
      this.#sends.shift();
      this.sendPending -= pending.bytes;
      pending.resolve(pending.batch ? pending.batch.count : undefined);
    }
    this.#retryDelay = 0;
  }

  /**
   * The kernel said writable, yet the send still had no room: an unconnected unix socket
   * is writable while its peer's queue is full. Retry on a growing timer instead of spinning.
   */
  #backOff(progressed: boolean): void {
    this.#retryDelay = progressed ? 0 : Math.min(Math.max(1, this.#retryDelay * 2), MAX_RETRY_DELAY);
    if (this.#retryDelay === 0) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#flushSends();
      this.#updateWatch();
    }, this.#retryDelay);
  }

  /**
   * Watches for what a waiting call needs. Reading stays watched after the last waiter is
   * served, so a busy socket does not pay two epoll_ctl calls per wait; it is dropped when a
   * readable event finds nobody waiting. While anything waits (a call, active mode, a send)
   * the native side holds this socket, so that it outlives every reference the program has,
   * as a libuv handle keeps a node:dgram socket; otherwise a collected socket is closed.
   */
  #updateWatch(idle = false): void {
    if (this.#shut || !this.#owned) return;
    const receiving = this.#waiters.length > 0 || this.#active !== false;
    const busy = receiving || this.#sends.length > 0;
    const sending = this.#sends.length > 0 && !this.#sends[0].waiting && this.#retryTimer === undefined;
    const wanted = (receiving ? READABLE : 0) | (sending ? WRITABLE : 0);
    const next = idle ? wanted : wanted | (this.#watching & READABLE);
    if (next === this.#watching && busy === this.#held) return;
    this.#watching = next;
    this.#held = busy;
    const cells = this.#watchCells;
    cells[WATCH_EVENTS] = next;
    cells[WATCH_BUSY] = busy ? 1 : 0;
    // Inside onReady the native side applies the cells when the callback returns: a served
    // recv whose caller waits again at once costs no system call at all.
    if (cells[WATCH_DISPATCHING] === 1) return;
    const result = this.native.watch();
    if (result < 0) this.#failPending(() => nativeError('recv', result));
  }

  /** @internal Applies the `coalesce` option (checked) in the native side. */
  setCoalesce(value: Coalesce | false): void {
    const result = this.native.coalesce(value === false ? 0 : value.usecs, value === false ? 0 : value.packets ?? 0);
    if (result < 0) throw nativeError('setopts', result);
    this.coalesce = value;
  }

  /** @internal Hands the socket to `thread`: pending calls here fail `not_owner`. */
  handOver(thread: number, mayBeLoading: boolean): boolean {
    if (this.native.handOver(thread, mayBeLoading) !== 0) return false;
    this.#owned = false;
    this.#watching = 0;
    this.#held = false;
    // The mode travels with the socket, as with inet's controlling_process.
    this.#handedRef = this.#handoff(this.#queue.slice(this.#head, this.#tail) as RecvData[], this.#active);
    this.#active = false;
    this.#queue = [];
    this.#head = 0;
    this.#tail = 0;
    this.#failPending(() => new TransportError('not_owner', 'the socket was handed to another thread'));
    return true;
  }

  #failPending(error: () => TransportError): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    for (const pending of this.#sends.splice(0)) pending.reject(error());
    this.sendPending = 0;
    this.#waiters.rejectAll(error);
  }

  /** @internal Closes the descriptor and rejects every pending call with `closed`. */
  shut(): void {
    if (this.native.closed) return;
    this.assertOwner('close');
    this.native.close();
    this.#shut = true;
    this.#watching = 0;
    this.#held = false;
    this.#queue = [];
    this.#head = 0;
    this.#tail = 0;
    this.#active = false;
    this.#failPending(() => new TransportError('closed', 'socket is closed'));
  }
}
