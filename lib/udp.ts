import { isIP } from 'node:net';
import { threadId, Worker } from 'node:worker_threads';
import { checkAncillary } from './ancillary';
import { binding } from './binding';
import { TransportError, badarg, closedError } from './errors';
import { FACADE_OPTIONS, LISTEN_ONLY_OPTIONS, RECEIVE_ANCILLARY_OPTIONS, REFUSED_OPTIONS, refuse, show } from './options';
import { isIOData } from './iodata';
import { splitSegments } from './records';
import { Socket } from './socket';
import type {
  Address, BatchMessage, ErrorQueueEntry, ListenOptions, OptionName, RecvData, SendAncillary,
  SocketInfo, SocketOptions, SocketRef, SocketStats, Timeout, Transport,
} from './types';

/** An object literal (of any realm): not an array, a Map, a Buffer or a class instance. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.prototype.toString.call(value) !== '[object Object]') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

function facadeOption(name: string) {
  return Object.hasOwn(FACADE_OPTIONS, name) ? FACADE_OPTIONS[name] : undefined;
}

function checkSocket(socket: unknown, operation: string): Socket {
  if (!Socket.is(socket)) throw badarg(operation, `not a socket: ${show(socket)}`);
  return socket;
}

function checkPort(port: unknown, operation: string): number {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw badarg(operation, `port must be an integer from 0 to 65535, got ${show(port)}`);
  }
  return port as number;
}

function checkTimeout(timeout: unknown, operation: string): number {
  if (timeout === 'infinity' || timeout === Infinity) return Infinity;
  if (typeof timeout !== 'number' || !(timeout >= 0) || !Number.isFinite(timeout)) {
    throw badarg(operation, `timeout must be milliseconds >= 0, Infinity or 'infinity', got ${show(timeout)}`);
  }
  return timeout;
}

function checkSignal(options: unknown, operation: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (!isPlainObject(options) || (options.signal !== undefined && !(options.signal instanceof AbortSignal))) {
    throw badarg(operation, `options must be { signal?: AbortSignal }, got ${show(options)}`);
  }
  return options.signal as AbortSignal | undefined;
}

function checkCount(value: unknown, low: number, operation: string, what: string): number {
  if (!Number.isInteger(value) || (value as number) < low || (value as number) > 2 ** 31 - 1) {
    throw badarg(operation, `${what} must be an integer >= ${low}, got ${show(value)}`);
  }
  return value as number;
}

/** A destination the native side can take: an IP string or { local: path }. */
function checkAddress(address: unknown, operation: string): string | { local: string } {
  if (typeof address === 'string' && address !== 'unspec') return address;
  if (isPlainObject(address) && typeof address.local === 'string') return { local: address.local };
  throw badarg(operation, `address must be an IP string or { local: path }, got ${show(address)}`);
}

function rejectWith(error: unknown): Promise<never> {
  return Promise.reject(error);
}

/** Splits setopts' object into kernel options (checked and applied natively, all or nothing) and facade ones. */
function applyOptions(socket: Socket, options: Record<string, unknown>, operation: string): void {
  const names: string[] = [];
  const values: unknown[] = [];
  const facade: [string, unknown][] = [];
  for (const [name, value] of Object.entries(options)) {
    if (REFUSED_OPTIONS.has(name) || (name === 'mode' && value !== 'binary')) refuse(operation, name, value);
    const local = facadeOption(name);
    if (local) {
      if (!local.valid(value)) throw badarg(operation, `bad value for option '${name}': ${show(value)}, expected ${local.expected}`);
      facade.push([name, value]);
    } else if (LISTEN_ONLY_OPTIONS.has(name)) {
      throw badarg(operation, `'${name}' is a listen option, not a socket option`);
    } else if (name === 'raw' && Array.isArray(value)) {
      for (const raw of value) names.push('raw'), values.push(raw);
    } else {
      names.push(name);
      values.push(value);
    }
  }
  socket.native.setopts(names, values, operation);
  for (let i = 0; i < names.length; i++) {
    if (RECEIVE_ANCILLARY_OPTIONS.has(names[i])) socket.receiveOptions[values[i] ? 'add' : 'delete'](names[i]);
  }
  socket.ancillary = socket.receiveOptions.size > 0;
  for (const [name, value] of facade) FACADE_OPTIONS[name].set(socket, value);
}

function resolveFamily(options: ListenOptions): 'inet' | 'inet6' | 'local' {
  const { ip, family } = options;
  if (family !== undefined && family !== 'inet' && family !== 'inet6' && family !== 'local') {
    throw badarg('listen', `family must be 'inet', 'inet6' or 'local', got ${show(family)}`);
  }
  if (isPlainObject(ip)) {
    if (family !== undefined && family !== 'local') throw badarg('listen', `a { local } ip needs family 'local'`);
    return 'local';
  }
  if (family) return family;
  return typeof ip === 'string' && isIP(ip) === 6 ? 'inet6' : 'inet';
}

function bindAddress(ip: ListenOptions['ip'], family: 'inet' | 'inet6' | 'local'): string | { local: string } | undefined {
  if (family === 'local') {
    if (ip === undefined) return undefined;
    if (!isPlainObject(ip) || typeof ip.local !== 'string') throw badarg('listen', `a local socket needs ip { local: path }, got ${show(ip)}`);
    return { local: ip.local };
  }
  if (ip === undefined || ip === 'any') return family === 'inet6' ? '::' : '0.0.0.0';
  if (ip === 'loopback') return family === 'inet6' ? '::1' : '127.0.0.1';
  if (typeof ip !== 'string') throw badarg('listen', `ip must be 'any', 'loopback', an IP literal or { local: path }, got ${show(ip)}`);
  return ip;
}

function listen(port: number, options: ListenOptions = {}): Socket {
  checkPort(port, 'listen');
  if (!isPlainObject(options)) throw badarg('listen', `options must be an object, got ${show(options)}`);
  const family = resolveFamily(options as ListenOptions);
  const { ip, fd, netns, inet_backend: backend, family: _family, active, ...socketOptions } = options as ListenOptions;
  if (fd !== undefined && (!Number.isInteger(fd) || fd < 0 || fd > 2 ** 31 - 1)) {
    throw badarg('listen', `fd must be a descriptor number, got ${show(fd)}`);
  }
  if (netns !== undefined && (typeof netns !== 'string' || netns.includes('\0'))) {
    throw badarg('listen', `netns must be a path, got ${show(netns)}`);
  }
  if (backend !== undefined && backend !== 'inet' && backend !== 'socket') {
    throw badarg('listen', `inet_backend must be 'inet' or 'socket', got ${show(backend)}`);
  }
  if (active !== undefined && !FACADE_OPTIONS.active.valid(active)) throw badarg('listen', `bad value for option 'active': ${show(active)}`);
  const address = bindAddress(ip, family);
  if (family === 'local' && port !== 0) throw badarg('listen', `a local socket takes port 0, got ${port}`);
  const socket = new Socket(new binding.NativeSocket(family, fd, netns, undefined, TransportError));
  try {
    const defaults = socket.native.family === 'local' ? {} : { reuseaddr: true, reuseport: true };
    applyOptions(socket, { ...defaults, ...socketOptions }, 'listen');
    if (fd === undefined && address !== undefined) socket.native.bind(address, port, 'listen');
    if (active !== undefined) socket.setActive(active);
  } catch (error) {
    socket.native.close();
    throw error;
  }
  return socket;
}

function send(socket: Socket, a: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<void> {
  let address: unknown;
  let port: unknown = 0;
  let ancillary: unknown;
  let data: unknown;
  try {
    checkSocket(socket, 'send');
    switch (arguments.length) {
      case 2:
        data = a;
        break;
      case 3:
        if (!isPlainObject(a)) throw badarg('send', `destination must be { address, port } or { local }, got ${show(a)}`);
        if (typeof a.local === 'string') address = a;
        else ({ address, port } = a);
        data = b;
        break;
      case 4:
        address = a;
        port = b;
        data = c;
        break;
      case 5:
        address = a;
        port = b;
        ancillary = c;
        data = d;
        if (!isPlainObject(ancillary)) throw badarg('send', `ancillary must be an object, got ${show(ancillary)}`);
        break;
      default:
        throw badarg('send', 'takes (socket, data), (socket, dest, data), (socket, address, port, data) or (socket, address, port, ancillary, data)');
    }
    if (arguments.length > 2) {
      address = checkAddress(address, 'send');
      port = typeof address === 'string' ? checkPort(port, 'send') : 0;
    }
  } catch (error) {
    return rejectWith(error);
  }
  return socket.transmit(data, address as Address | undefined, port as number, ancillary as SendAncillary | undefined);
}

const MESSAGE_FIELDS = new Set(['address', 'port', 'data', 'ancillary']);

function sendBatch(socket: Socket, messages: BatchMessage[]): Promise<number> {
  try {
    checkSocket(socket, 'sendBatch');
    if (!Array.isArray(messages)) throw badarg('sendBatch', `messages must be an array, got ${show(messages)}`);
    // Every message is checked before the first goes out, so a bad one sends nothing.
    // A hole is no message: index every slot rather than let forEach skip it.
    // Batches mostly repeat one destination: an address string found valid is not parsed again.
    let validAddress: string | undefined;
    for (let index = 0; index < messages.length; index++) {
      const message: unknown = messages[index];
      const where = `message ${index}`;
      if (!isPlainObject(message)) throw badarg('sendBatch', `${where} must be { address, port, data, ancillary? }`);
      const unknown = Object.keys(message).find((key) => !MESSAGE_FIELDS.has(key));
      if (unknown !== undefined) throw badarg('sendBatch', `${where}: unknown field '${unknown}'`);
      if (message.address !== undefined) {
        const address = checkAddress(message.address, 'sendBatch');
        if (typeof address === 'string') {
          if (address !== validAddress) {
            if (isIP(address.split('%')[0]) === 0) throw badarg('sendBatch', `${where}: not an IP address: ${show(address)}`);
            validAddress = address;
          }
          checkPort(message.port, 'sendBatch');
        }
      }
      if (!isIOData(message.data)) throw badarg('sendBatch', `${where}: data must be iodata`);
      if (message.ancillary !== undefined) {
        if (!isPlainObject(message.ancillary)) throw badarg('sendBatch', `${where}: ancillary must be an object`);
        // Its record is written right before its part goes out.
        checkAncillary(message.ancillary, 'sendBatch');
      }
    }
  } catch (error) {
    return rejectWith(error);
  }
  return socket.transmitBatch(messages);
}

function getopts(socket: Socket, names: OptionName[]): Partial<SocketOptions> {
  checkSocket(socket, 'getopts');
  if (socket.closed) throw closedError('getopts');
  if (!Array.isArray(names)) throw badarg('getopts', `names must be an array, got ${show(names)}`);
  const result: Record<string, unknown> = {};
  const raws: unknown[] = [];
  for (const name of names) {
    if (typeof name === 'string') {
      if (REFUSED_OPTIONS.has(name)) refuse('getopts', name, undefined);
      if (name === 'raw') throw badarg('getopts', "raw is read as { raw: { level, option, length } }");
      const local = facadeOption(name);
      result[name] = local ? local.get(socket) : socket.native.getopt(name);
    } else if (isPlainObject(name) && isPlainObject(name.raw)) {
      const { level, option, length } = name.raw as Record<string, unknown>;
      for (const [key, value] of Object.entries({ level, option, length })) {
        if (!Number.isInteger(value) || (value as number) < 0) throw badarg('getopts', `raw ${key} must be an integer >= 0, got ${show(value)}`);
      }
      raws.push({ level, option, value: socket.native.getopt('raw', level as number, option as number, length as number) });
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
  if (!Number.isInteger(target) || (target as number) < 0) {
    throw badarg('controllingProcess', `owner must be a live Worker or a threadId, got ${show(worker ? 'an exited Worker' : owner)}`);
  }
  if (target === threadId) return;
  socket.handOver(target as number, worker !== undefined);
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

function isRecvData(value: unknown): boolean {
  return isPlainObject(value) && Buffer.isBuffer(value.data) && Number.isInteger(value.port) &&
    (typeof value.address === 'string' || isPlainObject(value.address));
}

function adopt(ref: SocketRef): Socket {
  if (!isPlainObject(ref) || !Number.isInteger(ref.abyssSocket) || (ref.abyssSocket as number) < 1 ||
      !Array.isArray(ref.carry) || !ref.carry.every(isRecvData) || !FACADE_OPTIONS.buffer.valid(ref.buffer) ||
      !FACADE_OPTIONS.read_packets.valid(ref.readPackets)) {
    throw badarg('adopt', `not a socket ref: ${show(ref)}`);
  }
  const socket = new Socket(new binding.NativeSocket('', undefined, undefined, ref.abyssSocket, TransportError), ref.carry);
  socket.buffer = ref.buffer;
  socket.readPackets = ref.readPackets;
  for (const name of RECEIVE_ANCILLARY_OPTIONS) {
    try {
      if (socket.native.getopt(name) === true) socket.receiveOptions.add(name);
    } catch {
      // Not an option of this socket's family.
    }
  }
  socket.ancillary = socket.receiveOptions.size > 0;
  return socket;
}

/** The native implementation of the transport contract. */
export const UDP = {
  listen,
  open: listen,
  connect(socket: Socket, address: string, port: number): void {
    checkSocket(socket, 'connect');
    socket.assertOwner('connect');
    socket.native.connect(checkAddress(address, 'connect'), typeof address === 'string' ? checkPort(port, 'connect') : 0);
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
    applyOptions(socket, options as Record<string, unknown>, 'setopts');
  },
  close(socket: Socket): void {
    checkSocket(socket, 'close').shut();
  },
  sockname(socket: Socket): SocketInfo {
    return checkSocket(socket, 'sockname').native.sockname() as SocketInfo;
  },
  peername(socket: Socket): SocketInfo {
    return checkSocket(socket, 'peername').native.peername() as SocketInfo;
  },
  getstat(socket: Socket): SocketStats {
    const stats = checkSocket(socket, 'getstat').native.stats() as unknown as SocketStats;
    stats.send_pend = socket.sendPending;
    return stats;
  },
  negotiatedProtocol(socket: Socket): string {
    if (checkSocket(socket, 'negotiatedProtocol').closed) throw closedError('negotiatedProtocol');
    throw new TransportError('protocol_not_negotiated', 'negotiatedProtocol: plain UDP negotiates no protocol');
  },
  /** Splits a GRO-coalesced datagram into the datagrams the sender sent. */
  splitSegments(datagram: RecvData): RecvData[] {
    const ancillary = isPlainObject(datagram) ? datagram.ancillary : undefined;
    const size = isPlainObject(ancillary) ? ancillary.segmentSize : undefined;
    if (!isRecvData(datagram) || (ancillary !== undefined && !isPlainObject(ancillary)) ||
        (size !== undefined && (!Number.isInteger(size) || (size as number) < 1))) {
      throw badarg('splitSegments', `not a received datagram: ${show(datagram)}`);
    }
    return splitSegments(datagram);
  },
  /** One entry of the socket's error queue (IP_RECVERR / IPV6_RECVERR), or undefined when it is empty. */
  recvErrorQueue(socket: Socket): ErrorQueueEntry | undefined {
    checkSocket(socket, 'recvErrorQueue').assertOwner('recv');
    return socket.native.recvError() as ErrorQueueEntry | undefined;
  },
} satisfies Transport<Socket> & Record<string, unknown>;
