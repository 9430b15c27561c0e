import os from 'node:os';
import { types } from 'node:util';
import { threadId, Worker } from 'node:worker_threads';
import {
  batchMessages, bindAddress, checkCount, checkDestination, checkOwner, checkPort, checkSignal, checkTimeout, isPlainObject,
  listenArguments, resolveFamily, resolveHost, sendArguments, validActive, type Destination,
} from '../contract/arguments';
import { selectStats, statistics } from '../contract/counters';
import { byteLength, flatten } from '../contract/iodata';
import { type RecvArena, checkArena } from '../contract/arena';
import { REFUSED_OPTIONS, refuse } from '../contract/options';
import { TransportError, badarg, closedError, notOwnerError, show, systemError } from '../errors';
import type {
  Active, BatchMessage, Coalesce, ErrorQueueEntry, IpFamily, KernelStats, ListenOptions, OptionName, OptionsOf, RecvData, SocketFamily,
  SocketInfoOf, SocketOptions, SocketHandoff, SocketStats, Timeout, Transport,
} from '../types';
import { encodeAncillary } from './ancillary';
import { AF_INET, AF_INET6, AF_UNIX, binding, shared } from './binding';
import {
  FACADE_OPTIONS, MAX_RAW_LENGTH, OPTION_ROWS, RECEIVE_ANCILLARY_OPTIONS, ROWS, decodeOption, facadeOption, parseCoalesce, planOptions,
  readableRow, siteOf, type PlannedOptions,
} from './options';
import {
  ADOPT_CLOSED, ADOPT_NOT_HERE, ADOPT_TAKEN, ADOPT_UNKNOWN, ADOPTED, RECORD_PIECES, RECORD_PORT, RECORD_STRIDE, STAT_BACKLOG,
  STAT_DROPS, STAT_FWD_ALLOC, STAT_OPTMEM, STAT_RCVBUF, STAT_RMEM_ALLOC, STAT_RX_QUEUE, STAT_SNDBUF, STAT_TX_QUEUE,
  STAT_WMEM_ALLOC, STAT_WMEM_QUEUED, STATUS_ENTRY, STATUS_ERRNO,
} from './protocol';
import { readErrorEntry, receiving, splitSegments } from './records';
import { CHECK_RECORD, Socket, nativeError, readError, type OutgoingBatch } from './socket';

const { sendRecords, status, kernelStats } = shared;
const DOMAINS: Record<SocketFamily, number> = { inet: AF_INET, inet6: AF_INET6, local: AF_UNIX };

function checkSocket(socket: unknown, operation: string): Socket {
  if (!Socket.is(socket)) throw badarg(operation, `not a socket: ${show(socket)}`);
  return socket;
}

function rejectWith(error: unknown): Promise<never> {
  return Promise.reject(error);
}

/** Applies checked options, all or nothing, and keeps the facade's bookkeeping of them. */
function applyOptions(socket: Socket, planned: PlannedOptions, operation: string): void {
  // Checking the values may have run a getter that closed the socket or handed it away.
  socket.assertOwner(operation);
  const result = socket.native.setopts(planned.entries, planned.applied.length);
  if (result < 0) {
    const [name, value] = planned.applied[status[STATUS_ENTRY]];
    throw systemError(operation, 'setsockopt', -result, ` ${name} = ${show(value)}`);
  }
  for (const [name, value] of planned.applied) {
    if (RECEIVE_ANCILLARY_OPTIONS.has(name)) socket.receiveOptions[value ? 'add' : 'delete'](name);
  }
  socket.ancillary = receiving(socket.receiveOptions);
  for (const [name, value] of planned.facade) FACADE_OPTIONS[name].set(socket, value);
}

/** Opens `native`: a new socket of `family` (in `netns`), or the descriptor `fd`. */
function openNative(native: InstanceType<typeof binding.NativeSocket>, family: SocketFamily, fd: number | undefined, netns: string | undefined): void {
  if (fd !== undefined && binding.ownsDescriptor(fd)) throw badarg('listen', `fd ${fd} is already a socket of this package`);
  const result = fd !== undefined ? native.openDescriptor(fd) : native.open(DOMAINS[family], netns);
  if (result >= 0) return;
  // openDescriptor says EPROTOTYPE for a socket that is not a datagram socket.
  if (fd !== undefined && -result === os.constants.errno.EPROTOTYPE) {
    throw new TransportError('einval', `listen: fd ${fd} is not a datagram socket`);
  }
  throw nativeError('listen', result);
}

function listen(port: number, options: ListenOptions = {}): Socket {
  checkPort(port, 'listen');
  const { ip, family: familyName, fd, netns, active, socketOptions } = listenArguments(options);
  const requested = resolveFamily(ip, familyName);
  const address = bindAddress(ip, requested);
  if (requested === 'local' && port !== 0) throw badarg('listen', `a local socket takes port 0, got ${port}`);
  const native = new binding.NativeSocket();
  openNative(native, requested, fd, netns);
  const socket = new Socket(native);
  try {
    const defaults = socket.family === 'local' ? {} : { reuseaddr: true, reuseport: true };
    applyOptions(socket, planOptions({ ...defaults, ...socketOptions }, socket.family, 'listen'), 'listen');
    if (fd === undefined && address !== undefined) {
      const result = native.bind(address, port);
      if (result < 0) throw nativeError('listen', result);
    }
    if (active !== undefined) socket.setActive(active);
  } catch (error) {
    native.close();
    throw error;
  }
  return socket;
}

/** The send overloads, each argument read once. */
function send(socket: Socket, ...args: unknown[]): Promise<void> {
  try {
    checkSocket(socket, 'send');
    const family = socket.family;
    const { addressed, address, port, ancillary, data } = sendArguments(args);
    const destination: Destination | undefined = addressed ? checkDestination(address, port, family, 'send', 'resolve') : undefined;
    const pieces = flatten(data);
    if (pieces === undefined) throw badarg('send', 'data must be iodata: a string, a Uint8Array or nested arrays of them');
    let record: Int32Array | undefined;
    let pktinfoAddress: string | undefined;
    if (ancillary !== undefined) {
      pktinfoAddress = encodeAncillary(ancillary, family, sendRecords, CHECK_RECORD, 'send');
      record = sendRecords.slice(CHECK_RECORD, CHECK_RECORD + RECORD_STRIDE);
    }
    const datagram = { pieces, destination: destination?.text, port: destination?.port ?? 0, record, pktinfoAddress };
    if (destination?.host === undefined) return socket.transmit(datagram);
    const resolved = resolveHost(destination.host, family, 'send').then((ip) => ({ datagram: { ...datagram, destination: ip } }));
    return socket.transmitWhenResolved(resolved, byteLength(pieces), 'send') as Promise<unknown> as Promise<void>;
  } catch (error) {
    return rejectWith(error);
  }
}

/**
 * sendBatch's messages, checked and flattened before the first goes out: a bad one sends
 * nothing. `hosts`: the messages whose destination is a host name to resolve, by name.
 */
function flattenBatch(messages: unknown, family: SocketFamily, hosts: Map<string, number[]>): OutgoingBatch {
  const fields = batchMessages(messages);
  const count = fields.length;
  const batch: OutgoingBatch = { pieces: [], texts: [], records: new Int32Array(count * RECORD_STRIDE), count };
  // Batches mostly repeat one destination: an address found valid is not checked again.
  let checked: Destination | undefined;
  for (let index = 0; index < count; index++) {
    const { address, port, data, ancillary } = fields[index];
    const base = index * RECORD_STRIDE;
    let destination: Destination | undefined;
    if (address !== undefined) {
      if (checked === undefined || typeof address !== 'string' || address !== checked.text || port !== checked.port) {
        checked = checkDestination(address, port, family, 'sendBatch', 'resolve');
      }
      destination = checked;
      if (checked.host !== undefined) hosts.set(checked.host, [...(hosts.get(checked.host) ?? []), index]);
    }
    const pieces = flatten(data);
    if (pieces === undefined) throw badarg('sendBatch', `message ${index}: data must be iodata`);
    const pktinfoAddress = ancillary !== undefined ? encodeAncillary(ancillary, family, batch.records, base, 'sendBatch') : undefined;
    if (Array.isArray(pieces)) {
      for (const piece of pieces) batch.pieces.push(piece);
      batch.records[base + RECORD_PIECES] = pieces.length;
    } else {
      batch.pieces.push(pieces);
      batch.records[base + RECORD_PIECES] = 1;
    }
    batch.records[base + RECORD_PORT] = destination?.port ?? 0;
    batch.texts.push(destination?.text, pktinfoAddress);
  }
  return batch;
}

function sendBatch(socket: Socket, messages: BatchMessage[]): Promise<number> {
  try {
    checkSocket(socket, 'sendBatch');
    const hosts = new Map<string, number[]>();
    const batch = flattenBatch(messages, socket.family, hosts);
    if (hosts.size === 0) return socket.transmitBatch(batch);
    const resolved = Promise.all([...hosts].map(async ([host, indexes]) => {
      const ip = await resolveHost(host, socket.family, 'sendBatch');
      for (const index of indexes) batch.texts[2 * index] = ip;
    })).then(() => ({ batch }));
    return socket.transmitWhenResolved(resolved, byteLength(batch.pieces), 'sendBatch') as Promise<number>;
  } catch (error) {
    return rejectWith(error);
  }
}

/** A raw option to read, `{ raw: { level, option, length } }`, its fields read once. */
function readRaw(socket: Socket, raw: Record<string, unknown>) {
  const fields = { level: raw.level, option: raw.option, length: raw.length };
  for (const [key, value] of Object.entries(fields)) {
    const high = key === 'length' ? MAX_RAW_LENGTH : 2 ** 31 - 1;
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > high) {
      throw badarg('getopts', `raw ${key} must be an integer from 0 to ${high}, got ${show(value)}`);
    }
  }
  const value = socket.native.getoptRaw(fields.level as number, fields.option as number, fields.length as number);
  if (typeof value === 'number') throw readError('getopts', -value);
  return { level: fields.level as number, option: fields.option as number, value };
}

function getopts<N extends OptionName>(socket: Socket, names: N[]): OptionsOf<N> {
  checkSocket(socket, 'getopts');
  if (socket.closed) throw closedError('getopts');
  if (!Array.isArray(names)) throw badarg('getopts', `names must be an array, got ${show(names)}`);
  const result: Record<string, unknown> = {};
  const raws: unknown[] = [];
  for (let i = 0, count = names.length; i < count; i++) {
    const name: unknown = names[i];
    if (typeof name === 'string') {
      if (REFUSED_OPTIONS.has(name)) refuse('getopts', name, undefined);
      if (name === 'raw') throw badarg('getopts', 'raw is read as { raw: { level, option, length } }');
      const local = facadeOption(name);
      if (local) {
        result[name] = local.get(socket);
        continue;
      }
      const row = readableRow(name, socket.family, 'getopts');
      const value = socket.native.getopt(row);
      if (value === undefined) throw readError('getopts', status[STATUS_ERRNO], ` ${name}`);
      result[name] = decodeOption(OPTION_ROWS[row], value);
    } else {
      const raw = isPlainObject(name) && Object.keys(name).length === 1 ? name.raw : undefined;
      if (!isPlainObject(raw)) throw badarg('getopts', `not an option name: ${show(name)}`);
      raws.push(readRaw(socket, raw));
    }
  }
  if (raws.length > 0) result.raw = raws.length === 1 ? raws[0] : raws;
  return result as OptionsOf<N>;
}

function controllingProcess(socket: Socket, owner: Worker | number): void {
  checkSocket(socket, 'controllingProcess');
  socket.assertOwner('controllingProcess');
  const worker = owner instanceof Worker ? owner : undefined;
  const target = checkOwner(owner, worker !== undefined, worker ? worker.threadId : owner);
  if (target === threadId) return;
  // A live thread that has not loaded the addon is known by its Worker only: Node has no way to
  // tell its threadId from a typo, and a socket handed to no one would stay open unowned.
  if (!socket.handOver(target, worker !== undefined)) {
    throw badarg('controllingProcess', `thread ${target} has not loaded abyss-transport, or has exited: ` +
      'pass the Worker object, or wait until the worker has loaded abyss-transport');
  }
  if (worker) handedTo(worker).add(socket);
}

/** Sockets handed to each Worker: one exit listener per Worker closes those it never adopted. */
const handed = new WeakMap<Worker, Set<Socket>>();
function handedTo(worker: Worker): Set<Socket> {
  let sockets = handed.get(worker);
  if (!sockets) {
    const mine = new Set<Socket>();
    const thread = worker.threadId;
    worker.once('exit', () => {
      for (const socket of mine) socket.native.reap(thread);
    });
    handed.set(worker, mine);
    sockets = mine;
  }
  return sockets;
}

/**
 * A datagram a ref carries, as the thread that handed the socket over read it, or as a
 * structured clone made it (its Buffer a plain Uint8Array): a RecvData again.
 */
function carriedDatagram(value: unknown): RecvData | undefined {
  if (!isPlainObject(value)) return undefined;
  const { address, port, data, ancillary, truncated } = value;
  if (!types.isUint8Array(data) || !Number.isInteger(port) || !(typeof address === 'string' || isPlainObject(address)) ||
      (ancillary !== undefined && !isPlainObject(ancillary)) || (truncated !== undefined && truncated !== true)) {
    return undefined;
  }
  const datagram: RecvData = {
    address: address as RecvData['address'],
    port: port as number,
    data: Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  };
  // A copy, read once: what it holds cannot change under the caller.
  if (ancillary !== undefined) datagram.ancillary = { ...ancillary };
  if (truncated) datagram.truncated = true;
  return datagram;
}

const ADOPT_ERRORS: Record<number, () => TransportError> = {
  [ADOPT_UNKNOWN]: () => badarg('adopt', 'no socket has that handoff'),
  [ADOPT_CLOSED]: () => new TransportError('closed', 'adopt: the socket is closed'),
  [ADOPT_NOT_HERE]: () => notOwnerError('adopt'),
  [ADOPT_TAKEN]: () => badarg('adopt', 'the socket was already adopted by this thread'),
};

interface RefFields {
  id: number;
  carry: RecvData[];
  buffer: number;
  readPackets: number;
  active: unknown;
  coalesce: Coalesce | false;
}

/** A ref's fields, read once, and its carried datagrams; undefined when it is no ref. */
function readRef(ref: unknown): RefFields | undefined {
  if (!isPlainObject(ref)) return undefined;
  const { abyssSocket: id, carry, buffer, readPackets, active, coalesce } = ref;
  const coalesced = coalesce === undefined ? false : parseCoalesce(coalesce);
  if (!Number.isSafeInteger(id) || (id as number) < 1 || !Array.isArray(carry) || FACADE_OPTIONS.buffer.parse(buffer) === undefined ||
      FACADE_OPTIONS.read_packets.parse(readPackets) === undefined || (active !== undefined && !validActive(active)) ||
      coalesced === undefined) {
    return undefined;
  }
  const datagrams: RecvData[] = [];
  for (let i = 0, count = carry.length; i < count; i++) {
    const datagram = carriedDatagram(carry[i]);
    if (datagram === undefined) return undefined;
    datagrams.push(datagram);
  }
  return { id: id as number, carry: datagrams, buffer: buffer as number, readPackets: readPackets as number, active, coalesce: coalesced };
}

function adopt(handoff: SocketHandoff): Socket {
  // socket.ref was the token's first name; it is node:dgram's ref() now.
  if (typeof handoff === 'function') throw badarg('adopt', 'that is the socket\'s ref() method: pass socket.handoff');
  const fields = readRef(handoff);
  if (fields === undefined) throw badarg('adopt', `not a socket handoff: ${show(handoff)}`);
  const native = new binding.NativeSocket();
  const result = native.adopt(fields.id);
  if (result !== ADOPTED) throw ADOPT_ERRORS[result]();
  const socket = new Socket(native, fields.carry);
  socket.buffer = fields.buffer;
  socket.readPackets = fields.readPackets;
  socket.setCoalesce(fields.coalesce);
  for (const name of RECEIVE_ANCILLARY_OPTIONS) {
    const row = ROWS.get(name)!;
    if (siteOf(OPTION_ROWS[row], socket.family)[0] >= 0 && native.getopt(row) === 1) socket.receiveOptions.add(name);
  }
  socket.ancillary = receiving(socket.receiveOptions);
  // In the mode it was handed over in: it emits from the first datagram here on.
  if (fields.active !== undefined && fields.active !== false) socket.setActive(fields.active as Active);
  return socket;
}

/** One end of a socket, as the contract shapes it. */
function endName<F extends SocketFamily>(socket: Socket<F>, peer: boolean): SocketInfoOf<F> {
  const operation = peer ? 'peername' : 'sockname';
  if (checkSocket(socket, operation).closed) throw closedError(operation);
  const name = socket.native.name(peer);
  if (typeof name === 'number') throw readError(operation, -name);
  const [address, port] = name;
  if (port < 0) return { local: address } as SocketInfoOf<F>;
  return { address, family: address.includes(':') ? 'IPv6' : 'IPv4', port } as SocketInfoOf<F>;
}

/** What the kernel knows of the socket (SO_MEMINFO, SIOCINQ, SIOCOUTQ). */
function kernelOf(socket: Socket): KernelStats {
  const result = socket.native.stats();
  if (result < 0) throw readError('getstat', -result);
  return {
    rx_queue: kernelStats[STAT_RX_QUEUE],
    tx_queue: kernelStats[STAT_TX_QUEUE],
    drops: kernelStats[STAT_DROPS],
    rmem_alloc: kernelStats[STAT_RMEM_ALLOC],
    rcvbuf: kernelStats[STAT_RCVBUF],
    wmem_alloc: kernelStats[STAT_WMEM_ALLOC],
    sndbuf: kernelStats[STAT_SNDBUF],
    fwd_alloc: kernelStats[STAT_FWD_ALLOC],
    wmem_queued: kernelStats[STAT_WMEM_QUEUED],
    optmem: kernelStats[STAT_OPTMEM],
    backlog: kernelStats[STAT_BACKLOG],
  };
}

// The IP overload comes first: options typed `any` (a parsed config, say) match the first
// overload that takes them, and most sockets are IP sockets.
function listenTyped(port: number, options?: ListenOptions & { ip?: string; family?: IpFamily }): Socket<IpFamily>;
function listenTyped(port: number, options: ListenOptions & ({ ip: { local: string } } | { family: 'local' })): Socket<'local'>;
function listenTyped(port: number, options?: ListenOptions): Socket;
function listenTyped(port: number, options?: ListenOptions): Socket {
  return listen(port, options);
}

/**
 * The transport: UDP sockets on the native addon, which calls `recvmmsg`, `sendmsg`,
 * `sendmmsg`, `getsockopt` and `setsockopt` itself (Linux). It implements the Abyss.Transport
 * behaviour ({@link Transport}): every call takes the socket first; every call that takes a
 * socket is also a method of it (`socket.recv(0, 1000)`). Calls that can wait (`recv`,
 * `recvBatch`, `recvInto`, `send`, `sendBatch`) return promises that reject with a
 * {@link TransportError}; the others throw one. Its `reason` is the contract's (`'timeout'`,
 * `'closed'`, `'not_owner'`, `'badarg'`, `'enotsup'`, …) or the errno's name (`'eaddrinuse'`).
 *
 * This is `abyss-transport/native`'s `UDP`, and the main entry's where the addon runs
 * (`isNative`); elsewhere the main entry's `UDP` is {@link abyss-transport!DgramUDP | DgramUDP}.
 *
 * @namespace
 * @example
 * import { UDP } from 'abyss-transport';
 *
 * const socket = UDP.listen(5300, { ip: 'loopback' });
 * for await (const { address, port, data } of socket) {
 *   await UDP.send(socket, address, port, data);
 * }
 */
export const UDP = {
  /**
   * Opens a UDP socket bound to `port` (0: a free one, see `sockname`) on `options.ip`
   * (`'any'` by default), or a unix datagram socket (`ip: { local: path }` or `family:
   * 'local'`). Every socket option may be given here and is applied before `bind`;
   * `reuseaddr` and `reuseport` are on unless turned off, so a second listen on the same port
   * shares it (see {@link SocketOptions}). The socket is passive unless `active` is given.
   *
   * Throws `badarg` (a bad port, option or address; a host name as `ip`), `eaddrinuse` (the
   * port is taken by a socket that does not share it), `eaddrnotavail` (an `ip` this host
   * does not have), `eacces` (a port below 1024 without `CAP_NET_BIND_SERVICE`), `eperm` (a
   * privileged option), `enodev`, `eafnosupport`, each with `syscall` set.
   *
   * @function
   * @example
   * const server = UDP.listen(5300, { ip: 'any', recbuf: 1 << 22 });
   * const unix = UDP.listen(0, { ip: { local: '/tmp/app.sock' } });
   */
  listen: listenTyped,
  /**
   * `listen` under the name client code uses (the UDP module's `open`): the same socket, the
   * same options and errors. Port 0 picks a free one.
   *
   * @function
   * @example
   * const client = UDP.open(0);
   * await UDP.send(client, '127.0.0.1', 5300, 'ping');
   * const reply = await UDP.recv(client, 0, 2000);
   */
  open: listenTyped,
  /**
   * Fixes the socket's peer (`gen_udp:connect/3`): `send(socket, data)` goes there, `peername`
   * names it, only its datagrams are received, and ICMP errors for it come back (`econnrefused`
   * on the next `recv`). `address` is an IP literal, `'localhost'`, or `{ local: path }`; a
   * host name is `badarg` (resolve it first with `dns.lookup`).
   *
   * Throws `badarg`, `eafnosupport` (an address of the other family), the kernel's reason
   * (syscall `connect`), `closed`, `not_owner`.
   *
   * @example
   * UDP.connect(socket, '192.0.2.1', 53);
   * await UDP.send(socket, query);
   */
  connect(socket: Socket, address: string | { local: string }, port: number): void {
    checkSocket(socket, 'connect');
    socket.assertOwner('connect');
    const destination = checkDestination(address, port, socket.family, 'connect');
    const result = socket.native.connect(destination.text, destination.port);
    if (result < 0) throw nativeError('connect', result);
  },
  /**
   * Hands the socket to another thread (`controlling_process`): from now on only `owner` may
   * `recv`, `send`, `setopts`, `connect`, `close` or hand it on; here those fail `not_owner`,
   * and pending `recv`s reject `not_owner` at once. Post `socket.handoff` to that thread, which
   * calls {@link UDP.adopt} with it. Datagrams this thread had read ahead and the socket's
   * active mode travel with it. A socket handed to a Worker that exits without adopting it is
   * closed. Handing it to this thread does nothing.
   *
   * Pass the `Worker` object: it is taken at once, even before the worker has loaded
   * abyss-transport. A bare `threadId` works only for a live thread that has already loaded
   * the package (Node cannot tell another live thread's id from a typo, and a socket handed to
   * no one would stay open unowned): otherwise it is `badarg` ("pass the Worker object, or wait
   * until the worker has loaded abyss-transport"). An exited Worker is `badarg` too.
   *
   * Throws `badarg`, `not_owner`, `closed`.
   *
   * @function
   * @example
   * // main thread
   * const worker = new Worker('./worker.js');
   * UDP.controllingProcess(socket, worker);
   * worker.postMessage({ handoff: socket.handoff });
   * // worker.js
   * parentPort.on('message', ({ handoff }) => serve(UDP.adopt(handoff)));
   */
  controllingProcess,
  /**
   * The thread a socket was handed to with `controllingProcess` gets its own `Socket` for the
   * same kernel socket from the `socket.handoff` posted to it: in the active mode the socket
   * was in, with the datagrams the previous owner had read ahead first in line.
   *
   * Throws `badarg` (not a handoff; the socket's `ref` method, the token's old name; adopted
   * twice), `not_owner` (the socket was not handed to this thread), `closed` (closed since).
   *
   * @function
   * @example
   * parentPort.on('message', async ({ handoff }) => {
   *   const socket = UDP.adopt(handoff);
   *   for await (const datagram of socket) handle(datagram);
   * });
   */
  adopt,
  /**
   * The next datagram (`gen_udp:recv/3`): with `numBytes` 0 the whole datagram (up to the
   * `buffer` option's bytes), else at most `numBytes` bytes of it (`truncated` marks a cut).
   * With a receive-side ancillary option on, `ancillary` says what the kernel knew of it.
   * Several calls may wait at once: they are served in call order, one datagram each, and one
   * that times out or is aborted never takes a datagram a later one should get.
   *
   * Rejects with `timeout` when nothing came in time (`timeout` 0 polls once), `aborted`
   * (`options.signal`; the signal's reason is the error's `cause`), `einval` (the socket is
   * in active mode), `closed`, `not_owner`, `badarg` (bad arguments), or an error the kernel
   * reported for the socket, syscall `recvmsg` (`econnrefused` after an ICMP port unreachable
   * on a connected socket, or on any socket with `recverr`; `ehostunreach`, …).
   *
   * @example
   * try {
   *   const { address, port, data } = await UDP.recv(socket, 0, 5000);
   * } catch (error) {
   *   if (error.reason !== 'timeout') throw error;
   * }
   */
  recv<F extends SocketFamily>(socket: Socket<F>, numBytes: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData<F>> {
    try {
      checkSocket(socket, 'recv');
      return socket.receive(checkCount(numBytes, 0, 'recv', 'numBytes'), 0, checkTimeout(timeout, 'recv'),
        checkSignal(options, 'recv')) as Promise<RecvData<F>>;
    } catch (error) {
      return rejectWith(error);
    }
  },
  /**
   * Waits as `recv` does for the first datagram, then resolves with it and every other
   * datagram already queued, at most `max`: one `recvmmsg` for many datagrams. Datagrams are
   * whole (up to `buffer`). Counted in `getstat` as `recv` counts them. Rejects as `recv`
   * does (`badarg` for a `max` below 1).
   *
   * @example
   * for (;;) {
   *   const batch = await UDP.recvBatch(socket, 64, 'infinity');
   *   await UDP.sendBatch(socket, batch.map(({ address, port, data }) => ({ address, port, data })));
   * }
   */
  recvBatch<F extends SocketFamily>(socket: Socket<F>, max: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData<F>[]> {
    try {
      checkSocket(socket, 'recvBatch');
      return socket.receive(0, checkCount(max, 1, 'recvBatch', 'max'), checkTimeout(timeout, 'recvBatch'),
        checkSignal(options, 'recvBatch')) as Promise<RecvData<F>[]>;
    } catch (error) {
      return rejectWith(error);
    }
  },
  /**
   * As `recvBatch`, into `arena`'s memory, which every call reuses: the kernel writes the
   * datagrams straight into its slots and nothing is allocated per datagram. Resolves with
   * how many datagrams the arena holds now (GRO messages split into their segments); read them
   * with the arena's accessors before the next receive into it. Rejects as `recv` does;
   * `badarg` when `arena` is not a {@link RecvArena}.
   *
   * @example
   * const arena = new RecvArena({ slots: 64, slotSize: 2048 });
   * for (;;) {
   *   const count = await UDP.recvInto(socket, arena, 'infinity');
   *   for (let i = 0; i < count; i++) handle(arena.data.subarray(arena.offset(i), arena.offset(i) + arena.length(i)));
   * }
   */
  recvInto(socket: Socket, arena: RecvArena, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<number> {
    try {
      checkSocket(socket, 'recvInto');
      return socket.receive(0, checkArena(arena, 'recvInto').slots, checkTimeout(timeout, 'recvInto'), checkSignal(options, 'recvInto'), arena);
    } catch (error) {
      return rejectWith(error);
    }
  },
  /**
   * Sends one datagram (`gen_udp:send`), by one of four overloads:
   * `send(socket, data)` to the connected peer; `send(socket, destination, data)` with what
   * `sockname` returned or `{ address, port }`; `send(socket, address, port, data)`; and
   * `send(socket, address, port, ancillary, data)` with this datagram's {@link SendAncillary}
   * (`ttl`, `tos`, `pktinfo` to choose the source address, `segmentSize` for GSO, …).
   * `address` is an IP literal, a host name (resolved in the socket's family with
   * `dns.lookup`, as node:dgram does), or `{ local: path }`. `data` is {@link IOData}: pieces
   * are gathered by the kernel into one datagram. Resolves once the kernel took the datagram;
   * when the send buffer is full it waits for room, keeping the order of sends.
   *
   * Rejects with `badarg` (bad arguments or ancillary data), `eafnosupport` (an address of the
   * other family), `nxdomain` (a host name that does not resolve), `edestaddrreq`
   * (`send(socket, data)` unconnected), `emsgsize` (too long), `eacces` (broadcast without
   * the `broadcast` option), `einval` (port 0), `enetunreach`, `enodev`, … (syscall `sendmsg`),
   * `closed`, `not_owner`.
   *
   * @function
   * @example
   * await UDP.send(socket, '127.0.0.1', 5300, 'hello');
   * await UDP.send(socket, { address: 'example.com', port: 7 }, [header, body]);
   * await UDP.send(socket, address, port, { pktinfo: received.ancillary.pktinfo, ttl: 4 }, reply);
   */
  send: send as Transport<Socket>['send'],
  /**
   * Sends `messages` in order ({@link BatchMessage}: destination, data, ancillary data each),
   * up to 64 per `sendmmsg`; resolves with how many went out, which is all of them unless it
   * rejects. Every message is checked (and every host name resolved) before the first goes
   * out: a bad one is `badarg` and sends nothing. Counted in `getstat` as single sends are.
   * Rejects as `send` does; a kernel refusal partway rejects with its reason, the messages
   * before it sent.
   *
   * @function
   * @example
   * const sent = await UDP.sendBatch(socket, [
   *   { address: '127.0.0.1', port: 5300, data: 'a' },
   *   { address: '127.0.0.1', port: 5301, data: 'b', ancillary: { ttl: 1 } },
   * ]); // 2
   */
  sendBatch,
  /**
   * Reads options (`inet:getopts/2`): exactly the names asked for, with the values as
   * {@link SocketOptions} shapes them (buffer sizes read back doubled, as Linux reports
   * them). `{ raw: { level, option, length } }` reads a kernel option as bytes. Any thread may
   * read a socket's options.
   *
   * Throws `badarg` (an unknown name, `raw` as a bare name), `einval` (a set-only option such
   * as `add_membership`, or one of the other family), `closed`, or the kernel's reason
   * (syscall `getsockopt`).
   *
   * @function
   * @example
   * const { recbuf, reuseport } = UDP.getopts(socket, ['recbuf', 'reuseport']);
   */
  getopts,
  /**
   * Sets options (`inet:setopts/2`), all or nothing: every entry is checked before any is
   * applied, and when the kernel refuses one the ones applied before it are put back. See
   * {@link SocketOptions} for each option.
   *
   * Throws `badarg` (an unknown name; a bad value, with what the option expects; a listen-only
   * option such as `ip`; a refused one such as `mode: 'list'`), `einval` (an option of the
   * other family), the kernel's reason with syscall `setsockopt` (`eperm` for a privileged
   * option, `enodev`, `eaddrinuse` for a group joined twice, …), `closed`, `not_owner`.
   *
   * @example
   * UDP.setopts(socket, { recbuf: 1 << 22, add_membership: ['239.1.2.3', '0.0.0.0'] });
   */
  setopts(socket: Socket, options: SocketOptions): void {
    checkSocket(socket, 'setopts');
    socket.assertOwner('setopts');
    if (!isPlainObject(options)) throw badarg('setopts', `options must be an object, got ${show(options)}`);
    applyOptions(socket, planOptions(options, socket.family, 'setopts'), 'setopts');
  },
  /**
   * Closes the socket. Idempotent. Every pending `recv` and `send` on it rejects `closed` at
   * once, and every later call on it fails `closed` (a read-only call from another thread
   * too). Throws `not_owner` when another thread owns it, `badarg` for a non-socket.
   *
   * @example
   * process.once('SIGINT', () => UDP.close(socket));
   */
  close(socket: Socket): void {
    checkSocket(socket, 'close').shut();
  },
  /**
   * The socket's own address: `{ address, family, port }` for an IP socket (the port
   * `listen(0)` picked), `{ local }` for a unix one (`''` when unnamed). Throws `closed`,
   * `badarg`; the kernel's reason otherwise (syscall `getsockname`).
   *
   * @example
   * const { port } = UDP.sockname(UDP.listen(0));
   */
  sockname<F extends SocketFamily>(socket: Socket<F>): SocketInfoOf<F> {
    return endName(socket, false);
  },
  /**
   * The connected peer's address (after `connect`). Throws `enotconn` when the socket is not
   * connected (syscall `getpeername`), `closed`, `badarg`.
   *
   * @example
   * UDP.connect(socket, '127.0.0.1', 5300);
   * UDP.peername(socket); // { address: '127.0.0.1', family: 'IPv4', port: 5300 }
   */
  peername<F extends SocketFamily>(socket: Socket<F>): SocketInfoOf<F> {
    return endName(socket, true);
  },
  /**
   * The socket's counters (`inet:getstat`): what this package received and sent on it
   * (`recv_cnt`, `send_oct`, …, kept per socket across threads) and under `kernel` what the
   * kernel knows (`drops`, `rmem_alloc`, …); see {@link SocketStats}. Given names, only those
   * counters (`inet:getstat/2`). Any thread may read. Throws `badarg` (an unknown name),
   * `closed`.
   *
   * @function
   * @example
   * const { recv_cnt, kernel: { drops } } = UDP.getstat(socket);
   * const { send_oct } = UDP.getstat(socket, ['send_oct']);
   */
  getstat: ((socket: Socket, names?: (keyof SocketStats)[]): Partial<SocketStats> => {
    checkSocket(socket, 'getstat');
    if (socket.closed) throw closedError('getstat');
    return selectStats(statistics(socket.native.counters, socket.sendPending, kernelOf(socket)), names);
  }) as {
    (socket: Socket): SocketStats;
    <N extends keyof SocketStats>(socket: Socket, names: N[]): Pick<SocketStats, N>;
  },
  /**
   * The protocol a secure transport negotiated (ALPN). Plain UDP negotiates none: it always
   * throws `protocol_not_negotiated` (`closed` once the socket is closed).
   *
   * @example
   * try {
   *   UDP.negotiatedProtocol(socket);
   * } catch (error) {
   *   error.reason; // 'protocol_not_negotiated'
   * }
   */
  negotiatedProtocol(socket: Socket): string {
    if (checkSocket(socket, 'negotiatedProtocol').closed) throw closedError('negotiatedProtocol');
    throw new TransportError('protocol_not_negotiated', 'negotiatedProtocol: plain UDP negotiates no protocol');
  },
  /**
   * Splits a datagram the kernel merged with `gro` on (`ancillary.segmentSize`) into the
   * datagrams the sender sent: views of the same bytes, each `segmentSize` long but the last,
   * without `segmentSize`. Any other datagram comes back alone. Throws `badarg` when
   * `datagram` is not a received datagram.
   *
   * @example
   * const socket = UDP.listen(5300, { gro: true });
   * for (const part of UDP.splitSegments(await UDP.recv(socket, 0, 'infinity'))) handle(part.data);
   */
  splitSegments<F extends SocketFamily>(datagram: RecvData<F>): RecvData<F>[] {
    const checked = carriedDatagram(datagram);
    const size = checked?.ancillary?.segmentSize;
    if (checked === undefined || !Buffer.isBuffer(checked.data) || (size !== undefined && (!Number.isInteger(size) || size < 1))) {
      throw badarg('splitSegments', `not a received datagram: ${show(datagram)}`);
    }
    return splitSegments(checked) as RecvData<F>[];
  },
  /**
   * One entry of the socket's error queue (`MSG_ERRQUEUE`), filled with the `recverr` option:
   * the destination and start of a datagram that failed, and in `ancillary.error` why (an ICMP
   * error, `emsgsize` against the path MTU, …). `undefined` when the queue is empty: it does not
   * wait. Throws `not_owner`, `closed`, `badarg`, or the kernel's reason (syscall `recvmsg`).
   *
   * @example
   * const socket = UDP.open(0, { recverr: true });
   * await UDP.send(socket, '127.0.0.1', closedPort, 'x');
   * const entry = UDP.recvErrorQueue(socket); // { address: '127.0.0.1', port: closedPort, ancillary: { error: { origin: 'icmp', reason: 'econnrefused', … } }, … }
   */
  recvErrorQueue(socket: Socket): ErrorQueueEntry | undefined {
    checkSocket(socket, 'recvErrorQueue').assertOwner('recv');
    const result = socket.native.recvError();
    if (typeof result === 'number') {
      if (result < 0) throw nativeError('recv', result);
      return undefined;
    }
    return readErrorEntry(result);
  },
} satisfies Transport<Socket> & Record<string, unknown>;
