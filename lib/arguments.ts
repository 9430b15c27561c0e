/**
 * Checks of the arguments every transport takes, each value read once: what they return is
 * plain data (numbers, strings) that nothing the caller owns can change afterwards.
 * @internal
 * @packageDocumentation
 */
import { isIP } from 'node:net';
import { AF_INET, AF_INET6, AF_UNIX, binding } from './binding';
import { TransportError, badarg, show } from './errors';

/** An object literal (of any realm): not an array, a Map, a Buffer or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.prototype.toString.call(value) !== '[object Object]') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

export function checkPort(port: unknown, operation: string): number {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw badarg(operation, `port must be an integer from 0 to 65535, got ${show(port)}`);
  }
  return port as number;
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
  if (!Number.isInteger(value) || (value as number) < low || (value as number) > 2 ** 31 - 1) {
    throw badarg(operation, `${what} must be an integer >= ${low}, got ${show(value)}`);
  }
  return value as number;
}

/** A scoped IPv6 address's interface exists: an index, or a name the kernel knows. */
function scopeExists(scope: string): boolean {
  if (/^[0-9]{1,10}$/.test(scope)) return Number(scope) <= 0xffffffff;
  return scope.length > 0 && !scope.includes('\0') && binding.interfaceIndex(scope) !== 0;
}

/**
 * `text` is an IP literal a socket of `family` can use: IPv4 on IPv4, IPv6 (with an
 * existing scope, when it has one) or IPv4 (mapped) on IPv6.
 */
export function checkIp(text: string, family: number): boolean {
  const percent = text.indexOf('%');
  const host = percent < 0 ? text : text.slice(0, percent);
  const version = isIP(host);
  if (version === 4) return percent < 0 && (family === AF_INET || family === AF_INET6);
  return version === 6 && family === AF_INET6 && (percent < 0 || scopeExists(text.slice(percent + 1)));
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

/** Where a datagram goes, as the native side takes it: an IP literal and port, or a unix path. */
export interface Destination {
  text: string;
  port: number;
}

/**
 * An address (an IP string or `{ local: path }`) and port for a socket of `family`. Each
 * property is read once.
 */
export function checkDestination(address: unknown, port: unknown, family: number, operation: string): Destination {
  if (isPlainObject(address)) {
    const path = address.local;
    if (typeof path !== 'string') throw badarg(operation, `address must be an IP string or { local: path }, got ${show(address)}`);
    if (family !== AF_UNIX) throw new TransportError('eafnosupport', `${operation}: a unix address on an IP socket`);
    return { text: checkLocalPath(path, operation), port: 0 };
  }
  if (typeof address !== 'string' || address === 'unspec') {
    throw badarg(operation, `address must be an IP string or { local: path }, got ${show(address)}`);
  }
  const number = checkPort(port, operation);
  if (family === AF_UNIX) throw new TransportError('eafnosupport', `${operation}: an IP address on a unix socket`);
  if (!checkIp(address, family)) throw badarg(operation, `not an IP address of this socket's family: ${show(address)}`);
  return { text: address, port: number };
}
