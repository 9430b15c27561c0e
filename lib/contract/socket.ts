/**
 * What a socket of either transport is to its user: the contract's calls as methods, its
 * datagrams as an async iterable, `using` and `await using`, and the active-mode events.
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import type { TransportError } from '../errors';
import type {
  Active, BatchMessage, Destination, ErrorQueueEntry, IOData, OptionName, RecvData, SendAncillary, SocketFamily,
  SocketInfoOf, SocketOptions, SocketStats, Timeout, Transport,
} from '../types';
import type { Worker } from 'node:worker_threads';
import type { RecvArena } from './arena';

/**
 * The events a socket emits, by name, with their listeners' arguments: `socket.on('udp',
 * (datagram) => …)` is typed from here. A passive socket (the default, `active: false`)
 * emits none: turn `active` on (`listen`'s option, or `setopts`) for datagrams as events.
 *
 * @example
 * const socket = UDP.listen(5300, { active: true });
 * socket.on('udp', ({ address, port, data }) => socket.send(address, port, data));
 * socket.on('udp_error', (error) => console.warn(error.reason));
 */
export interface SocketEvents<F extends SocketFamily = SocketFamily> {
  /**
   * A datagram arrived on an active socket (`active: true`, `'once'` or a count N): one event
   * per datagram, in order, a bounded number per turn of the event loop (one read of
   * `read_packets` datagrams on `UDP`, 64 on `DgramUDP`), so that a flood cannot starve timers
   * and other sockets. After `'once'` or the Nth datagram the socket is passive again and what
   * arrives waits for `recv`.
   * @event
   */
  udp: [datagram: RecvData<F>];
  /**
   * The count N of `active: N` ran out (or `setopts({ active: N })` brought it to 0 or less):
   * the socket is passive again. As inet has it, never emitted after `'once'`.
   * @event
   */
  udp_passive: [socket: ContractSocket<F>];
  /**
   * A read failed while the socket was active: an error the kernel reported for the socket
   * (`econnrefused` after an ICMP port unreachable on a connected socket, `ehostunreach`, …),
   * which `recv` would have rejected with on a passive socket. The socket stays active. Not
   * Node's `'error'`: without a listener it is dropped, and the process does not crash.
   * @event
   */
  udp_error: [error: TransportError];
}

/**
 * A datagram socket of the contract (seed `socket()` and `listener_socket()`), for either
 * transport: the native `Socket` and `DgramSocket` are its subclasses. Every call of `UDP`
 * that takes a socket is also a method here with the arguments after the socket
 * (`socket.recv(0, 1000)` is `UDP.recv(socket, 0, 1000)`), its datagrams are an async
 * iterable (`for await`), it closes itself at the end of a `using` or `await using` scope,
 * and in active mode it emits the {@link SocketEvents} (`'udp'`, `'udp_passive'`,
 * `'udp_error'`). `F`, its family, types what `sockname`, `peername` and the senders of its
 * datagrams look like.
 *
 * Like a node:dgram socket, an open socket that something waits on (a `recv`, an iterator,
 * active mode) keeps the event loop alive unless `unref()`'d; only an unreferenced socket
 * with nothing pending may be garbage-collected, and is then closed.
 *
 * @example
 * const socket = UDP.listen(5300, { ip: 'loopback' });
 * for await (const { address, port, data } of socket) {
 *   await socket.send(address, port, data);
 * }
 */
export abstract class ContractSocket<F extends SocketFamily = SocketFamily> extends EventEmitter<SocketEvents<F>> {
  /**
   * The kernel descriptor; -1 once closed (or where the transport cannot see it).
   *
   * @example
   * console.log(`listening on fd ${socket.fd}`);
   */
  abstract get fd(): number;
  /**
   * Whether the socket is closed (by this thread, or by the thread that owns it now).
   *
   * @example
   * if (!socket.closed) socket.close();
   */
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
   * while open. The default. Returns the socket.
   *
   * @example
   * socket.unref();
   * // … later, this socket's work matters again:
   * socket.ref();
   */
  abstract ref(): this;
  /**
   * As node:dgram's `unref()`: the process may exit while the socket is open and waited on
   * (a pending `recv` then never settles), and a socket nothing waits on and nothing
   * references may be garbage-collected, and is then closed. Returns the socket.
   *
   * @example
   * // A background listener that must not keep the process alive.
   * const socket = UDP.listen(5353, { active: true }).unref();
   */
  abstract unref(): this;

  /**
   * `UDP.recv(socket, numBytes, timeout)`: the next datagram, whole with `numBytes` 0 (up to
   * the `buffer` option's bytes), else at most `numBytes` bytes of it (`truncated` marks a
   * cut). Several calls wait in call order, one datagram each.
   *
   * Rejects with `timeout` when nothing came in time (`timeout` 0 polls once), `closed`,
   * `not_owner` (the socket was handed to another thread), `einval` (the socket is active),
   * `aborted` (`options.signal`), `badarg` for bad arguments, or an error the kernel reported
   * for the socket (`econnrefused` after an ICMP port unreachable on a connected socket).
   *
   * @example
   * const { address, port, data } = await socket.recv(0, 5000);
   */
  recv(numBytes: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData<F>> {
    return this.transport.recv(this, numBytes, timeout, options) as Promise<RecvData<F>>;
  }

  /**
   * `UDP.recvBatch(socket, max, timeout)`: waits as `recv` does for the first datagram, then
   * resolves with it and every other datagram already queued, at most `max` (one `recvmmsg`
   * on the native transport). Rejects as `recv` does.
   *
   * @example
   * for (const { address, port, data } of await socket.recvBatch(64, 'infinity')) handle(address, port, data);
   */
  recvBatch(max: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData<F>[]> {
    return this.transport.recvBatch(this, max, timeout, options) as Promise<RecvData<F>[]>;
  }

  /**
   * `UDP.recvInto(socket, arena, timeout)`: as `recvBatch`, into `arena`'s reused memory
   * (nothing allocated per datagram); resolves with how many datagrams it holds. Rejects as
   * `recv` does; `badarg` when `arena` is not a {@link RecvArena}.
   *
   * @example
   * const arena = new RecvArena({ slots: 64 });
   * const count = await socket.recvInto(arena, 'infinity');
   */
  recvInto(arena: RecvArena, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<number> {
    return this.transport.recvInto(this, arena, timeout, options);
  }

  /**
   * `UDP.send(socket, …)`: one datagram, by any of its overloads: `send(data)` to the
   * connected peer, `send(destination, data)`, `send(address, port, data)`, or
   * `send(address, port, ancillary, data)`. Resolves once the kernel took it, waiting for
   * room when the send buffer is full. Rejects as `UDP.send` does (`badarg`, `closed`,
   * `not_owner`, `eafnosupport`, `nxdomain`, `edestaddrreq`, `emsgsize`, `eacces`, …).
   *
   * @example
   * await socket.send('127.0.0.1', 5300, ['hello ', Buffer.from('world')]);
   */
  send(data: IOData): Promise<void>;
  /** To `destination`: what `sockname` returned, or `{ address, port }`. */
  send(destination: Destination, data: IOData): Promise<void>;
  /** To `address` (an IP literal, a host name, or `{ local: path }`) and `port`. */
  send(address: string | { local: string }, port: number, data: IOData): Promise<void>;
  /** With ancillary data for this datagram (`ttl`, `tos`, `pktinfo`, …; the native `UDP` only). */
  send(address: string | { local: string }, port: number, ancillary: SendAncillary, data: IOData): Promise<void>;
  send(...args: unknown[]): Promise<void> {
    return (this.transport.send as (socket: unknown, ...rest: unknown[]) => Promise<void>)(this, ...args);
  }

  /**
   * `UDP.sendBatch(socket, messages)`: the messages in order (one `sendmmsg` per 64 on the
   * native transport); resolves with how many went out, all of them unless it rejects. A bad
   * message is `badarg` before any goes out.
   *
   * @example
   * await socket.sendBatch(replies.map((r) => ({ address: r.address, port: r.port, data: r.body })));
   */
  sendBatch(messages: BatchMessage[]): Promise<number> {
    return this.transport.sendBatch(this, messages);
  }

  /**
   * `UDP.getopts(socket, names)`: exactly the options asked for (see {@link SocketOptions}).
   * Throws `badarg` for an unknown name, `einval` for a set-only option or one of the other
   * family, `closed`; any thread may read.
   *
   * @example
   * const { recbuf, ttl } = socket.getopts(['recbuf', 'ttl']);
   */
  getopts<N extends OptionName>(names: N[]): Pick<SocketOptions, Extract<N, keyof SocketOptions>> & (Extract<N, object> extends never ? unknown : Pick<SocketOptions, 'raw'>) {
    return this.transport.getopts(this, names) as never;
  }

  /**
   * `UDP.setopts(socket, options)`: all or nothing (see {@link SocketOptions}). Throws
   * `badarg` (a bad value, saying what the option expects), `einval`, the kernel's reason
   * (`eperm`, `enodev`, …), `closed`, `not_owner`; `enotsup` on DgramUDP for what node:dgram
   * cannot set.
   *
   * @example
   * socket.setopts({ recbuf: 1 << 22, ttl: 16 });
   */
  setopts(options: SocketOptions): void {
    this.transport.setopts(this, options);
  }

  /**
   * `UDP.connect(socket, address, port)`: fixes the peer for `send(data)`, `peername` and
   * ICMP errors, and receives only from it. Throws `badarg` (a host name: resolve it first),
   * `eafnosupport`, the kernel's reason, `closed`, `not_owner`.
   *
   * @example
   * socket.connect('192.0.2.1', 53);
   * await socket.send(query);
   */
  connect(address: string | { local: string }, port: number): void {
    this.transport.connect(this, address, port);
  }

  /**
   * `UDP.controllingProcess(socket, owner)`: hands the socket to another thread, which then
   * calls `UDP.adopt(socket.handoff)`. Pass the `Worker` itself: a bare `threadId` works only
   * once that thread has loaded abyss-transport (`badarg` before). Throws `not_owner`,
   * `closed`; `enotsup` on DgramUDP.
   *
   * @example
   * socket.controllingProcess(worker);
   * worker.postMessage({ handoff: socket.handoff });
   */
  controllingProcess(owner: Worker | number): void {
    this.transport.controllingProcess(this, owner);
  }

  /**
   * `UDP.close(socket)`: closes it; every pending call rejects `closed` at once, every later
   * call fails `closed`. Idempotent. Throws `not_owner` when another thread owns it.
   *
   * @example
   * process.once('SIGINT', () => socket.close());
   */
  close(): void {
    this.transport.close(this);
  }

  /**
   * `UDP.sockname(socket)`: this end's address (`{ address, family, port }`, or `{ local }`).
   * Throws `closed`.
   *
   * @example
   * const { port } = socket.sockname();
   */
  sockname(): SocketInfoOf<F> {
    return this.transport.sockname(this) as SocketInfoOf<F>;
  }

  /**
   * `UDP.peername(socket)`: the connected peer's address. Throws `enotconn` when not
   * connected, `closed`.
   *
   * @example
   * socket.connect('127.0.0.1', 5300);
   * socket.peername(); // { address: '127.0.0.1', family: 'IPv4', port: 5300 }
   */
  peername(): SocketInfoOf<F> {
    return this.transport.peername(this) as SocketInfoOf<F>;
  }

  /**
   * `UDP.getstat(socket, names?)`: inet's counters and the kernel's (see {@link SocketStats}),
   * only the named ones when given names. Throws `badarg` for an unknown name, `closed`.
   *
   * @example
   * const { recv_cnt, kernel } = socket.getstat();
   */
  getstat<N extends keyof SocketStats>(names?: N[]): Pick<SocketStats, N> {
    return this.transport.getstat(this, names) as Pick<SocketStats, N>;
  }

  /**
   * `UDP.recvErrorQueue(socket)`: one entry of the error queue the `recverr` option fills (a
   * datagram an ICMP error came back for, with `ancillary.error`), or `undefined` when it is
   * empty; it does not wait. Throws `not_owner`, `closed`, `enotsup` on `DgramUDP`.
   *
   * @example
   * for (let entry; (entry = socket.recvErrorQueue()) !== undefined;) console.log(entry.ancillary.error.reason);
   */
  recvErrorQueue(): ErrorQueueEntry | undefined {
    return this.transport.recvErrorQueue(this);
  }

  /**
   * `UDP.negotiatedProtocol(socket)`: plain UDP negotiates none, so it always throws
   * `protocol_not_negotiated` (`closed` once closed). It is there for the Abyss.Transport
   * behaviour, whose secure transports answer it.
   *
   * @example
   * try { socket.negotiatedProtocol(); } catch (error) { console.log(error.reason); } // protocol_not_negotiated
   */
  negotiatedProtocol(): string {
    return this.transport.negotiatedProtocol(this);
  }

  /**
   * Datagrams as they come (`recv(0, 'infinity')` each), until the socket is closed: a
   * `closed` rejection ends the loop quietly. Any other error (`econnrefused` on a connected
   * socket, `einval` on an active one, `not_owner` after a hand-over) is thrown out of the
   * loop. Breaking out of the loop leaves the socket open and nothing pending.
   *
   * @example
   * for await (const { address, port, data } of socket) {
   *   await socket.send(address, port, data);
   * }
   */
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

  /**
   * `await using socket = UDP.listen(…)` closes the socket at the end of the scope, as
   * `close()` does (so `not_owner` if it was handed to another thread meanwhile). The syntax
   * runs natively on Node 24 (V8 13.6; checked on 24.22), and is a SyntaxError on Node 22.
   * TypeScript 5.2+ compiles it for older targets (ES2022 here); the compiled code needs
   * `Symbol.asyncDispose`, which Node has from 20.4 (and 18.18), so on Node 20.0 to 20.3 it
   * throws `Symbol.asyncDispose is not defined`. TypeScript takes the disposable types from
   * `@types/node` or `lib: ['esnext.disposable']`.
   *
   * @example
   * async function ask(question: Buffer): Promise<Buffer> {
   *   await using socket = UDP.open(0);
   *   await socket.send('192.0.2.1', 53, question);
   *   return (await socket.recv(0, 2000)).data;
   * }
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.shut();
  }

  /**
   * `using socket = UDP.listen(…)` closes the socket at the end of the scope, as `close()`
   * does. The same versions as `await using`: natively on Node 24, compiled by TypeScript 5.2+
   * for Node 20.4 and later (`Symbol.dispose`).
   *
   * @example
   * {
   *   using socket = UDP.open(0);
   *   socket.setopts({ broadcast: true });
   * } // closed here
   */
  [Symbol.dispose](): void {
    this.shut();
  }
}
