import type dgram from 'node:dgram';
import { COUNTER_COUNT, countReceived, countSent } from '../contract/counters';
import { ContractSocket } from '../contract/socket';
import { WaitLine, abortedError, timeoutError } from '../contract/waiters';
import { TransportError, closedError, enotsup } from '../errors';
import type { Active, IpFamily, RecvData, SocketHandoff, Transport } from '../types';
import { DgramUDP } from './index';
import { fromNode, internalHandle } from './node';

/** A queued datagram, or a receive error (ICMP's econnrefused) in the order it came. */
type Entry = RecvData<IpFamily> | TransportError;

/**
 * The most datagrams a socket hands out in one turn of the event loop: this many recv or
 * 'udp' events, or one recvBatch. libuv reads whatever the kernel holds into the queue; a
 * backlog there is served a turn at a time, as the addon reads the kernel at most one batch
 * (MAX_BATCH) per turn, so that a flood cannot keep the loop in the package.
 */
const TURN_BUDGET = 64;

interface PendingSend {
  bytes: number;
  reject(error: TransportError): void;
}

/**
 * A socket of {@link DgramUDP}, the contract on node:dgram: the same methods, iteration,
 * disposal and {@link SocketEvents} as the native `Socket`, on a `dgram.Socket` it keeps to
 * itself. Receiving is push-based: libuv reads the kernel queue as soon as it is readable and
 * hands every datagram over; they wait in a queue bounded by `recbuf` bytes until `recv`
 * takes them, or in active mode are emitted as they come. IP sockets only; it stays in the
 * thread that made it. It is not constructed directly.
 *
 * @example
 * const socket = DgramUDP.listen(0, { ip: 'loopback' });
 * const { data } = await socket.recv(0, 1000);
 */
export class DgramSocket extends ContractSocket<IpFamily> {
  /** The descriptors of this thread's open DgramSockets, as far as node:dgram shows them. */
  static readonly #descriptors = new Set<number>();
  /** @internal */
  readonly dgram: dgram.Socket;
  /** @internal */
  readonly family: IpFamily;
  /** @internal the descriptor, when node:dgram's internal handle shows it; -1 otherwise */
  readonly descriptor: number;
  #closed = false;
  #active: Active = false;
  #queue: Entry[] = [];
  #head = 0;
  /** @internal payload bytes queued (each datagram counts at least one) */
  queuedBytes = 0;
  /** @internal datagrams the bounded queue dropped */
  dropped = 0;
  /** @internal SO_RCVBUF as read back: the queue's bound in bytes */
  rcvbuf: number;
  readonly #waiters = new WaitLine(() => this.#updateRef());
  /** What this turn may still hand out (TURN_BUDGET). */
  #budget = TURN_BUDGET;
  #turnScheduled = false;
  #referenced = true;
  /** The program called unref(): waiting does not keep the event loop alive. */
  #unreferenced = false;
  #unrefScheduled = false;
  readonly #sends = new Set<PendingSend>();
  /** @internal bytes of sends node:dgram has not finished */
  sendPending = 0;
  /** @internal the connected peer */
  peer?: { address: string; port: number };
  /** @internal inet's counters (lib/contract/counters.ts) */
  readonly counters = new Float64Array(COUNTER_COUNT);
  // What node:dgram cannot read back: the values last set (undefined: the kernel's default).
  /** @internal */ buffer = 65536;
  /** @internal */ reuseaddr: boolean;
  /** @internal */ reuseport: boolean;
  /** @internal */ v6only?: boolean;
  /** @internal */ broadcast = false;
  /** @internal */ ttl?: number;
  /** @internal */ multicastTtl?: number;
  /** @internal */ multicastLoop = true;
  /** @internal */ multicastIf?: string | number;
  /** @internal */ hops?: number;

  /** @internal A bound node:dgram socket and the flags it was made with. */
  constructor(socket: dgram.Socket, family: IpFamily, created: { reuseaddr: boolean; reuseport: boolean; v6only?: boolean }) {
    super();
    this.dgram = socket;
    this.family = family;
    const handle = internalHandle(socket);
    this.descriptor = typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : -1;
    if (this.descriptor >= 0) DgramSocket.#descriptors.add(this.descriptor);
    this.rcvbuf = socket.getRecvBufferSize();
    this.reuseaddr = created.reuseaddr;
    this.reuseport = created.reuseport;
    this.v6only = created.v6only;
    socket.on('message', (data, info) => this.#onMessage(data, info));
    socket.on('error', (error) => this.#onError(error));
    socket.unref();
    this.#referenced = false;
  }

  /** @internal Whether an open DgramSocket of this thread has descriptor `fd`. */
  static ownsDescriptor(fd: number): boolean {
    return DgramSocket.#descriptors.has(fd);
  }

  /** @internal A real DgramSocket, not an object made from its prototype. */
  static is(value: unknown): value is DgramSocket {
    return typeof value === 'object' && value !== null && #closed in value;
  }

  /**
   * The descriptor, when node:dgram's internal handle shows it; -1 otherwise and once closed.
   *
   * @example
   * DgramUDP.listen(0).fd; // 23, or -1 where node:dgram hides it
   */
  get fd(): number {
    return this.#closed ? -1 : this.descriptor;
  }

  /**
   * Whether the socket is closed.
   *
   * @example
   * socket.close();
   * socket.closed; // true
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The hand-over token of the native transport's sockets. A node:dgram socket cannot change
   * threads, so where `UDP` stands for DgramUDP reading it is `enotsup`, not undefined.
   * @throws {@link TransportError} `enotsup`
   */
  get handoff(): SocketHandoff {
    throw enotsup('handoff', "node:dgram's sockets cannot be handed to another thread");
  }

  /**
   * The active mode now (see {@link Active}): `false`, `true`, `'once'`, or the count of
   * datagrams still to emit.
   *
   * @example
   * DgramUDP.listen(0, { active: 'once' }).active; // 'once'
   */
  get active(): Active {
    return this.#active;
  }

  /** @internal */
  protected get transport(): Transport<ContractSocket<IpFamily>> {
    return DgramUDP as unknown as Transport<ContractSocket<IpFamily>>;
  }

  /**
   * node:dgram's `ref()`: waiting on the socket keeps the event loop alive again (the
   * default). Returns the socket.
   *
   * @example
   * socket.ref();
   */
  ref(): this {
    this.#unreferenced = false;
    this.#updateRef();
    return this;
  }

  /**
   * node:dgram's `unref()`: the process may exit while the socket waits. Returns the socket.
   *
   * @example
   * const socket = DgramUDP.listen(0, { active: true }).unref();
   */
  unref(): this {
    this.#unreferenced = true;
    this.#updateRef();
    return this;
  }

  /** @internal Throws `closed` once closed. */
  assertOpen(operation: string): void {
    if (this.#closed) throw closedError(operation);
  }

  /**
   * The socket keeps the event loop alive only while a recv waits on it or it is active, as
   * the native transport's do. Letting go waits a microtask: the caller usually waits again at once.
   */
  #updateRef(): void {
    const wanted = (this.#waiters.length > 0 || this.#active !== false) && !this.#unreferenced;
    if (wanted === this.#referenced || this.#closed) return;
    if (wanted) {
      this.#referenced = true;
      this.dgram.ref();
    } else if (!this.#unrefScheduled) {
      this.#unrefScheduled = true;
      queueMicrotask(() => {
        this.#unrefScheduled = false;
        if (((this.#waiters.length > 0 || this.#active !== false) && !this.#unreferenced) || !this.#referenced || this.#closed) return;
        this.#referenced = false;
        this.dgram.unref();
      });
    }
  }

  get #queued(): number {
    return this.#queue.length - this.#head;
  }

  /** The datagram cut to `limit` bytes, marked truncated when that cut it; counted as handed out, in this turn's budget. */
  #handOut(record: RecvData<IpFamily>, limit: number): RecvData<IpFamily> {
    const out = record.data.length > limit ? { ...record, data: record.data.subarray(0, limit), truncated: true as const } : record;
    countReceived(this.counters, out.data.length);
    this.#budget--;
    this.#nextTurn();
    return out;
  }

  #shift(): Entry {
    const entry = this.#queue[this.#head];
    this.#queue[this.#head++] = undefined as unknown as Entry;
    if (!(entry instanceof TransportError)) this.queuedBytes -= Math.max(1, entry.data.length);
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
    return entry;
  }

  /** The next datagram (or batch) from the queue; the queue is not empty. Throws a queued error. */
  #take(numBytes: number, batch: number): RecvData<IpFamily> | RecvData<IpFamily>[] {
    if (batch === 0) {
      const entry = this.#shift();
      if (entry instanceof TransportError) throw entry;
      return this.#handOut(entry, numBytes || this.buffer);
    }
    const records: RecvData<IpFamily>[] = [];
    while (records.length < batch && this.#queued > 0) {
      const entry = this.#queue[this.#head];
      if (entry instanceof TransportError) {
        if (records.length > 0) break;
        this.#shift();
        throw entry;
      }
      records.push(this.#handOut(this.#shift() as RecvData<IpFamily>, this.buffer));
    }
    // One batch a turn.
    this.#budget = 0;
    return records;
  }

  #serveWaiters(): void {
    while (this.#waiters.length > 0 && this.#queued > 0 && this.#budget > 0) {
      const waiter = this.#waiters.shift();
      try {
        waiter.resolve(this.#take(waiter.numBytes, waiter.batch));
      } catch (error) {
        waiter.reject(error as TransportError);
      }
    }
  }

  /**
   * The next turn of the loop: the budget is whole again, and what waits is served (a
   * recvBatch a turn after the reads that woke it, with whatever else libuv read in the same turn).
   */
  #nextTurn(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    setImmediate(() => {
      this.#turnScheduled = false;
      this.#budget = TURN_BUDGET;
      if (this.#closed) return;
      if (this.#active !== false) this.#deliverActive();
      else this.#serveWaiters();
    });
  }

  #enqueue(entry: Entry): void {
    if (!(entry instanceof TransportError)) {
      const cost = Math.max(1, entry.data.length);
      if (this.#queued > 0 && this.queuedBytes + cost > this.rcvbuf) {
        this.dropped++;
        return;
      }
      this.queuedBytes += cost;
    }
    this.#queue.push(entry);
  }

  #onMessage(data: Buffer, info: dgram.RemoteInfo): void {
    if (this.#closed) return;
    const record: RecvData<IpFamily> = { address: info.address, port: info.port, data };
    if (this.#active !== false) {
      this.#enqueue(record);
      this.#deliverActive();
      return;
    }
    // A recv waiting on an empty queue takes the datagram at once; a recvBatch is served a
    // turn later, with whatever else libuv reads now.
    const first = this.#waiters.first;
    if (first !== undefined && this.#queued === 0 && first.batch === 0 && this.#budget > 0) {
      this.#waiters.shift().resolve(this.#handOut(record, first.numBytes || this.buffer));
      return;
    }
    this.#enqueue(record);
    if (this.#waiters.length > 0) this.#nextTurn();
  }

  #onError(error: Error): void {
    if (this.#closed) return;
    const transportError = fromNode(error, 'recv', 'recvmsg');
    if (this.#active !== false) {
      this.#enqueue(transportError);
      this.#deliverActive();
      return;
    }
    if (this.#waiters.length > 0 && this.#queued === 0) {
      this.#waiters.shift().reject(transportError);
      return;
    }
    this.#enqueue(transportError);
    if (this.#waiters.length > 0) this.#nextTurn();
  }

  /** @internal inet's active option: true, 'once', N (added to the count), or false. */
  setActive(value: Active): void {
    this.#active = this.nextActive(this.#active, value);
    if (this.#active !== false) {
      this.#waiters.rejectAll(() => new TransportError('einval', 'recv: the socket was put in active mode'));
      // What the queue already holds is emitted a turn later, after the caller set up its listeners.
      if (this.#queued > 0) this.#nextTurn();
    }
    this.#updateRef();
  }

  /** Emits queued datagrams (and errors, as 'udp_error') while the socket is active, this turn's budget's worth. */
  #deliverActive(): void {
    while (this.#active !== false && !this.#closed && this.#queued > 0 && this.#budget > 0) {
      const entry = this.#shift();
      if (entry instanceof TransportError) {
        this.emit('udp_error', entry);
        continue;
      }
      const record = this.#handOut(entry, this.buffer);
      if (this.#active === 'once' || this.#active === 1) {
        // As inet: {udp_passive, S} when a count N runs out, never after {active, once}.
        const counted = this.#active === 1;
        this.#active = false;
        this.#updateRef();
        this.emit('udp', record);
        if (counted) this.emit('udp_passive', this);
      } else {
        if (typeof this.#active === 'number') this.#active--;
        this.emit('udp', record);
      }
    }
  }

  /** @internal recv (batch 0) and recvBatch (batch = max), arguments checked. */
  receive(numBytes: number, batch: number, timeout: number, signal?: AbortSignal): Promise<RecvData | RecvData[]> {
    const operation = batch ? 'recvBatch' : 'recv';
    try {
      this.assertOpen(operation);
      if (this.#active !== false) throw new TransportError('einval', `${operation}: the socket is in active mode`);
      if (signal?.aborted) throw abortedError(operation, signal);
      if (this.#waiters.length === 0 && this.#queued > 0 && this.#budget > 0) return Promise.resolve(this.#take(numBytes, batch));
    } catch (error) {
      return Promise.reject(error);
    }
    if (timeout !== 0) {
      const { promise } = this.#waiters.wait(numBytes, batch, timeout, signal);
      if (this.#queued > 0) this.#nextTurn();
      return promise as Promise<RecvData | RecvData[]>;
    }
    // Poll once: let the event loop reach its poll phase, where libuv reads the kernel.
    let immediate: NodeJS.Immediate | undefined;
    const waiter = this.#waiters.wait(numBytes, batch, Infinity, signal, () => clearImmediate(immediate));
    immediate = setImmediate(() => {
      immediate = setImmediate(() => this.#waiters.withdraw(waiter, timeoutError(operation)));
    });
    if (this.#queued > 0) this.#nextTurn();
    return waiter.promise as Promise<RecvData | RecvData[]>;
  }

  /** @internal One datagram through node:dgram; `address` undefined: to the connected peer. */
  transmit(pieces: Buffer[], bytes: number, address: string | undefined, port: number, operation: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const pending: PendingSend = { bytes, reject };
      const done = (error: Error | null): void => {
        if (!this.#sends.delete(pending)) return; // closed meanwhile: already rejected
        this.sendPending -= bytes;
        if (error) return reject(fromNode(error, operation, 'sendmsg'));
        countSent(this.counters, bytes);
        resolve();
      };
      this.#sends.add(pending);
      this.sendPending += bytes;
      try {
        if (address === undefined) this.dgram.send(pieces, done);
        else this.dgram.send(pieces, port, address, done);
      } catch (error) {
        this.#sends.delete(pending);
        this.sendPending -= bytes;
        reject(fromNode(error, operation, 'sendmsg'));
      }
    });
  }

  /** @internal Closes the socket; every pending call rejects `closed`. */
  shut(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#active = false;
    DgramSocket.#descriptors.delete(this.descriptor);
    try {
      this.dgram.close();
    } catch {
      // already closed underneath
    }
    this.#queue.length = 0;
    this.#head = 0;
    this.queuedBytes = 0;
    const closed = (): TransportError => new TransportError('closed', 'socket is closed');
    this.#waiters.rejectAll(closed);
    for (const pending of [...this.#sends]) pending.reject(closed());
    this.#sends.clear();
    this.sendPending = 0;
  }
}
