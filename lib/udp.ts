import { isIP } from 'node:net';
import os from 'node:os';
import { types } from 'node:util';
import { threadId, Worker } from 'node:worker_threads';
import { encodeAncillary } from './ancillary';
import { checkCount, checkDestination, checkIp, checkLocalPath, checkPort, checkSignal, checkTimeout, isPlainObject, type Destination } from './arguments';
import { AF_INET, AF_INET6, AF_UNIX, binding, shared } from './binding';
import { TransportError, badarg, closedError, notOwnerError, show, systemError } from './errors';
import { flatten } from './iodata';
import {
  FACADE_OPTIONS, MAX_RAW_LENGTH, OPTION_ROWS, RECEIVE_ANCILLARY_OPTIONS, REFUSED_OPTIONS, ROWS, decodeOption, facadeOption,
  planOptions, readableRow, refuse, type PlannedOptions,
} from './options';
import {
  ADOPT_CLOSED, ADOPT_NOT_HERE, ADOPT_TAKEN, ADOPT_UNKNOWN, ADOPTED, RECORD_PIECES, RECORD_PORT, RECORD_STRIDE, RECV_AVG,
  RECV_CNT, RECV_DVI, RECV_MAX, RECV_OCT, SEND_AVG, SEND_CNT, SEND_MAX, SEND_OCT, STAT_BACKLOG, STAT_DROPS,
  STAT_FWD_ALLOC, STAT_OPTMEM, STAT_RCVBUF, STAT_RMEM_ALLOC, STAT_RX_QUEUE, STAT_SNDBUF, STAT_TX_QUEUE,
  STAT_WMEM_ALLOC, STAT_WMEM_QUEUED, STATUS_ENTRY, STATUS_ERRNO,
} from './protocol';
import { readErrorEntry, splitSegments } from './records';
import { CHECK_RECORD, Socket, nativeError, type OutgoingBatch } from './socket';
import type {
  Active, BatchMessage, ErrorQueueEntry, ListenOptions, OptionName, RecvData, SocketInfo, SocketOptions, SocketRef,
  SocketStats, Timeout, Transport,
} from './types';

const { sendRecords, status, kernelStats } = shared;

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
  socket.ancillary = socket.receiveOptions.size > 0;
  for (const [name, value] of planned.facade) FACADE_OPTIONS[name].set(socket, value);
}

const FAMILIES: Record<string, number> = { inet: AF_INET, inet6: AF_INET6, local: AF_UNIX };

/** listen's own options, each read once, and the socket options among them. */
function listenOptions(options: unknown) {
  if (!isPlainObject(options)) throw badarg('listen', `options must be an object, got ${show(options)}`);
  const listen: Record<string, unknown> = {};
  const socketOptions: Record<string, unknown> = {};
  for (const name of Object.keys(options)) {
    const value = options[name];
    if (name === 'ip' || name === 'family' || name === 'fd' || name === 'netns' || name === 'inet_backend' || name === 'active') {
      if (value !== undefined) listen[name] = value;
    } else {
      Object.defineProperty(socketOptions, name, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  const { ip, family, fd, netns, inet_backend: backend, active } = listen;
  if (family !== undefined && (typeof family !== 'string' || !Object.hasOwn(FAMILIES, family))) {
    throw badarg('listen', `family must be 'inet', 'inet6' or 'local', got ${show(family)}`);
  }
  if (fd !== undefined && (!Number.isInteger(fd) || (fd as number) < 0 || (fd as number) > 2 ** 31 - 1)) {
    throw badarg('listen', `fd must be a descriptor number, got ${show(fd)}`);
  }
  if (fd !== undefined && binding.ownsDescriptor(fd as number)) {
    throw badarg('listen', `fd ${fd} is already a socket of this package`);
  }
  if (netns !== undefined && (typeof netns !== 'string' || netns.includes('\0'))) {
    throw badarg('listen', `netns must be a path, got ${show(netns)}`);
  }
  if (backend !== undefined && backend !== 'inet' && backend !== 'socket') {
    throw badarg('listen', `inet_backend must be 'inet' or 'socket', got ${show(backend)}`);
  }
  if (active !== undefined && !FACADE_OPTIONS.active.valid(active)) throw badarg('listen', `bad value for option 'active': ${show(active)}`);
  return { ip, family: family as string | undefined, fd: fd as number | undefined, netns: netns as string | undefined, active: active as Active | undefined, socketOptions };
}

/** The family `ip` and `family` ask for. */
function resolveFamily(ip: unknown, family: string | undefined): number {
  if (isPlainObject(ip)) {
    if (family !== undefined && family !== 'local') throw badarg('listen', `a { local } ip needs family 'local'`);
    return AF_UNIX;
  }
  if (family) return FAMILIES[family];
  return typeof ip === 'string' && isIP(ip.split('%')[0]) === 6 ? AF_INET6 : AF_INET;
}

/** Where to bind: an IP literal, or a unix path; undefined for an unbound unix socket. */
function bindAddress(ip: unknown, family: number): string | undefined {
  if (family === AF_UNIX) {
    if (ip === undefined) return undefined;
    if (!isPlainObject(ip)) throw badarg('listen', `a local socket needs ip { local: path }, got ${show(ip)}`);
    return checkLocalPath(ip.local, 'listen');
  }
  if (ip === undefined || ip === 'any') return family === AF_INET6 ? '::' : '0.0.0.0';
  if (ip === 'loopback') return family === AF_INET6 ? '::1' : '127.0.0.1';
  if (typeof ip !== 'string' || !checkIp(ip, family)) {
    throw badarg('listen', `ip must be 'any', 'loopback', an IP literal of the family or { local: path }, got ${show(ip)}`);
  }
  return ip;
}

/** Opens `native`: a new socket of `family` (in `netns`), or the descriptor `fd`. */
function openNative(native: InstanceType<typeof binding.NativeSocket>, family: number, fd: number | undefined, netns: string | undefined): void {
  const result = fd !== undefined ? native.openDescriptor(fd) : native.open(family, netns);
  if (result >= 0) return;
  if (fd !== undefined && -result === os.constants.errno.EPROTOTYPE) {
    throw new TransportError('einval', `listen: fd ${fd} is not a datagram socket`);
  }
  throw nativeError('listen', result);
}

function listen(port: number, options: ListenOptions = {}): Socket {
  checkPort(port, 'listen');
  const { ip, family: familyName, fd, netns, active, socketOptions } = listenOptions(options);
  const requested = resolveFamily(ip, familyName);
  const address = bindAddress(ip, requested);
  if (requested === AF_UNIX && port !== 0) throw badarg('listen', `a local socket takes port 0, got ${port}`);
  const native = new binding.NativeSocket();
  openNative(native, requested, fd, netns);
  const socket = new Socket(native);
  try {
    const defaults = native.family === AF_UNIX ? {} : { reuseaddr: true, reuseport: true };
    applyOptions(socket, planOptions({ ...defaults, ...socketOptions }, native.family, 'listen'), 'listen');
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
function send(socket: Socket, a: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<void> {
  let destination: Destination | undefined;
  let ancillary: unknown;
  let data: unknown;
  let record: Int32Array | undefined;
  let pktinfoAddress: string | undefined;
  try {
    checkSocket(socket, 'send');
    const family = socket.native.family;
    switch (arguments.length) {
      case 2:
        data = a;
        break;
      case 3:
        if (!isPlainObject(a)) throw badarg('send', `destination must be { address, port } or { local }, got ${show(a)}`);
        destination = 'local' in a ? checkDestination(a, 0, family, 'send') : checkDestination(a.address, a.port, family, 'send');
        data = b;
        break;
      case 4:
        destination = checkDestination(a, b, family, 'send');
        data = c;
        break;
      case 5:
        destination = checkDestination(a, b, family, 'send');
        ancillary = c;
        data = d;
        if (!isPlainObject(ancillary)) throw badarg('send', `ancillary must be an object, got ${show(ancillary)}`);
        break;
      default:
        throw badarg('send', 'takes (socket, data), (socket, dest, data), (socket, address, port, data) or (socket, address, port, ancillary, data)');
    }
    const pieces = flatten(data);
    if (pieces === undefined) throw badarg('send', 'data must be iodata: a string, a Uint8Array or nested arrays of them');
    if (ancillary !== undefined) {
      pktinfoAddress = encodeAncillary(ancillary as Record<string, unknown>, family, sendRecords, CHECK_RECORD, 'send');
      record = sendRecords.slice(CHECK_RECORD, CHECK_RECORD + RECORD_STRIDE);
    }
    return socket.transmit({ pieces, destination: destination?.text, port: destination?.port ?? 0, record, pktinfoAddress });
  } catch (error) {
    return rejectWith(error);
  }
}

const MESSAGE_FIELDS = new Set(['address', 'port', 'data', 'ancillary']);

/** sendBatch's messages, checked and flattened before the first goes out: a bad one sends nothing. */
function flattenBatch(messages: unknown, family: number): OutgoingBatch {
  if (!Array.isArray(messages)) throw badarg('sendBatch', `messages must be an array, got ${show(messages)}`);
  const count = messages.length;
  const batch: OutgoingBatch = { pieces: [], texts: [], records: new Int32Array(count * RECORD_STRIDE), count };
  // Batches mostly repeat one destination: an address found valid is not checked again.
  let checked: Destination | undefined;
  let checkedAddress: unknown;
  let checkedPort: unknown;
  // A hole is no message: index every slot rather than let forEach skip it.
  for (let index = 0; index < count; index++) {
    const message: unknown = messages[index];
    const where = `message ${index}`;
    if (!isPlainObject(message)) throw badarg('sendBatch', `${where} must be { address, port, data, ancillary? }`);
    let address: unknown;
    let port: unknown;
    let data: unknown;
    let ancillary: unknown;
    for (const key of Object.keys(message)) {
      if (!MESSAGE_FIELDS.has(key)) throw badarg('sendBatch', `${where}: unknown field '${key}'`);
      const value = message[key];
      if (key === 'address') address = value;
      else if (key === 'port') port = value;
      else if (key === 'data') data = value;
      else ancillary = value;
    }
    const base = index * RECORD_STRIDE;
    let destination: Destination | undefined;
    if (address !== undefined) {
      if (checked === undefined || address !== checkedAddress || port !== checkedPort || typeof address !== 'string') {
        checked = checkDestination(address, port, family, 'sendBatch');
        checkedAddress = address;
        checkedPort = port;
      }
      destination = checked;
    }
    const pieces = flatten(data);
    if (pieces === undefined) throw badarg('sendBatch', `${where}: data must be iodata`);
    let pktinfoAddress: string | undefined;
    if (ancillary !== undefined) {
      if (!isPlainObject(ancillary)) throw badarg('sendBatch', `${where}: ancillary must be an object`);
      pktinfoAddress = encodeAncillary(ancillary, family, batch.records, base, 'sendBatch');
    }
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
    return socket.transmitBatch(flattenBatch(messages, socket.native.family));
  } catch (error) {
    return rejectWith(error);
  }
}

function getopts(socket: Socket, names: OptionName[]): Partial<SocketOptions> {
  checkSocket(socket, 'getopts');
  if (socket.closed) throw closedError('getopts');
  if (!Array.isArray(names)) throw badarg('getopts', `names must be an array, got ${show(names)}`);
  const family = socket.native.family;
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
      const row = readableRow(name, family, 'getopts');
      const value = socket.native.getopt(row);
      if (value === undefined) throw systemError('getopts', 'getsockopt', status[STATUS_ERRNO], ` ${name}`);
      result[name] = decodeOption(OPTION_ROWS[row], value);
    } else if (isPlainObject(name) && isPlainObject(name.raw) && Object.keys(name).length === 1) {
      const raw = name.raw as Record<string, unknown>;
      const fields = { level: raw.level, option: raw.option, length: raw.length };
      for (const [key, value] of Object.entries(fields)) {
        if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 2 ** 31 - 1 ||
            (key === 'length' && (value as number) > MAX_RAW_LENGTH)) {
          throw badarg('getopts', `raw ${key} must be an integer from 0${key === 'length' ? ` to ${MAX_RAW_LENGTH}` : ''}, got ${show(value)}`);
        }
      }
      const value = socket.native.getoptRaw(fields.level as number, fields.option as number, fields.length as number);
      if (typeof value === 'number') throw nativeError('getopts', value);
      raws.push({ level: fields.level, option: fields.option, value });
    } else {
      throw badarg('getopts', `not an option name: ${show(name)}`);
    }
  }
  if (raws.length > 0) result.raw = raws.length === 1 ? raws[0] : raws;
  return result as Partial<SocketOptions>;
}

function controllingProcess(socket: Socket, owner: Worker | number): void {
  checkSocket(socket, 'controllingProcess');
  socket.assertOwner('controllingProcess');
  const worker = owner instanceof Worker ? owner : undefined;
  const target = worker ? worker.threadId : owner;
  if (!Number.isInteger(target) || (target as number) < 0 || (target as number) > Number.MAX_SAFE_INTEGER) {
    throw badarg('controllingProcess', `owner must be a live Worker or a threadId, got ${show(worker ? 'an exited Worker' : owner)}`);
  }
  if (target === threadId) return;
  if (!socket.handOver(target as number, worker !== undefined)) {
    throw badarg('controllingProcess', `thread ${target} is unknown or has exited`);
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
  if (ancillary !== undefined) datagram.ancillary = ancillary;
  if (truncated) datagram.truncated = true;
  return datagram;
}

const ADOPT_ERRORS: Record<number, () => TransportError> = {
  [ADOPT_UNKNOWN]: () => badarg('adopt', 'no socket has that ref'),
  [ADOPT_CLOSED]: () => new TransportError('closed', 'adopt: the socket is closed'),
  [ADOPT_NOT_HERE]: () => notOwnerError('adopt'),
  [ADOPT_TAKEN]: () => badarg('adopt', 'the socket was already adopted by this thread'),
};

function adopt(ref: SocketRef): Socket {
  const fields = isPlainObject(ref) ? { id: ref.abyssSocket, carry: ref.carry, buffer: ref.buffer, readPackets: ref.readPackets } : undefined;
  const carry: RecvData[] = [];
  if (fields && Array.isArray(fields.carry)) {
    for (let i = 0, count = fields.carry.length; i < count; i++) {
      const datagram = carriedDatagram(fields.carry[i]);
      if (datagram === undefined) break;
      carry.push(datagram);
    }
  }
  if (!fields || !Number.isInteger(fields.id) || (fields.id as number) < 1 || !Array.isArray(fields.carry) ||
      carry.length !== fields.carry.length || !FACADE_OPTIONS.buffer.valid(fields.buffer) || !FACADE_OPTIONS.read_packets.valid(fields.readPackets)) {
    throw badarg('adopt', `not a socket ref: ${show(ref)}`);
  }
  const native = new binding.NativeSocket();
  const result = native.adopt(fields.id as number);
  if (result !== ADOPTED) throw ADOPT_ERRORS[result]();
  const socket = new Socket(native, carry);
  socket.buffer = fields.buffer as number;
  socket.readPackets = fields.readPackets as number;
  for (const name of RECEIVE_ANCILLARY_OPTIONS) {
    const row = ROWS.get(name)!;
    const site = native.family === AF_INET ? OPTION_ROWS[row].inet : native.family === AF_INET6 ? OPTION_ROWS[row].inet6 : OPTION_ROWS[row].local;
    if (site[0] >= 0 && native.getopt(row) === 1) socket.receiveOptions.add(name);
  }
  socket.ancillary = socket.receiveOptions.size > 0;
  return socket;
}

/** One end of a socket, as the contract shapes it. */
function endName(socket: Socket, peer: boolean): SocketInfo {
  const operation = peer ? 'peername' : 'sockname';
  if (checkSocket(socket, operation).closed) throw closedError(operation);
  const name = socket.native.name(peer);
  if (typeof name === 'number') throw nativeError(operation, name);
  const [address, port] = name;
  if (port < 0) return { local: address };
  return { address, family: address.includes(':') ? 'IPv6' : 'IPv4', port };
}

/** The native implementation of the transport contract. */
export const UDP = {
  listen,
  open: listen,
  connect(socket: Socket, address: string, port: number): void {
    checkSocket(socket, 'connect');
    socket.assertOwner('connect');
    const destination = checkDestination(address, port, socket.native.family, 'connect');
    const result = socket.native.connect(destination.text, destination.port);
    if (result < 0) throw nativeError('connect', result);
  },
  controllingProcess,
  /** The Socket for a ref handed to this thread with controllingProcess. */
  adopt,
  recv(socket: Socket, numBytes: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData> {
    try {
      checkSocket(socket, 'recv');
      return socket.receive(checkCount(numBytes, 0, 'recv', 'numBytes'), 0, checkTimeout(timeout, 'recv'),
        checkSignal(options, 'recv')) as Promise<RecvData>;
    } catch (error) {
      return rejectWith(error);
    }
  },
  recvBatch(socket: Socket, max: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData[]> {
    try {
      checkSocket(socket, 'recvBatch');
      return socket.receive(0, checkCount(max, 1, 'recvBatch', 'max'), checkTimeout(timeout, 'recvBatch'),
        checkSignal(options, 'recvBatch')) as Promise<RecvData[]>;
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
    applyOptions(socket, planOptions(options, socket.native.family, 'setopts'), 'setopts');
  },
  close(socket: Socket): void {
    checkSocket(socket, 'close').shut();
  },
  sockname(socket: Socket): SocketInfo {
    return endName(socket, false);
  },
  peername(socket: Socket): SocketInfo {
    return endName(socket, true);
  },
  getstat(socket: Socket): SocketStats {
    checkSocket(socket, 'getstat');
    if (socket.closed) throw closedError('getstat');
    const result = socket.native.stats();
    if (result < 0) throw nativeError('getstat', result);
    const c = socket.native.counters;
    return {
      recv_oct: c[RECV_OCT],
      recv_cnt: c[RECV_CNT],
      recv_max: c[RECV_MAX],
      // inet reports the running mean and mean deviation truncated to integers.
      recv_avg: Math.trunc(c[RECV_AVG]),
      recv_dvi: Math.trunc(Math.abs(c[RECV_DVI])),
      send_oct: c[SEND_OCT],
      send_cnt: c[SEND_CNT],
      send_max: c[SEND_MAX],
      send_avg: Math.trunc(c[SEND_AVG]),
      send_pend: socket.sendPending,
      kernel: {
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
      },
    };
  },
  negotiatedProtocol(socket: Socket): string {
    if (checkSocket(socket, 'negotiatedProtocol').closed) throw closedError('negotiatedProtocol');
    throw new TransportError('protocol_not_negotiated', 'negotiatedProtocol: plain UDP negotiates no protocol');
  },
  /** Splits a GRO-coalesced datagram into the datagrams the sender sent. */
  splitSegments(datagram: RecvData): RecvData[] {
    const checked = carriedDatagram(datagram);
    const size = checked?.ancillary?.segmentSize;
    if (checked === undefined || !Buffer.isBuffer(checked.data) || (size !== undefined && (!Number.isInteger(size) || size < 1))) {
      throw badarg('splitSegments', `not a received datagram: ${show(datagram)}`);
    }
    return splitSegments(checked);
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
