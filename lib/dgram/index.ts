/**
 * `abyss-transport/dgram`: {@link DgramUDP}, the transport on node:dgram, under the names of
 * the main entry (`UDP`, `Socket`), whether or not the addon could run. The types are the main
 * entry's.
 *
 * @example
 * import { UDP } from 'abyss-transport/dgram';
 * @module abyss-transport/dgram
 */
/*
 * How DgramUDP stands in for the addon, by design of node:dgram (what users see of it is in
 * DgramUDP's comment below):
 *
 * - Receiving is push-based: libuv reads the kernel queue as soon as it is readable and
 *   hands every datagram to JavaScript. They wait in a bounded queue until `recv` takes
 *   them. The queue holds at most SO_RCVBUF bytes of payload (as read back from the
 *   kernel, so `recbuf` keeps its meaning; every datagram counts at least one byte, and an
 *   empty queue always takes one); a datagram beyond that is dropped and counted in
 *   `getstat().kernel.drops`, as the kernel drops what overflows a passive socket. A
 *   socket hands out at most 64 datagrams a turn of the event loop (recv, 'udp' events, or
 *   one recvBatch), so a backlog is served a turn at a time, as `UDP` reads the kernel.
 * - Active mode (`true`, `'once'`, a count N) emits from that queue: what is not asked for
 *   waits there, as it waits in the kernel for `UDP`.
 * - `recv(socket, n, 0)` "polls once" by letting one turn of the event loop pass, in which
 *   libuv reads what the kernel holds. Only a call that has to wait, with a finite timeout,
 *   needs a timer: one per socket, re-armed only when a waiter is due sooner than it.
 * - `recvBatch` waits for the first datagram, then returns it with every datagram libuv
 *   read in the same turn of the event loop (up to `max`): the batch is served from
 *   `setImmediate`, one check phase after the reads.
 * - Bind and connect are synchronous: every socket is made with a `lookup` that answers
 *   IP literals at once (hostnames are `badarg`, as in `UDP`), which makes node:dgram bind
 *   and connect inside the call (a runtime whose node:dgram binds later, Bun's, makes
 *   `listen` fail `enotsup`). A failed connect reports its errno on the next tick
 *   only; its reason is then read synchronously by repeating the connect on dgram's
 *   internal handle (when that is reachable; otherwise the reason is `einval`).
 * - Options are applied after bind, except `reuseaddr`, `reuseport` and `ipv6_v6only`,
 *   which node:dgram takes only when it creates the socket: they are listen options here,
 *   and `setopts` may only repeat their value (`enotsup` otherwise; `einval` for
 *   `ipv6_v6only`, as the kernel refuses it after bind). `reuseport` exists from
 *   Node 22.12 / 23.1 on, and on by default as in `UDP`; before that `reuseport: true` is
 *   `enotsup` and the default is off.
 *   Since the flags are on at bind, port 0 may be given a port another reusing socket
 *   holds (the native `UDP` binds port 0 with them off); turning both off avoids it.
 * - Supported options (lib/dgram/options.ts): every other option of the contract is
 *   `enotsup`, whatever its value (IPv6-only options on an IPv4 socket are `einval`, as in
 *   `UDP`); unknown names and bad values of these are `badarg`. `setopts` checks every entry
 *   first, applies `active` last, and undoes what it already applied when the kernel refuses
 *   a later one. Values node:dgram cannot read back (`broadcast`, `ttl`, `multicast_*`) are
 *   the ones last set, or the kernel's default; an IPv6 `multicast_if` named reads back as
 *   its index.
 * - No ancillary data: `send` with ancillary data is `enotsup`, once it is checked as `UDP`
 *   checks it (a bad value is `badarg`); received datagrams never carry `ancillary`, and
 *   `recvErrorQueue` is `enotsup`. No unix datagram sockets (`enotsup`), no `netns`, no
 *   `controllingProcess` to another thread nor `adopt` (`enotsup`).
 * - Calls check in `UDP`'s order: bad arguments (`badarg`), then a closed socket, then what
 *   node:dgram cannot do (`enotsup`).
 * - `fd`: node:dgram does not expose the descriptor. It is read from dgram's internal
 *   handle when that is reachable, and is -1 otherwise (and once closed). `listen({ fd })`
 *   of a descriptor a DgramSocket of this thread has is `badarg`, as in `UDP`.
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
 *   `enotsup`. Connecting to port 0 is `enotsup`.
 */
import dgram from 'node:dgram';
import { types } from 'node:util';
import { threadId, Worker } from 'node:worker_threads';
import {
  batchMessages, bindAddress, checkCount, checkDestination, checkOwner, checkPort, checkSignal, checkTimeout, isPlainObject,
  listenArguments, resolveFamily, resolveHost, sendArguments, type Destination,
} from '../contract/arguments';
import { type RecvArena, checkArena, fillArena } from '../contract/arena';
import { selectStats, statistics } from '../contract/counters';
import { checkAncillary } from '../contract/ancillary';
import { byteLength, flatten, toBuffers } from '../contract/iodata';
import { REFUSED_OPTIONS, refuse, setOnly } from '../contract/options';
import { TransportError, badarg, enotsup, show, systemError } from '../errors';
import type {
  BatchMessage, ErrorQueueEntry, IpFamily, IpSocketInfo, KernelStats, ListenOptions, OptionName, OptionsOf, RecvData, SocketOptions,
  SocketHandoff, SocketStats, Timeout, Transport,
} from '../types';
import { DGRAM_REUSEPORT, fromNode, internalHandle, literalLookup, namedError, procStats } from './node';
import { apply, plan, specOf } from './options';
import { DgramSocket } from './socket';

export { DgramSocket };

function checkSocket(socket: unknown, operation: string): DgramSocket {
  if (!DgramSocket.is(socket)) throw badarg(operation, `not a socket: ${show(socket)}`);
  return socket;
}

function openSocket(socket: unknown, operation: string): DgramSocket {
  const checked = checkSocket(socket, operation);
  checked.assertOpen(operation);
  return checked;
}

/** node:dgram makes and binds the socket; what it cannot do is `enotsup`. */
function listen(port: number, options: ListenOptions = {}): DgramSocket {
  checkPort(port, 'listen');
  const { ip, family: requested, fd, netns, active, socketOptions } = listenArguments(options);
  const resolved = resolveFamily(ip, requested);
  const address = bindAddress(ip, resolved)!;
  // Bad arguments are badarg before anything is refused, as UDP checks them.
  if (resolved === 'local' && port !== 0) throw badarg('listen', `a local socket takes port 0, got ${port}`);
  if (resolved === 'local') throw enotsup('listen', 'node:dgram has no unix datagram sockets');
  if (netns !== undefined) throw enotsup('listen', 'node:dgram cannot open a socket in another network namespace');
  const family: IpFamily = resolved;
  // The contract's defaults; reuseport where node:dgram has it.
  const { reuseaddr = true, reuseport = DGRAM_REUSEPORT, ipv6_v6only: v6only, ...rest } = socketOptions;
  // Creation-time options are checked like the others, before anything is made.
  plan(family, { reuseaddr, reuseport, ...(v6only !== undefined ? { ipv6_v6only: v6only } : {}) }, 'listen');
  const planned = plan(family, { ...rest, ...(active !== undefined ? { active } : {}) }, 'listen');
  if (fd === 0) throw enotsup('listen', 'node:dgram cannot adopt descriptor 0');
  if (fd !== undefined && DgramSocket.ownsDescriptor(fd)) throw badarg('listen', `fd ${fd} is already a socket of this package`);

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
    if (error?.code === 'ERR_INVALID_FD_TYPE') throw namedError('listen', 'open', 'ENOTSOCK', ` fd ${fd}`);
    if (error) throw fromNode(error, 'listen', fd !== undefined ? 'open' : 'bind');
    // Bun's node:dgram binds on a later turn of the event loop, whatever the lookup answers.
    throw enotsup('listen', 'this runtime\'s node:dgram does not bind within the call (Bun binds on a later turn of the event loop), ' +
      'and listen must return a bound socket');
  }
  const handle = new DgramSocket(socket, family, flags);
  try {
    apply(handle, planned, 'listen');
  } catch (error) {
    handle.shut();
    throw error;
  }
  return handle;
}

/** A send's destination, checked (badarg, eafnosupport); undefined for the connected peer. */
function checkTarget(socket: DgramSocket, address: unknown, port: unknown, operation: string): Destination | undefined {
  return address === undefined ? undefined : checkDestination(address, port, socket.family, operation, 'resolve');
}

/** What the kernel would refuse of a checked destination on an open socket. */
function refuseTarget(socket: DgramSocket, target: Destination | undefined, operation: string): void {
  if (target === undefined && !socket.peer) throw namedError(operation, 'sendmsg', 'EDESTADDRREQ');
  if (target !== undefined && target.port === 0) throw namedError(operation, 'sendmsg', 'EINVAL', ' to port 0');
}

/**
 * The address node:dgram sends to (undefined: the connected peer). A host name is resolved
 * first: as with node:dgram's own lookups, a send to a name may go out after later ones.
 */
async function resolveTarget(socket: DgramSocket, target: Destination | undefined, operation: string): Promise<{ ip?: string; port: number }> {
  if (target === undefined) return { port: 0 };
  const ip = target.host !== undefined ? await resolveHost(target.host, socket.family, operation) : target.text;
  if (socket.peer) {
    if (ip === socket.peer.address && target.port === socket.peer.port) return { port: 0 };
    throw enotsup(operation, 'node:dgram sends only to the peer of a connected socket');
  }
  return { ip, port: target.port };
}

/**
 * node:dgram sends no ancillary data. It is checked as UDP checks it (a bad value is badarg);
 * an empty object is no ancillary data, anything else is refused once the socket is known open.
 */
function ancillaryRefusal(ancillary: Record<string, unknown> | undefined, family: IpFamily, operation: string): TransportError | undefined {
  if (ancillary === undefined) return undefined;
  const { integers, pktinfo } = checkAncillary(ancillary, family, operation);
  const keys = [...integers.map(([key]) => key), ...(pktinfo !== undefined ? ['pktinfo'] : [])];
  return keys.length > 0 ? enotsup(operation, `node:dgram cannot send ancillary data (${keys.join(', ')})`) : undefined;
}

/*
 * send and sendBatch check in UDP's order: bad arguments (badarg), then a closed socket, then
 * what node:dgram cannot do (enotsup) and what the kernel would refuse.
 */

async function send(socket: DgramSocket, ...args: unknown[]): Promise<void> {
  checkSocket(socket, 'send');
  const { addressed, address, port, ancillary, data } = sendArguments(args);
  const target = addressed ? checkDestination(address, port, socket.family, 'send', 'resolve') : undefined;
  const pieces = flatten(data);
  if (pieces === undefined) throw badarg('send', `data must be iodata (strings, Uint8Arrays, nested arrays of them), got ${show(data)}`);
  const refusal = ancillaryRefusal(ancillary, socket.family, 'send');
  socket.assertOpen('send');
  if (refusal) throw refusal;
  refuseTarget(socket, target, 'send');
  const buffers = toBuffers(pieces);
  const to = await resolveTarget(socket, target, 'send');
  return socket.transmit(buffers, byteLength(buffers), to.ip, to.port, 'send');
}

async function sendBatch(socket: DgramSocket, messages: BatchMessage[]): Promise<number> {
  checkSocket(socket, 'sendBatch');
  // Every message is checked (and every name resolved) before the first goes out, so a bad one sends nothing.
  const checked = batchMessages(messages).map(({ address, port, data, ancillary }, index) => {
    const target = checkTarget(socket, address, port, 'sendBatch');
    const pieces = flatten(data);
    if (pieces === undefined) throw badarg('sendBatch', `message ${index}: data must be iodata`);
    return { pieces, target, refusal: ancillaryRefusal(ancillary, socket.family, 'sendBatch') };
  });
  socket.assertOpen('sendBatch');
  for (const { target, refusal } of checked) {
    if (refusal) throw refusal;
    refuseTarget(socket, target, 'sendBatch');
  }
  const ready = await Promise.all(checked.map(async ({ pieces, target }) => ({ pieces: toBuffers(pieces), ...(await resolveTarget(socket, target, 'sendBatch')) })));
  // node:dgram queues them in order; the batch settles when the last one did.
  const sent = ready.map((message) => socket.transmit(message.pieces, byteLength(message.pieces), message.ip, message.port, 'sendBatch'));
  return Promise.all(sent).then(() => ready.length);
}

function getopts<N extends OptionName>(socket: DgramSocket, names: N[]): OptionsOf<N> {
  openSocket(socket, 'getopts');
  if (!Array.isArray(names)) throw badarg('getopts', `names must be an array, got ${show(names)}`);
  const result: Record<string, unknown> = {};
  for (const name of names as unknown[]) {
    if (isPlainObject(name) && isPlainObject(name.raw)) throw enotsup('getopts', 'node:dgram has no raw socket options');
    if (typeof name !== 'string') throw badarg('getopts', `not an option name: ${show(name)}`);
    if (REFUSED_OPTIONS.has(name)) refuse('getopts', name, undefined);
    if (name === 'raw') throw badarg('getopts', 'raw is read as { raw: { level, option, length } }');
    const spec = specOf(name, socket.family, 'getopts');
    if (!spec.get) throw setOnly('getopts', name);
    const why = spec.unsupported?.(socket.family, undefined);
    if (why) throw enotsup('getopts', `option '${name}': ${why}`);
    try {
      result[name] = spec.get(socket);
    } catch (error) {
      throw fromNode(error, 'getopts', 'getsockopt', ` ${name}`);
    }
  }
  return result as OptionsOf<N>;
}

/** What the kernel and libuv know of the socket, as far as node:dgram lets one ask. */
function kernelOf(socket: DgramSocket): KernelStats {
  const proc = procStats(socket.fd, socket.family);
  let sendQueue = 0;
  try {
    sendQueue = socket.dgram.getSendQueueSize();
  } catch {
    // older Node
  }
  return {
    rx_queue: socket.queuedBytes,
    tx_queue: sendQueue,
    drops: (proc?.drops ?? 0) + socket.dropped,
    rmem_alloc: proc?.rmem ?? 0,
    rcvbuf: socket.dgram.getRecvBufferSize(),
    wmem_alloc: proc?.wmem ?? 0,
    sndbuf: socket.dgram.getSendBufferSize(),
    fwd_alloc: 0,
    wmem_queued: 0,
    optmem: 0,
    backlog: 0,
  };
}

function info(raw: { address: string; family: string; port: number }): IpSocketInfo {
  return { address: raw.address, family: raw.family === 'IPv6' ? 'IPv6' : 'IPv4', port: raw.port };
}

function connect(socket: DgramSocket, address: string | { local: string }, port: number): void {
  openSocket(socket, 'connect');
  const checked = checkDestination(address, port, socket.family, 'connect');
  const ip = checked.text;
  if (checked.port === 0) throw enotsup('connect', 'node:dgram cannot connect to port 0');
  if (socket.peer) {
    socket.dgram.disconnect();
    socket.peer = undefined;
  }
  // The outcome of a failed connect comes on the next tick: it is read here already.
  try {
    socket.dgram.connect(checked.port, ip, () => undefined);
  } catch (error) {
    throw fromNode(error, 'connect', 'connect');
  }
  try {
    socket.dgram.remoteAddress();
    socket.peer = { address: ip, port: checked.port };
    return;
  } catch {
    // failed inside the call: learn why from the same connect on the handle
  }
  const handle = internalHandle(socket.dgram);
  const attempt = socket.family === 'inet6' ? handle?.connect6 : handle?.connect;
  const status = typeof attempt === 'function' ? attempt.call(handle, ip, checked.port) : -22;
  // The kernel took it the second time: undo, the socket stays as node:dgram sees it.
  if (status === 0) handle?.disconnect?.();
  throw status < 0 ? systemError('connect', 'connect', -status) : namedError('connect', 'connect', 'EINVAL');
}

/**
 * The transport on node:dgram, without the native addon: the calls, sockets and errors of
 * {@link abyss-transport/native!UDP | UDP}, for where the addon cannot run (the main entry's `UDP` is this one there, and
 * `isNative` is false) and as a baseline to compare with. Its sockets are {@link DgramSocket}s.
 * What node:dgram cannot do fails `enotsup`, never silently; calls check in `UDP`'s order, so
 * a bad argument is still `badarg` and a closed socket `closed` before anything is refused.
 *
 * What differs from `UDP`:
 *
 * - **No ancillary data.** `send` with ancillary data is `enotsup` (a bad value is still
 *   `badarg`); received datagrams never carry `ancillary`, so the receive-side options
 *   (`pktinfo`, `recvtos`, `recvttl`, `recvtclass`, `recvhoplimit`, `recvorigdstaddr`,
 *   `timestamp`, `rxq_ovfl`, `gro`) are `enotsup`, and so are `recverr` and `recvErrorQueue`.
 * - **Only the options node:dgram has**: `recbuf`, `sndbuf`, `buffer`, `broadcast`, `ttl`
 *   (IPv4), `multicast_ttl`, `multicast_loop`, `multicast_if`, `add_membership`,
 *   `drop_membership`, `add_source_membership`, `drop_source_membership`, on IPv6
 *   `unicast_hops` (1 to 255) and `multicast_hops` (0 to 255), `reuseaddr`, `reuseport`,
 *   `ipv6_v6only`, `mode` and `active`. Every other option (`tos`, `priority`,
 *   `bind_to_device`, `mark`, `read_packets`, `coalesce`, `raw`, …) is `enotsup`, whatever
 *   its value. node:dgram fixes `reuseaddr`, `reuseport` and `ipv6_v6only` when it creates
 *   the socket: give them to `listen`/`open`; `setopts` may only repeat them (`enotsup`, or
 *   `einval` for `ipv6_v6only`). `reuseport` needs Node 22.12 / 23.1 (before that it is
 *   `enotsup` and off by default). `broadcast`, `ttl` and the multicast options read back as
 *   last set (or the kernel's default): node:dgram cannot read them.
 * - **No unix datagram sockets, no `netns`, no hand-over**: `listen` with `{ local }`,
 *   `family: 'local'` or `netns`, `controllingProcess` to another thread, and `adopt` are
 *   `enotsup`; a DgramSocket stays in the thread that made it.
 * - **Receiving is node:dgram's**: libuv reads every datagram as soon as it arrives and hands
 *   it to JavaScript, where it waits in a queue of at most `recbuf` bytes until `recv` takes
 *   it; beyond that, datagrams are dropped and counted in `getstat().kernel.drops`, as the
 *   kernel drops them for `UDP`. At most 64 datagrams are handed out per turn of the event
 *   loop. `recv(socket, n, 0)` polls by letting one turn pass; `recvBatch` returns what libuv
 *   read in one turn; `recvInto` copies into the arena.
 * - **Port 0 with the reuse flags on** (the default) may get a port another reusing socket
 *   holds, since node:dgram sets them before `bind` (`UDP` binds port 0 with them off): turn
 *   both off for a port of its own.
 * - **A connected socket sends only to its peer**: another destination is `enotsup`, and so
 *   is connecting to port 0.
 * - **`fd` and `getstat().kernel` know less**: `fd` is -1 where node:dgram's internal handle
 *   is out of reach; `kernel.rx_queue` is the bytes waiting in the JavaScript queue,
 *   `rmem_alloc`, `wmem_alloc` and `drops` come from /proc/net/udp, and `fwd_alloc`,
 *   `wmem_queued`, `optmem` and `backlog` are 0. `listen({ fd: 0 })` is `enotsup`.
 * - **Runtimes**: under Bun, whose node:dgram binds on a later turn of the event loop,
 *   `listen` is `enotsup`.
 *
 * @namespace
 * @example
 * import { DgramUDP } from 'abyss-transport';
 *
 * const socket = DgramUDP.listen(5300, { ip: 'loopback', reuseaddr: false, reuseport: false });
 * for await (const { address, port, data } of socket) await DgramUDP.send(socket, address, port, data);
 */
export const DgramUDP = {
  /**
   * As {@link abyss-transport/native!UDP.listen | UDP.listen}, through `dgram.createSocket` and `bind`: IP sockets only
   * (`{ local }` and `netns` are `enotsup`), and only node:dgram's options (see
   * {@link DgramUDP}).
   *
   * @function
   * @example
   * const socket = DgramUDP.listen(0, { ip: 'loopback' });
   */
  listen,
  /**
   * As {@link abyss-transport/native!UDP.open | UDP.open}: `listen` for client code.
   *
   * @function
   * @example
   * const client = DgramUDP.open(0, { ip: 'loopback' });
   */
  open: listen,
  /**
   * As {@link abyss-transport/native!UDP.connect | UDP.connect}, through node:dgram's `connect`; port 0 is `enotsup`, and a
   * connected socket sends only to its peer.
   *
   * @function
   * @example
   * DgramUDP.connect(socket, '127.0.0.1', 5300);
   */
  connect,
  /**
   * A node:dgram socket cannot move to another thread: `enotsup`, unless `owner` is this
   * thread (then nothing happens). A bad owner is `badarg`, a closed socket `closed`.
   *
   * @example
   * DgramUDP.controllingProcess(socket, threadId); // this thread: nothing to do
   */
  controllingProcess(socket: DgramSocket, owner: Worker | number): void {
    openSocket(socket, 'controllingProcess');
    const worker = owner instanceof Worker ? owner : undefined;
    const target = checkOwner(owner, worker !== undefined, worker ? worker.threadId : owner);
    if (target === threadId) return;
    throw enotsup('controllingProcess', 'a node:dgram socket cannot move to another thread');
  },
  /**
   * As {@link abyss-transport/native!UDP.recv | UDP.recv}, from the queue node:dgram fills: never with `ancillary`.
   *
   * @example
   * const { address, port, data } = await DgramUDP.recv(socket, 0, 5000);
   */
  recv(socket: DgramSocket, numBytes: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData<IpFamily>> {
    try {
      checkSocket(socket, 'recv');
      return socket.receive(checkCount(numBytes, 0, 'recv', 'numBytes'), 0, checkTimeout(timeout, 'recv'),
        checkSignal(options, 'recv')) as Promise<RecvData<IpFamily>>;
    } catch (error) {
      return Promise.reject(error);
    }
  },
  /**
   * As {@link abyss-transport/native!UDP.recvInto | UDP.recvInto}; node:dgram hands out a Buffer per datagram, so they are copied
   * into the arena.
   *
   * @example
   * const count = await DgramUDP.recvInto(socket, new RecvArena({ slots: 16 }), 'infinity');
   */
  recvInto(socket: DgramSocket, arena: RecvArena, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<number> {
    try {
      checkSocket(socket, 'recvInto');
      // node:dgram hands out a Buffer per datagram: they are copied into the arena.
      return (socket.receive(0, checkArena(arena, 'recvInto').slots, checkTimeout(timeout, 'recvInto'), checkSignal(options, 'recvInto')) as
        Promise<RecvData<IpFamily>[]>).then((records) => fillArena(arena, records));
    } catch (error) {
      return Promise.reject(error);
    }
  },
  /**
   * As {@link abyss-transport/native!UDP.recvBatch | UDP.recvBatch}: the first datagram and every other libuv read in the same turn
   * of the event loop, at most `max`.
   *
   * @example
   * const batch = await DgramUDP.recvBatch(socket, 64, 'infinity');
   */
  recvBatch(socket: DgramSocket, max: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData<IpFamily>[]> {
    try {
      checkSocket(socket, 'recvBatch');
      return socket.receive(0, checkCount(max, 1, 'recvBatch', 'max'), checkTimeout(timeout, 'recvBatch'),
        checkSignal(options, 'recvBatch')) as Promise<RecvData<IpFamily>[]>;
    } catch (error) {
      return Promise.reject(error);
    }
  },
  /**
   * As {@link abyss-transport/native!UDP.send | UDP.send}, through node:dgram's `send`: ancillary data is `enotsup` (an empty
   * object is none), and a connected socket sends only to its peer (`enotsup` otherwise).
   *
   * @function
   * @example
   * await DgramUDP.send(socket, '127.0.0.1', 5300, ['a', Buffer.from('b')]);
   */
  send: send as Transport<DgramSocket>['send'],
  /**
   * As {@link abyss-transport/native!UDP.sendBatch | UDP.sendBatch}, one node:dgram send per message (no `sendmmsg`); ancillary data
   * is `enotsup`. Every message is checked before the first goes out.
   *
   * @function
   * @example
   * await DgramUDP.sendBatch(socket, [{ address: '127.0.0.1', port: 5300, data: 'a' }]);
   */
  sendBatch,
  /**
   * As {@link abyss-transport/native!UDP.getopts | UDP.getopts}, for node:dgram's options; the others (and `raw`) are `enotsup`.
   *
   * @function
   * @example
   * const { recbuf } = DgramUDP.getopts(socket, ['recbuf']);
   */
  getopts,
  /**
   * As {@link abyss-transport/native!UDP.setopts | UDP.setopts}, all or nothing, for node:dgram's options; the others are
   * `enotsup`, and `reuseaddr`, `reuseport` and `ipv6_v6only` may only be repeated.
   *
   * @example
   * DgramUDP.setopts(socket, { recbuf: 1 << 20, multicast_ttl: 4 });
   */
  setopts(socket: DgramSocket, options: SocketOptions): void {
    openSocket(socket, 'setopts');
    if (!isPlainObject(options)) throw badarg('setopts', `options must be an object, got ${show(options)}`);
    const planned = plan(socket.family, options as Record<string, unknown>, 'setopts');
    // Reading the values may have run a getter that closed the socket.
    socket.assertOpen('setopts');
    apply(socket, planned, 'setopts');
  },
  /**
   * As {@link abyss-transport/native!UDP.close | UDP.close}: idempotent; pending calls reject `closed`.
   *
   * @example
   * DgramUDP.close(socket);
   */
  close(socket: DgramSocket): void {
    checkSocket(socket, 'close').shut();
  },
  /**
   * As {@link abyss-transport/native!UDP.sockname | UDP.sockname} (node:dgram's `address()`).
   *
   * @example
   * const { port } = DgramUDP.sockname(socket);
   */
  sockname(socket: DgramSocket): IpSocketInfo {
    openSocket(socket, 'sockname');
    try {
      return info(socket.dgram.address());
    } catch (error) {
      throw fromNode(error, 'sockname', 'getsockname');
    }
  },
  /**
   * As {@link abyss-transport/native!UDP.peername | UDP.peername} (node:dgram's `remoteAddress()`): `enotconn` when not connected.
   *
   * @example
   * DgramUDP.peername(socket);
   */
  peername(socket: DgramSocket): IpSocketInfo {
    openSocket(socket, 'peername');
    if (!socket.peer) throw namedError('peername', 'getpeername', 'ENOTCONN');
    try {
      return info(socket.dgram.remoteAddress());
    } catch (error) {
      throw fromNode(error, 'peername', 'getpeername');
    }
  },
  /**
   * As {@link abyss-transport/native!UDP.getstat | UDP.getstat}; `kernel` knows less (see {@link DgramUDP}).
   *
   * @function
   * @example
   * const { recv_cnt } = DgramUDP.getstat(socket);
   */
  getstat: ((socket: DgramSocket, names?: (keyof SocketStats)[]): Partial<SocketStats> => {
    openSocket(socket, 'getstat');
    return selectStats(statistics(socket.counters, socket.sendPending, kernelOf(socket)), names);
  }) as {
    (socket: DgramSocket): SocketStats;
    <N extends keyof SocketStats>(socket: DgramSocket, names: N[]): Pick<SocketStats, N>;
  },
  /**
   * As {@link abyss-transport/native!UDP.negotiatedProtocol | UDP.negotiatedProtocol}: always `protocol_not_negotiated`.
   *
   * @example
   * DgramUDP.negotiatedProtocol(socket); // throws protocol_not_negotiated
   */
  negotiatedProtocol(socket: DgramSocket): string {
    openSocket(socket, 'negotiatedProtocol');
    throw new TransportError('protocol_not_negotiated', 'negotiatedProtocol: plain UDP negotiates no protocol');
  },
  // The native UDP's extras, so that either can stand behind the main entry's `UDP`.
  /**
   * A node:dgram socket cannot move to another thread: always `enotsup`.
   *
   * @example
   * DgramUDP.adopt(handoff); // throws enotsup
   */
  adopt(handoff: SocketHandoff): DgramSocket {
    throw enotsup('adopt', `a node:dgram socket cannot move to another thread (handoff ${show(handoff)})`);
  },
  /**
   * node:dgram reads no error queue: `enotsup` (`closed` once closed).
   *
   * @example
   * DgramUDP.recvErrorQueue(socket); // throws enotsup
   */
  recvErrorQueue(socket: DgramSocket): ErrorQueueEntry | undefined {
    openSocket(socket, 'recvErrorQueue');
    throw enotsup('recvErrorQueue', 'node:dgram reads no error queue (IP_RECVERR)');
  },
  /**
   * node:dgram never merges datagrams (no GRO): a datagram it received comes back alone. One
   * with `ancillary.segmentSize` is `enotsup`; not a datagram, `badarg`.
   *
   * @example
   * DgramUDP.splitSegments(datagram); // [datagram]
   */
  splitSegments<F extends IpFamily>(datagram: RecvData<F>): RecvData<F>[] {
    if (!isPlainObject(datagram) || !types.isUint8Array(datagram.data)) throw badarg('splitSegments', `not a received datagram: ${show(datagram)}`);
    if (isPlainObject(datagram.ancillary) && datagram.ancillary.segmentSize !== undefined) {
      throw enotsup('splitSegments', 'node:dgram receives no GRO batches to split');
    }
    return [datagram];
  },
} satisfies Transport<DgramSocket> & Record<string, unknown>;

// `abyss-transport/dgram`: this transport under the names of the main entry, whether or not
// the addon could run.
export { DgramUDP as UDP, DgramSocket as Socket };
export { ContractSocket, type SocketEvents } from '../contract/socket';
export { RecvArena } from '../contract/arena';
export { TransportError } from '../errors';
export type * from '../types';
