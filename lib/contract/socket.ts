/**
 * What a socket of either transport is to its user: the contract's calls as methods, its
 * datagrams as an async iterable, `using` and `await using`, and the active-mode events.
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import type { TransportError } from '../errors';
import type {
  Active, BatchMessage, Destination, IOData, OptionName, RecvData, SendAncillary, SocketFamily, SocketInfoOf, SocketOptions,
  SocketStats, Timeout, Transport,
} from '../types';
import type { Worker } from 'node:worker_threads';
import type { RecvArena } from './arena';

/** The events a socket in active mode emits (`active: true | 'once' | N`). */
export interface SocketEvents<F extends SocketFamily = SocketFamily> {
  /** A datagram, in active mode. */
  udp: [datagram: RecvData<F>];
  /** The count N of `active: N` ran out: the socket is passive again. */
  udp_passive: [socket: ContractSocket<F>];
  /** A read failed in active mode (an ICMP error reported by the kernel, say). */
  udp_error: [error: TransportError];
}

/**
 * A datagram socket of the contract (seed `socket()` and `listener_socket()`), for either
 * transport. `F` is its family: what `sockname`, `peername` and the addresses of its
 * datagrams look like follows from it.
 */
export abstract class ContractSocket<F extends SocketFamily = SocketFamily> extends EventEmitter<SocketEvents<F>> {
  /** The kernel descriptor; -1 once closed (or where the transport cannot see it). */
  abstract get fd(): number;
  /** Whether the socket is closed. */
  abstract get closed(): boolean;
  /** @internal The transport whose calls the methods are. */
  protected abstract get transport(): Transport<ContractSocket<F>>;
  /** @internal recv (batch 0) and recvBatch (batch = max), arguments checked. */
  abstract receive(numBytes: number, batch: number, timeout: number, signal?: AbortSignal): Promise<RecvData | RecvData[]>;
  /** @internal Closes the socket; pending calls reject `closed`. */
  abstract shut(): void;

  /**
   * @internal inet's active option set on a socket in mode `current`: a count N adds to the
   * count left, and one that ends at 0 or below is passive, which 'udp_passive' announces on
   * the next tick.
   */
  protected nextActive(current: Active, value: Active): Active {
    if (typeof value !== 'number') return value;
    const count = (typeof current === 'number' ? current : 0) + value;
    if (count > 0) return count;
    process.nextTick(() => this.emit('udp_passive', this));
    return false;
  }
  /**
   * As node:dgram's `ref()`: undoes `unref()`, so that the socket keeps the event loop alive
   * while something waits on it (a recv, an iterator, active mode), and is never collected
   * while open. Returns the socket.
   */
  abstract ref(): this;
  /**
   * As node:dgram's `unref()`: the process may exit while the socket is open and waited on,
   * and a socket nothing waits on and nothing references may be collected (and closed).
   * Returns the socket.
   */
  abstract unref(): this;

  /** `UDP.recv(socket, …)`: the next datagram (whole with `numBytes` 0, else at most that many bytes). */
  recv(numBytes: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData<F>> {
    return this.transport.recv(this, numBytes, timeout, options) as Promise<RecvData<F>>;
  }

  /** `UDP.recvBatch(socket, …)`: the next datagram and every other already queued, at most `max`. */
  recvBatch(max: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData<F>[]> {
    return this.transport.recvBatch(this, max, timeout, options) as Promise<RecvData<F>[]>;
  }

  /** `UDP.recvInto(socket, …)`: the next datagrams into `arena`'s reused memory; resolves with how many. */
  recvInto(arena: RecvArena, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<number> {
    return this.transport.recvInto(this, arena, timeout, options);
  }

  /** `UDP.send(socket, …)`: one datagram, by any of the contract's overloads. */
  send(data: IOData): Promise<void>;
  send(destination: Destination, data: IOData): Promise<void>;
  send(address: string | { local: string }, port: number, data: IOData): Promise<void>;
  send(address: string | { local: string }, port: number, ancillary: SendAncillary, data: IOData): Promise<void>;
  send(...args: unknown[]): Promise<void> {
    return (this.transport.send as (socket: unknown, ...rest: unknown[]) => Promise<void>)(this, ...args);
  }

  /** `UDP.sendBatch(socket, …)`: the messages in order; resolves with how many went out. */
  sendBatch(messages: BatchMessage[]): Promise<number> {
    return this.transport.sendBatch(this, messages);
  }

  /** `UDP.getopts(socket, …)`: exactly the options asked for. */
  getopts<N extends OptionName>(names: N[]): Pick<SocketOptions, Extract<N, keyof SocketOptions>> & (Extract<N, object> extends never ? unknown : Pick<SocketOptions, 'raw'>) {
    return this.transport.getopts(this, names) as never;
  }

  /** `UDP.setopts(socket, …)`: all or nothing. */
  setopts(options: SocketOptions): void {
    this.transport.setopts(this, options);
  }

  /** `UDP.connect(socket, …)`: fixes the peer for `send(data)`, `peername` and ICMP errors. */
  connect(address: string | { local: string }, port: number): void {
    this.transport.connect(this, address, port);
  }

  /** `UDP.controllingProcess(socket, …)`: hands the socket to another thread. */
  controllingProcess(owner: Worker | number): void {
    this.transport.controllingProcess(this, owner);
  }

  /** `UDP.close(socket)`: idempotent; pending calls reject `closed`. */
  close(): void {
    this.transport.close(this);
  }

  /** `UDP.sockname(socket)`: this end's address. */
  sockname(): SocketInfoOf<F> {
    return this.transport.sockname(this) as SocketInfoOf<F>;
  }

  /** `UDP.peername(socket)`: the connected peer's address (`enotconn` otherwise). */
  peername(): SocketInfoOf<F> {
    return this.transport.peername(this) as SocketInfoOf<F>;
  }

  /** `UDP.getstat(socket)`: inet's counters and the kernel's. */
  getstat<N extends keyof SocketStats>(names?: N[]): Pick<SocketStats, N> {
    return this.transport.getstat(this, names) as Pick<SocketStats, N>;
  }

  /** `UDP.negotiatedProtocol(socket)`: plain UDP always throws `protocol_not_negotiated`. */
  negotiatedProtocol(): string {
    return this.transport.negotiatedProtocol(this);
  }

  /** Datagrams as they come, until the socket is closed (a `closed` rejection ends the loop). */
  async *[Symbol.asyncIterator](): AsyncIterator<RecvData<F>> {
    for (;;) {
      try {
        yield (await this.receive(0, 0, Infinity)) as RecvData<F>;
      } catch (error) {
        if ((error as TransportError).reason === 'closed') return;
        throw error;
      }
    }
  }

  /** `await using socket = UDP.listen(…)` closes it at the end of the scope (Node 20.4+ with TypeScript 5.2+). */
  async [Symbol.asyncDispose](): Promise<void> {
    this.shut();
  }

  /** `using socket = UDP.listen(…)` closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.shut();
  }
}
