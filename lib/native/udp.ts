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

function listenTyped(port: number, options: ListenOptions & ({ ip: { local: string } } | { family: 'local' })): Socket<'local'>;
function listenTyped(port: number, options?: ListenOptions & { ip?: string; family?: IpFamily }): Socket<IpFamily>;
function listenTyped(port: number, options?: ListenOptions): Socket;
function listenTyped(port: number, options?: ListenOptions): Socket {
  return listen(port, options);
}

/** The native implementation of the transport contract. */
export const UDP = {
  listen: listenTyped,
  open: listenTyped,
  connect(socket: Socket, address: string | { local: string }, port: number): void {
    checkSocket(socket, 'connect');
    socket.assertOwner('connect');
    const destination = checkDestination(address, port, socket.family, 'connect');
    const result = socket.native.connect(destination.text, destination.port);
    if (result < 0) throw nativeError('connect', result);
  },
  controllingProcess,
  /** The Socket for a ref handed to this thread with controllingProcess. */
  adopt,
  recv<F extends SocketFamily>(socket: Socket<F>, numBytes: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData<F>> {
    try {
      checkSocket(socket, 'recv');
      return socket.receive(checkCount(numBytes, 0, 'recv', 'numBytes'), 0, checkTimeout(timeout, 'recv'),
        checkSignal(options, 'recv')) as Promise<RecvData<F>>;
    } catch (error) {
      return rejectWith(error);
    }
  },
  recvBatch<F extends SocketFamily>(socket: Socket<F>, max: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData<F>[]> {
    try {
      checkSocket(socket, 'recvBatch');
      return socket.receive(0, checkCount(max, 1, 'recvBatch', 'max'), checkTimeout(timeout, 'recvBatch'),
        checkSignal(options, 'recvBatch')) as Promise<RecvData<F>[]>;
    } catch (error) {
      return rejectWith(error);
    }
  },
  recvInto(socket: Socket, arena: RecvArena, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<number> {
    try {
      checkSocket(socket, 'recvInto');
      return socket.receive(0, checkArena(arena, 'recvInto').slots, checkTimeout(timeout, 'recvInto'), checkSignal(options, 'recvInto'), arena);
    } catch (error) {
      return rejectWith(error);
    }
  },
  send: send as Transport<Socket>['send'],
  sendBatch,
  getopts,
  setopts(socket: Socket, options: SocketOptions): void {
    checkSocket(socket, 'setopts');
    socket.assertOwner('setopts');
    if (!isPlainObject(options)) throw badarg('setopts', `options must be an object, got ${show(options)}`);
    applyOptions(socket, planOptions(options, socket.family, 'setopts'), 'setopts');
  },
  close(socket: Socket): void {
    checkSocket(socket, 'close').shut();
  },
  sockname<F extends SocketFamily>(socket: Socket<F>): SocketInfoOf<F> {
    return endName(socket, false);
  },
  peername<F extends SocketFamily>(socket: Socket<F>): SocketInfoOf<F> {
    return endName(socket, true);
  },
  getstat: ((socket: Socket, names?: (keyof SocketStats)[]): Partial<SocketStats> => {
    checkSocket(socket, 'getstat');
    if (socket.closed) throw closedError('getstat');
    return selectStats(statistics(socket.native.counters, socket.sendPending, kernelOf(socket)), names);
  }) as {
    (socket: Socket): SocketStats;
    <N extends keyof SocketStats>(socket: Socket, names: N[]): Pick<SocketStats, N>;
  },
  negotiatedProtocol(socket: Socket): string {
    if (checkSocket(socket, 'negotiatedProtocol').closed) throw closedError('negotiatedProtocol');
    throw new TransportError('protocol_not_negotiated', 'negotiatedProtocol: plain UDP negotiates no protocol');
  },
  /** Splits a GRO-coalesced datagram into the datagrams the sender sent. */
  splitSegments<F extends SocketFamily>(datagram: RecvData<F>): RecvData<F>[] {
    const checked = carriedDatagram(datagram);
    const size = checked?.ancillary?.segmentSize;
    if (checked === undefined || !Buffer.isBuffer(checked.data) || (size !== undefined && (!Number.isInteger(size) || size < 1))) {
      throw badarg('splitSegments', `not a received datagram: ${show(datagram)}`);
    }
    return splitSegments(checked) as RecvData<F>[];
  },
  /** One entry of the socket's error queue (IP_RECVERR / IPV6_RECVERR), or undefined when it is empty. */
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
