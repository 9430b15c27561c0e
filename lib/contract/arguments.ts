/**
 * The contract's arguments, checked once for both transports: each value is read once, and
 * what comes back is plain data (numbers, strings) that nothing the caller owns can change
 * afterwards. Nothing here needs the addon.
 * @internal
 * @packageDocumentation
 */
import dns from 'node:dns/promises';
import fs from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { TransportError, badarg, show } from '../errors';
import type { Active, SocketFamily } from '../types';

/** An object literal (of any realm): not an array, a Map, a Buffer or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.prototype.toString.call(value) !== '[object Object]') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

export const INT_MAX = 2 ** 31 - 1;

export const isInt = (value: unknown, low: number, high: number): value is number =>
  Number.isInteger(value) && (value as number) >= low && (value as number) <= high;

export function checkPort(port: unknown, operation: string): number {
  if (!isInt(port, 0, 65535)) throw badarg(operation, `port must be an integer from 0 to 65535, got ${show(port)}`);
  return port;
}

/** Milliseconds, Infinity for none. */
export function checkTimeout(timeout: unknown, operation: string): number {
  if (timeout === 'infinity' || timeout === Infinity) return Infinity;
  if (typeof timeout !== 'number' || !(timeout >= 0) || !Number.isFinite(timeout)) {
    throw badarg(operation, `timeout must be milliseconds >= 0, Infinity or 'infinity', got ${show(timeout)}`);
  }
  return timeout;
}

/** recv's last argument, `{ signal? }`. */
export function checkSignal(options: unknown, operation: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const signal = isPlainObject(options) ? options.signal : undefined;
  if (!isPlainObject(options) || (signal !== undefined && !(signal instanceof AbortSignal))) {
    throw badarg(operation, `options must be { signal?: AbortSignal }, got ${show(options)}`);
  }
  return signal as AbortSignal | undefined;
}

export function checkCount(value: unknown, low: number, operation: string, what: string): number {
  if (!isInt(value, low, INT_MAX)) throw badarg(operation, `${what} must be an integer >= ${low}, got ${show(value)}`);
  return value;
}

/** An interface the kernel knows, by index or name. */
export function interfaceExists(scope: string): boolean {
  if (/^[0-9]{1,10}$/.test(scope)) return Number(scope) <= 0xffffffff;
  if (scope.length === 0 || scope.length > 15 || /[\0/]/.test(scope) || scope === '.' || scope === '..') return false;
  return fs.existsSync(`/sys/class/net/${scope}`) || Object.hasOwn(os.networkInterfaces(), scope);
}

/**
 * `text` is an IP literal a socket of `family` can use: IPv4 on IPv4, IPv6 (with an existing
 * scope, when it has one) or IPv4 (mapped) on IPv6.
 */
export function checkIp(text: string, family: SocketFamily): boolean {
  const percent = text.indexOf('%');
  const host = percent < 0 ? text : text.slice(0, percent);
  const version = isIP(host);
  if (version === 4) return percent < 0 && (family === 'inet' || family === 'inet6');
  return version === 6 && family === 'inet6' && (percent < 0 || interfaceExists(text.slice(percent + 1)));
}

/** sun_path's size: a path needs room for its NUL there, an abstract name does not. */
const SUN_PATH = 108;

/** A unix socket path (a leading NUL names the abstract namespace). */
export function checkLocalPath(path: unknown, operation: string): string {
  if (typeof path !== 'string') throw badarg(operation, `a unix address is { local: path } with a string path, got ${show(path)}`);
  const abstract = path.startsWith('\0');
  if (!abstract && path.includes('\0')) throw badarg(operation, 'a unix path with a NUL byte inside');
  if (Buffer.byteLength(path) > SUN_PATH - (abstract ? 0 : 1)) {
    throw new TransportError('enametoolong', `${operation}: unix path too long: ${show(path)}`);
  }
  return path;
}

/** Where a datagram goes: an IP literal and port, or a unix path (`local`). */
export interface Destination {
  text: string;
  port: number;
  local: boolean;
  /** A host name that the asynchronous calls resolve first (`text` is then empty). */
  host?: string;
}

/** A host name as DNS spells one (RFC 1123 labels), not an IP literal. */
const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

let lastLiteral: string | undefined;
let lastLiteralFamily: SocketFamily | undefined;

/** The loopback address of an IP family, which `'localhost'` names in every call. */
export function loopbackOf(family: SocketFamily): string {
  return family === 'inet6' ? '::1' : '127.0.0.1';
}

/**
 * An address (an IP string or `{ local: path }`) and port for a socket of `family`, each
 * property read once. An IP literal of the other family is `eafnosupport`, as inet says;
 * `'localhost'` is the family's loopback; another host name is kept for `resolveHost` where
 * `names` is 'resolve' (the calls that are asynchronous anyway), and badarg elsewhere.
 */
export function checkDestination(address: unknown, port: unknown, family: SocketFamily, operation: string,
  names: 'resolve' | 'literal' = 'literal'): Destination {
  if (isPlainObject(address)) {
    const path = address.local;
    if (typeof path !== 'string') throw badarg(operation, `address must be an IP string or { local: path }, got ${show(address)}`);
    if (family !== 'local') throw new TransportError('eafnosupport', `${operation}: a unix address on an IP socket`);
    return { text: checkLocalPath(path, operation), port: 0, local: true };
  }
  if (typeof address !== 'string' || address === 'unspec') {
    throw badarg(operation, `address must be an IP string or { local: path }, got ${show(address)}`);
  }
  const number = checkPort(port, operation);
  if (family === 'local') throw new TransportError('eafnosupport', `${operation}: an IP address on a unix socket`);
  // A server answers the same peers again and again: the last literal found good is not checked again.
  if (address === lastLiteral && family === lastLiteralFamily) return { text: address, port: number, local: false };
  const percent = address.indexOf('%');
  const version = isIP(percent < 0 ? address : address.slice(0, percent));
  if (version !== 0) {
    if ((version === 6) !== (family === 'inet6')) {
      throw new TransportError('eafnosupport', `${operation}: ${show(address)} is an IPv${version} address, the socket is ${family === 'inet6' ? 'IPv6 (write an IPv4 peer as ::ffff:a.b.c.d)' : 'IPv4'}`);
    }
    if (percent >= 0 && !interfaceExists(address.slice(percent + 1))) throw badarg(operation, `not an IP address of this socket's family: ${show(address)}`);
    if (percent < 0) {
      lastLiteral = address;
      lastLiteralFamily = family;
    }
    return { text: address, port: number, local: false };
  }
  if (address.toLowerCase() === 'localhost') return { text: loopbackOf(family), port: number, local: false };
  if (names === 'resolve' && HOST_NAME.test(address)) return { text: '', port: number, local: false, host: address };
  throw badarg(operation, names === 'resolve'
    ? `not an IP address or host name: ${show(address)}`
    : `${show(address)} is not an IP literal: resolve host names first (dns.lookup), or send, which resolves them`);
}

/**
 * A host name's address in the socket's family, as gen_udp and node:dgram resolve one
 * (getaddrinfo, through dns.lookup); a name that does not resolve is `nxdomain`, as inet says.
 */
export async function resolveHost(host: string, family: SocketFamily, operation: string): Promise<string> {
  try {
    return (await dns.lookup(host, { family: family === 'inet6' ? 6 : 4 })).address;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'failed';
    throw new TransportError('nxdomain', `${operation}: ${show(host)} does not resolve to an ${family === 'inet6' ? 'IPv6' : 'IPv4'} address (${code})`, 'getaddrinfo');
  }
}

/** The send overloads' arguments (after the socket), each read once. */
export interface SendArguments {
  /** Whether a destination was given (send/3, /4, /5): then `address` and `port` are it. */
  addressed: boolean;
  address: unknown;
  port: unknown;
  ancillary: Record<string, unknown> | undefined;
  data: unknown;
}

/** Tells the overloads apart: (data), (dest, data), (address, port, data), (address, port, ancillary, data). */
export function sendArguments(args: ArrayLike<unknown>): SendArguments {
  switch (args.length) {
    case 1:
      return { addressed: false, address: undefined, port: 0, ancillary: undefined, data: args[0] };
    case 2: {
      const destination = args[0];
      if (!isPlainObject(destination)) throw badarg('send', `destination must be { address, port } or { local }, got ${show(destination)}`);
      if ('local' in destination) return { addressed: true, address: destination, port: 0, ancillary: undefined, data: args[1] };
      return { addressed: true, address: destination.address, port: destination.port, ancillary: undefined, data: args[1] };
    }
    case 3:
      return { addressed: true, address: args[0], port: args[1], ancillary: undefined, data: args[2] };
    case 4: {
      const ancillary = args[2];
      if (!isPlainObject(ancillary)) throw badarg('send', `ancillary must be an object, got ${show(ancillary)}`);
      return { addressed: true, address: args[0], port: args[1], ancillary, data: args[3] };
    }
    default:
      throw badarg('send', 'takes (socket, data), (socket, dest, data), (socket, address, port, data) or (socket, address, port, ancillary, data)');
  }
}

/** A sendBatch message's fields, each read once. */
export interface MessageFields {
  address: unknown;
  port: unknown;
  data: unknown;
  ancillary: Record<string, unknown> | undefined;
}

const MESSAGE_FIELDS = new Set(['address', 'port', 'data', 'ancillary']);

/** sendBatch's messages: an array of message objects, read once each. */
export function batchMessages(messages: unknown): MessageFields[] {
  if (!Array.isArray(messages)) throw badarg('sendBatch', `messages must be an array, got ${show(messages)}`);
  const fields: MessageFields[] = [];
  // A hole is no message: index every slot rather than let forEach skip it.
  for (let index = 0, count = messages.length; index < count; index++) {
    const message: unknown = messages[index];
    const where = `message ${index}`;
    if (!isPlainObject(message)) throw badarg('sendBatch', `${where} must be { address, port, data, ancillary? }`);
    const read: MessageFields = { address: undefined, port: undefined, data: undefined, ancillary: undefined };
    for (const key of Object.keys(message)) {
      if (!MESSAGE_FIELDS.has(key)) throw badarg('sendBatch', `${where}: unknown field '${key}'`);
      (read as unknown as Record<string, unknown>)[key] = message[key];
    }
    if (read.ancillary !== undefined && !isPlainObject(read.ancillary)) throw badarg('sendBatch', `${where}: ancillary must be an object`);
    fields.push(read);
  }
  return fields;
}

/** listen's own options (each read once), and the socket options among them. */
export interface ListenArguments {
  ip: unknown;
  family: SocketFamily | undefined;
  fd: number | undefined;
  netns: string | undefined;
  active: Active | undefined;
  socketOptions: Record<string, unknown>;
}

export const validActive = (value: unknown): value is Active =>
  typeof value === 'boolean' || value === 'once' || isInt(value, -32768, 32767);

/** What `active` takes, for the message that refuses another value. */
export const ACTIVE_EXPECTED = "true, false, 'once' or an integer from -32768 to 32767";

const FAMILIES = new Set(['inet', 'inet6', 'local']);

export function listenArguments(options: unknown): ListenArguments {
  if (!isPlainObject(options)) throw badarg('listen', `options must be an object, got ${show(options)}`);
  const own: Record<string, unknown> = {};
  const socketOptions: Record<string, unknown> = {};
  for (const name of Object.keys(options)) {
    const value = options[name];
    if (name === 'ip' || name === 'family' || name === 'fd' || name === 'netns' || name === 'inet_backend' || name === 'active') {
      if (value !== undefined) own[name] = value;
    } else {
      // A name such as '__proto__' must stay an own property.
      Object.defineProperty(socketOptions, name, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  const { ip, family, fd, netns, inet_backend: backend, active } = own;
  if (family !== undefined && (typeof family !== 'string' || !FAMILIES.has(family))) {
    throw badarg('listen', `family must be 'inet', 'inet6' or 'local', got ${show(family)}`);
  }
  if (fd !== undefined && !isInt(fd, 0, INT_MAX)) throw badarg('listen', `fd must be a descriptor number, got ${show(fd)}`);
  if (netns !== undefined && (typeof netns !== 'string' || netns.includes('\0'))) {
    throw badarg('listen', `netns must be a path, got ${show(netns)}`);
  }
  if (backend !== undefined && backend !== 'inet' && backend !== 'socket') {
    throw badarg('listen', `inet_backend must be 'inet' or 'socket', got ${show(backend)}`);
  }
  if (active !== undefined && !validActive(active)) throw badarg('listen', `bad value for option 'active': ${show(active)}, expected ${ACTIVE_EXPECTED}`);
  return { ip, family: family as SocketFamily | undefined, fd: fd as number | undefined, netns: netns as string | undefined, active: active as Active | undefined, socketOptions };
}

/** The family `ip` and `family` ask for. */
export function resolveFamily(ip: unknown, family: SocketFamily | undefined): SocketFamily {
  if (isPlainObject(ip)) {
    if (family !== undefined && family !== 'local') throw badarg('listen', `a { local } ip needs family 'local'`);
    return 'local';
  }
  if (family) return family;
  return typeof ip === 'string' && isIP(ip.split('%')[0]) === 6 ? 'inet6' : 'inet';
}

/** Where to bind: an IP literal, or a unix path; undefined for an unbound unix socket. */
export function bindAddress(ip: unknown, family: SocketFamily): string | undefined {
  if (family === 'local') {
    if (ip === undefined) return undefined;
    if (!isPlainObject(ip)) throw badarg('listen', `a local socket needs ip { local: path }, got ${show(ip)}`);
    return checkLocalPath(ip.local, 'listen');
  }
  if (ip === undefined || ip === 'any') return family === 'inet6' ? '::' : '0.0.0.0';
  if (ip === 'loopback' || ip === 'localhost') return loopbackOf(family);
  if (typeof ip !== 'string' || !checkIp(ip, family)) {
    throw badarg('listen', `ip must be 'any', 'loopback', an IP literal of the family or { local: path }, got ${show(ip)}`);
  }
  return ip;
}

/** controllingProcess's owner: a Worker's or a plain threadId. */
export function checkOwner(owner: unknown, isWorker: boolean, threadId: unknown): number {
  if (!isInt(threadId, 0, Number.MAX_SAFE_INTEGER)) {
    throw badarg('controllingProcess', `owner must be a live Worker or a threadId, got ${show(isWorker ? 'an exited Worker' : owner)}`);
  }
  return threadId;
}
