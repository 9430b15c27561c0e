import { EventEmitter } from 'node:events';
import { writeAncillary } from './ancillary';
import { C, type NativeSocket } from './binding';
import { TransportError, closedError } from './errors';
import { ioLength } from './iodata';
import { countReceived, cut, readRecords } from './records';
import type { Active, Address, BatchMessage, RecvData, SendAncillary, SocketRef } from './types';

/** setTimeout's limit: a longer wait is re-armed in steps of it. */
const MAX_TIMER = 2 ** 31 - 1;
const { READABLE, WRITABLE, MAX_BATCH } = C;
/** The longest pause between retries of a send the kernel keeps refusing. */
const MAX_RETRY_DELAY = 64;

/**
 * A native send is under way on this thread. Its arguments are read while the send records
 * and the native scratch buffers hold it, and a getter among them may itself send: that
 * nested send waits in its socket's queue rather than overwrite them.
 */
let sending = false;

interface Waiter {
  /** 0: whole datagrams; n: at most n bytes of one. */
  numBytes: number;
  /** 0 for recv; the most datagrams for recvBatch. */
  batch: number;
  resolve(value: RecvData | RecvData[]): void;
  reject(error: TransportError): void;
  /** performance.now() by which it times out; Infinity: never. */
  deadline: number;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface PendingSend {
  data: unknown;
  address: Address | undefined;
  port: number;
  ancillary: SendAncillary | undefined;
  /** For a batch: the messages and how many went out so far. */
  messages?: readonly BatchMessage[];
  sent: number;
  bytes: number;
  /** A batch resolves with how many went out, a single send with nothing. */
  resolve(value: number | undefined): void;
  reject(error: TransportError): void;
}

/** Stops a waiter's abort listener; returns it to be resolved or rejected. */
function settle(waiter: Waiter): Waiter {
  if (waiter.onAbort) waiter.signal!.removeEventListener('abort', waiter.onAbort);
  return waiter;
}

function abortedError(operation: string, signal: AbortSignal): TransportError {
  const error = new TransportError('aborted', `${operation}: aborted`);
  (error as Error).cause = signal.reason;
  return error;
}

function timeoutError(operation: string): TransportError {
  return new TransportError('timeout', `${operation}: nothing arrived in time`);
}

/**
 * A datagram socket (seed `socket()` and `listener_socket()`). Emits `'udp'` with a
 * RecvData and `'udp_passive'` in active mode, `'udp_error'` when a read fails then.
 */
export class Socket extends EventEmitter {
  /** @internal */
  readonly native: NativeSocket;
  #owned = true;
  /**
   * This thread closed it. While this thread owns the socket nothing else can close it, so
   * the hot paths read this instead of asking the native side.
   */
  #shut = false;
  #handedRef?: SocketRef;
  #queue: RecvData[] = [];
  #head = 0;
  #waiters: Waiter[] = [];
  #sends: PendingSend[] = [];
  #watching = 0;
  /**
   * The last read found the kernel queue empty. The poll is level-triggered, so a waiting
   * call can go straight to waiting instead of spending a system call to learn that again.
   */
  #drained = false;
  readonly #counters: Float64Array;
  #active: Active = false;
  #retryDelay = 0;
  #retryTimer?: NodeJS.Timeout;
  #timer?: NodeJS.Timeout;
  /** The deadline #timer was armed for. */
  #timerDue = Infinity;
  /** @internal the receive-side ancillary options that are on */
  readonly receiveOptions = new Set<string>();
  /** @internal a receive-side ancillary option is on */
  ancillary = false;
  /** @internal inet's read_packets: datagrams read per system call */
  readPackets = 32;
  /** @internal inet's buffer: the most bytes of a datagram that recv(…, 0, …) returns */
  buffer: number;
  /** @internal bytes of sends waiting for room in the kernel */
  sendPending = 0;

  /** @internal `carry`: datagrams the previous owner had already read from the kernel. */
  constructor(native: NativeSocket, carry: RecvData[] = []) {
    super();
    this.native = native;
    this.#counters = native.counters;
    this.#queue = carry;
    this.buffer = native.family === 'local' ? 16 * 1024 * 1024 : 65536;
    native.socket = this;
  }

  /** @internal A real Socket, not an object made from its prototype. */
  static is(value: unknown): value is Socket {
    return typeof value === 'object' && value !== null && #owned in value;
  }

  get fd(): number {
    return this.native.fd;
  }

  get closed(): boolean {
    return this.native.closed;
  }

  /**
   * What another thread passes to `UDP.adopt` after `controllingProcess` handed it the
   * socket: structured-cloneable, it carries the datagrams this thread had already read.
   */
  get ref(): SocketRef {
    return this.#handedRef ?? { abyssSocket: this.native.id, carry: [], buffer: this.buffer, readPackets: this.readPackets };
  }

  get active(): Active {
    return this.#active;
  }

  /** Datagrams as they come, until the socket is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<RecvData> {
    for (;;) {
      try {
        yield (await this.receive(0, 0, Infinity)) as RecvData;
      } catch (error) {
        if ((error as TransportError).reason === 'closed') return;
        throw error;
      }
    }
  }

  /** `await using socket = UDP.listen(…)` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.shut();
  }

  [Symbol.dispose](): void {
    this.shut();
  }

  /** @internal Throws `closed` or `not_owner` unless this thread may change the socket. */
  assertOwner(operation: string): void {
    if (this.#owned && !this.#shut) return;
    if (this.native.closed) throw closedError(operation);
    throw new TransportError('not_owner', `${operation}: this thread does not own the socket`);
  }

  /** @internal recv (batch 0) and recvBatch (batch = max). */
  receive(numBytes: number, batch: number, timeout: number, signal?: AbortSignal): Promise<RecvData | RecvData[]> {
    const operation = batch ? 'recvBatch' : 'recv';
    try {
      this.assertOwner(operation);
      if (this.#active !== false) {
        throw new TransportError('einval', `${operation}: the socket is in active mode`);
      }
      if (signal?.aborted) throw abortedError(operation, signal);
      if (this.#waiters.length === 0 && (timeout === 0 || !this.#drained || this.#head < this.#queue.length)) {
        const ready = this.#take(numBytes, batch);
        if (ready !== undefined) return Promise.resolve(ready);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (timeout === 0) return Promise.reject(timeoutError(operation));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { numBytes, batch, resolve, reject, deadline: timeout === Infinity ? Infinity : performance.now() + timeout };
      if (timeout !== Infinity) this.#armBy(waiter.deadline);
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => this.#withdraw(waiter, abortedError(operation, signal));
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.#updateWatch();
    });
  }

  /**
   * Makes the socket's one deadline timer fire by `deadline`. A loop of recv(…, 1000) adds
   * later and later deadlines, so it arms a timer once, not once per call. The timer is
   * unref'd: the poll handle keeps the loop alive while anything waits.
   */
  #armBy(deadline: number): void {
    if (this.#timer !== undefined && this.#timerDue <= deadline) return;
    clearTimeout(this.#timer);
    this.#timerDue = deadline;
    this.#timer = setTimeout(() => this.#expire(), Math.min(Math.ceil(deadline - performance.now()), MAX_TIMER));
    this.#timer.unref();
  }

  /** The deadline timer fired: waiters past their deadline time out; it re-arms for the next. */
  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const waiter of this.#waiters.slice()) {
      if (waiter.deadline <= now) this.#withdraw(waiter, timeoutError(waiter.batch ? 'recvBatch' : 'recv'));
      else if (waiter.deadline < next) next = waiter.deadline;
    }
    if (next !== Infinity) this.#armBy(next);
  }

  /** Takes a waiter out of the line without a datagram. */
  #withdraw(waiter: Waiter, error: TransportError): void {
    const index = this.#waiters.indexOf(waiter);
    if (index < 0) return;
    this.#waiters.splice(index, 1);
    this.#updateWatch();
    settle(waiter).reject(error);
  }

  /** The next datagram (or batch) from the queue, reading the kernel when it is empty. */
  #take(numBytes: number, batch: number): RecvData | RecvData[] | undefined {
    if (this.#head === this.#queue.length && !this.#fill(Math.max(batch, this.readPackets))) return undefined;
    if (batch === 0) return this.#deliver(numBytes || this.buffer);
    const records: RecvData[] = [];
    while (records.length < batch) {
      if (this.#head === this.#queue.length) {
        // The kernel queue ran dry at the last read: what came since waits for the next call.
        if (this.#drained || !this.#fill(Math.max(batch - records.length, this.readPackets))) break;
      }
      records.push(this.#deliver(this.buffer));
    }
    return records;
  }

  /** The next queued datagram, cut to `limit` bytes and counted as inet counts what it hands out. */
  #deliver(limit: number): RecvData {
    const record = cut(this.#shift(), limit);
    countReceived(this.#counters, record.data.length);
    return record;
  }

  #shift(): RecvData {
    const record = this.#queue[this.#head++];
    if (this.#head === this.#queue.length) {
      // A new array costs less than truncating this one (a runtime call per datagram).
      this.#queue = [];
      this.#head = 0;
    }
    return record;
  }

  /** One system call for up to `max` datagrams. */
  #fill(wanted: number): boolean {
    const max = Math.min(wanted, C.MAX_BATCH);
    const bytes = this.native.recv(max);
    if (bytes === undefined) {
      this.#drained = true;
      return false;
    }
    const before = this.#queue.length;
    readRecords(bytes, this.ancillary, this.#queue);
    this.#drained = this.#queue.length - before < max;
    return true;
  }

  /** @internal Called by the binding when the descriptor is ready. */
  onReady(events: number, status: number): void {
    if (this.#shut) return;
    // Readable with nobody to serve: stop watching, or a level-triggered poll keeps firing.
    const unwanted = (events & READABLE) !== 0 && this.#waiters.length === 0 && this.#active === false;
    if (status !== 0 || events & READABLE) {
      this.#drained = false;
      if (this.#active !== false) this.#deliverActive();
      else this.#serveWaiters();
    }
    if (status !== 0 || events & WRITABLE) this.#flushSends();
    this.#updateWatch(unwanted);
  }

  #serveWaiters(): void {
    while (this.#waiters.length > 0) {
      const waiter = this.#waiters[0];
      let result: RecvData | RecvData[] | undefined;
      try {
        result = this.#take(waiter.numBytes, waiter.batch);
      } catch (error) {
        settle(this.#waiters.shift()!).reject(error as TransportError);
        continue;
      }
      if (result === undefined) return;
      settle(this.#waiters.shift()!).resolve(result);
    }
  }

  /** @internal inet's active option: true, 'once', N (added to the count), or false. */
  setActive(value: Active): void {
    if (typeof value === 'number') {
      const count = (typeof this.#active === 'number' ? this.#active : 0) + value;
      this.#active = count > 0 ? count : false;
      if (count <= 0) process.nextTick(() => this.emit('udp_passive', this));
    } else {
      this.#active = value;
    }
    if (this.#active === false) return this.#updateWatch();
    for (const waiter of this.#waiters.splice(0)) {
      settle(waiter).reject(new TransportError('einval', 'recv: the socket was put in active mode'));
    }
    this.#updateWatch();
    if (this.#head < this.#queue.length) setImmediate(() => this.#deliverActive());
  }

  #deliverActive(): void {
    while (this.#active !== false && !this.#shut) {
      // Read no further ahead than the datagrams still wanted: the rest wait in the kernel.
      const remaining = typeof this.#active === 'number' ? this.#active : this.#active === 'once' ? 1 : this.readPackets;
      let record: RecvData | undefined;
      try {
        if (this.#head === this.#queue.length && !this.#fill(Math.min(remaining, this.readPackets))) break;
        record = this.#deliver(this.buffer);
      } catch (error) {
        this.emit('udp_error', error);
        break;
      }
      if (this.#active === 'once' || this.#active === 1) {
        this.#active = false;
        this.emit('udp', record);
        this.emit('udp_passive', this);
      } else {
        if (typeof this.#active === 'number') this.#active--;
        this.emit('udp', record);
      }
    }
    this.#updateWatch();
  }

  /** @internal One datagram; waits for room in the kernel when the send buffer is full. */
  transmit(data: unknown, address: Address | undefined, port: number, ancillary: SendAncillary | undefined): Promise<void> {
    try {
      this.assertOwner('send');
      if (this.#sends.length === 0 && !sending && this.#sendNow(data, address, port, ancillary) >= 0) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueueSend({ data, address, port, ancillary, sent: 0, bytes: ioLength(data) }) as Promise<unknown> as Promise<void>;
  }

  /** One sendmsg; -1 when the send buffer is full. */
  #sendNow(data: unknown, address: Address | undefined, port: number, ancillary: SendAncillary | undefined): number {
    sending = true;
    try {
      if (ancillary !== undefined) writeAncillary(ancillary, 0, 'send');
      return this.native.send(data, address, port, ancillary);
    } finally {
      sending = false;
    }
  }

  /** @internal Messages in order, one sendmmsg per up to MAX_BATCH of them. */
  transmitBatch(messages: readonly BatchMessage[]): Promise<number> {
    const bytes = messages.reduce((sum, message) => sum + ioLength(message.data), 0);
    const pending = { data: undefined, address: undefined, port: 0, ancillary: undefined, messages, sent: 0, bytes };
    try {
      this.assertOwner('sendBatch');
      if (this.#sends.length === 0 && !sending && this.#sendBatchStep(pending)) return Promise.resolve(messages.length);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueueSend(pending) as Promise<number>;
  }

  /** Sends what the kernel takes now; true when the whole batch is out. */
  #sendBatchStep(pending: Omit<PendingSend, 'resolve' | 'reject'>): boolean {
    const messages = pending.messages!;
    while (pending.sent < messages.length) {
      const sent = this.#sendChunk(messages, pending.sent);
      if (sent < 0) return false;
      pending.sent += sent;
    }
    return true;
  }

  /** One sendmmsg for up to MAX_BATCH messages from `start`; -1 when the send buffer is full. */
  #sendChunk(messages: readonly BatchMessage[], start: number): number {
    sending = true;
    try {
      const end = Math.min(messages.length, start + MAX_BATCH);
      for (let i = start; i < end; i++) {
        const { ancillary } = messages[i];
        if (ancillary !== undefined) writeAncillary(ancillary, i - start, 'sendBatch');
      }
      return this.native.sendBatch(messages, start);
    } finally {
      sending = false;
    }
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
      let result: number;
      try {
        if (pending.messages) {
          const before = pending.sent;
          const done = this.#sendBatchStep(pending);
          progressed ||= pending.sent > before;
          if (!done) return this.#backOff(progressed);
          result = pending.messages.length;
        } else {
          result = this.#sendNow(pending.data, pending.address, pending.port, pending.ancillary);
          if (result < 0) return this.#backOff(progressed);
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
      pending.resolve(pending.messages ? result : undefined);
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
   * Starts watching for what a waiting call needs. Reading stays watched after the last
   * waiter is served, so a busy socket does not pay two epoll_ctl calls per wait; it is
   * dropped when a readable event finds nobody waiting.
   */
  #updateWatch(idle = false): void {
    const wanted = (this.#waiters.length > 0 || this.#active !== false ? READABLE : 0) |
      (this.#sends.length > 0 && this.#retryTimer === undefined ? WRITABLE : 0);
    const next = idle ? wanted : wanted | (this.#watching & READABLE);
    if (next === this.#watching || this.#shut || !this.#owned) return;
    this.native.watch(next);
    this.#watching = next;
  }

  /** @internal Hands the socket to `thread`: pending calls here fail `not_owner`. */
  handOver(thread: number, mayBeLoading: boolean): void {
    this.native.handOver(thread, mayBeLoading);
    this.#owned = false;
    this.#watching = 0;
    this.#active = false;
    this.#handedRef = {
      abyssSocket: this.native.id,
      carry: this.#queue.slice(this.#head),
      buffer: this.buffer,
      readPackets: this.readPackets,
    };
    this.#queue = [];
    this.#head = 0;
    this.#failPending(() => new TransportError('not_owner', 'the socket was handed to another thread'));
  }

  #failPending(error: () => TransportError): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of this.#waiters.splice(0)) settle(waiter).reject(error());
    for (const pending of this.#sends.splice(0)) pending.reject(error());
    this.sendPending = 0;
  }

  /** @internal Closes the descriptor and rejects every pending call with `closed`. */
  shut(): void {
    if (this.native.closed) return;
    this.assertOwner('close');
    this.native.close();
    this.#shut = true;
    this.#watching = 0;
    this.#queue.length = 0;
    this.#head = 0;
    this.#active = false;
    this.#failPending(() => new TransportError('closed', 'socket is closed'));
  }
}
