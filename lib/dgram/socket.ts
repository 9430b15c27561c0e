import type dgram from 'node:dgram';
import { COUNTER_COUNT, countReceived, countSent } from '../contract/counters';
import { ContractSocket } from '../contract/socket';
import { WaitLine, abortedError, timeoutError } from '../contract/waiters';
import { TransportError, closedError } from '../errors';
import type { IpFamily, RecvData, Transport } from '../types';
import { DgramUDP } from './index';
import { fromNode, internalHandle } from './node';

/** A queued datagram, or a receive error (ICMP's econnrefused) in the order it came. */
type Entry = RecvData<IpFamily> | TransportError;

interface PendingSend {
  bytes: number;
  reject(error: TransportError): void;
}

/**
 * A socket of DgramUDP, the contract on node:dgram. Receiving is push-based: libuv reads the
 * kernel queue as soon as it is readable and hands every datagram over; they wait in a
 * queue bounded by SO_RCVBUF until recv takes them (see lib/dgram/index.ts for what differs
 * from the native transport).
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
  #queue: Entry[] = [];
  #head = 0;
  /** @internal payload bytes queued (each datagram counts at least one) */
  queuedBytes = 0;
  /** @internal datagrams the bounded queue dropped */
  dropped = 0;
  /** @internal SO_RCVBUF as read back: the queue's bound in bytes */
  rcvbuf: number;
  readonly #waiters = new WaitLine(() => this.#updateRef());
  #serveScheduled = false;
  #referenced = true;
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

  /** The descriptor, when node:dgram's internal handle shows it; -1 otherwise and once closed. */
  get fd(): number {
    return this.#closed ? -1 : this.descriptor;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** @internal */
  protected get transport(): Transport<ContractSocket<IpFamily>> {
    return DgramUDP as unknown as Transport<ContractSocket<IpFamily>>;
  }

  /** @internal Throws `closed` once closed. */
  assertOpen(operation: string): void {
    if (this.#closed) throw closedError(operation);
  }

  /**
   * The socket keeps the event loop alive only while a recv waits on it, as the native
   * transport's do. Letting go waits a microtask: the caller usually waits again at once.
   */
  #updateRef(): void {
    const wanted = this.#waiters.length > 0;
    if (wanted === this.#referenced || this.#closed) return;
    if (wanted) {
      this.#referenced = true;
      this.dgram.ref();
    } else if (!this.#unrefScheduled) {
      this.#unrefScheduled = true;
      queueMicrotask(() => {
        this.#unrefScheduled = false;
        if (this.#waiters.length > 0 || !this.#referenced || this.#closed) return;
        this.#referenced = false;
        this.dgram.unref();
      });
    }
  }

  get #queued(): number {
    return this.#queue.length - this.#head;
  }

  /** The datagram cut to `limit` bytes, marked truncated when that cut it; counted as handed out. */
  #handOut(record: RecvData<IpFamily>, limit: number): RecvData<IpFamily> {
    const out = record.data.length > limit ? { ...record, data: record.data.subarray(0, limit), truncated: true as const } : record;
    countReceived(this.counters, out.data.length);
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
    return records;
  }

  #serveWaiters(): void {
    while (this.#waiters.length > 0 && this.#queued > 0) {
      const waiter = this.#waiters.shift();
      try {
        waiter.resolve(this.#take(waiter.numBytes, waiter.batch));
      } catch (error) {
        waiter.reject(error as TransportError);
      }
    }
  }

  /**
   * A recvBatch is served a turn after the reads that woke it, with whatever else libuv read
   * in the same turn.
   */
  #scheduleServe(): void {
    if (this.#serveScheduled) return;
    this.#serveScheduled = true;
    setImmediate(() => {
      this.#serveScheduled = false;
      if (!this.#closed) this.#serveWaiters();
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
    // A recv waiting on an empty queue takes the datagram at once; a recvBatch is served a
    // turn later, with whatever else libuv reads now.
    const first = this.#waiters.first;
    if (first !== undefined && this.#queued === 0 && first.batch === 0) {
      this.#waiters.shift().resolve(this.#handOut(record, first.numBytes || this.buffer));
      return;
    }
    this.#enqueue(record);
    if (this.#waiters.length > 0) this.#scheduleServe();
  }

  #onError(error: Error): void {
    if (this.#closed) return;
    const transportError = fromNode(error, 'recv', 'recvmsg');
    if (this.#waiters.length > 0 && this.#queued === 0) {
      this.#waiters.shift().reject(transportError);
      return;
    }
    this.#enqueue(transportError);
    if (this.#waiters.length > 0) this.#scheduleServe();
  }

  /** @internal recv (batch 0) and recvBatch (batch = max), arguments checked. */
  receive(numBytes: number, batch: number, timeout: number, signal?: AbortSignal): Promise<RecvData | RecvData[]> {
    const operation = batch ? 'recvBatch' : 'recv';
    try {
      this.assertOpen(operation);
      if (signal?.aborted) throw abortedError(operation, signal);
      if (this.#waiters.length === 0 && this.#queued > 0) return Promise.resolve(this.#take(numBytes, batch));
    } catch (error) {
      return Promise.reject(error);
    }
    if (timeout !== 0) {
      const { promise } = this.#waiters.wait(numBytes, batch, timeout, signal);
      if (this.#queued > 0) this.#scheduleServe();
      return promise;
    }
    // Poll once: let the event loop reach its poll phase, where libuv reads the kernel.
    let immediate: NodeJS.Immediate | undefined;
    const { promise, waiter } = this.#waiters.wait(numBytes, batch, Infinity, signal, () => clearImmediate(immediate));
    immediate = setImmediate(() => {
      immediate = setImmediate(() => this.#waiters.withdraw(waiter, timeoutError(operation)));
    });
    if (this.#queued > 0) this.#scheduleServe();
    return promise;
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
