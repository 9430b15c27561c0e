/**
 * What DgramUDP needs from node:dgram beyond its public API, in one place: each workaround
 * says why it exists. Nothing else in lib/dgram reaches into node:dgram's internals.
 * @internal
 * @packageDocumentation
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { TransportError, badarg, closedError, systemError, type PosixReason } from '../errors';
import type { IpFamily } from '../types';

const [NODE_MAJOR, NODE_MINOR] = process.versions.node.split('.').map(Number);
/** node:dgram's `reusePort` (Node 22.12 / 23.1 on, Linux). */
export const DGRAM_REUSEPORT = os.platform() === 'linux' &&
  (NODE_MAJOR > 23 || (NODE_MAJOR === 23 && NODE_MINOR >= 1) || (NODE_MAJOR === 22 && NODE_MINOR >= 12));

/** A system error by errno name ('EADDRINUSE'), as the native transport reports it. */
export function namedError(operation: string, syscall: string, code: string, detail = ''): TransportError {
  const errno = (os.constants.errno as Record<string, number>)[code];
  // A name Node's errno table lacks (libuv's own): its spelling is the reason all the same.
  if (errno === undefined) return new TransportError(code.toLowerCase() as PosixReason, `${operation}: ${syscall}${detail} failed: ${code.toLowerCase()}`, syscall);
  return systemError(operation, syscall, errno, detail);
}

/** Node's error (err.code 'EADDRINUSE', 'ERR_…') as a TransportError. */
export function fromNode(error: unknown, operation: string, syscall?: string, detail = ''): TransportError {
  if (error instanceof TransportError) return error;
  const e = error as (NodeJS.ErrnoException & { info?: { code?: string; syscall?: string } }) | undefined;
  let code = typeof e?.code === 'string' ? e.code : undefined;
  let call = syscall ?? e?.syscall;
  // setRecvBufferSize and friends wrap the system error in ERR_SOCKET_BUFFER_SIZE.
  if (code === 'ERR_SOCKET_BUFFER_SIZE' && typeof e?.info?.code === 'string') {
    code = e.info.code;
    call = syscall ?? e.info.syscall;
  }
  if (code === 'ERR_SOCKET_DGRAM_NOT_RUNNING') return closedError(operation);
  if (code !== undefined && /^E[A-Z0-9_]+$/.test(code)) return namedError(operation, call ?? 'call', code, detail);
  if (code !== undefined && code.startsWith('ERR_')) return badarg(operation, `${detail}${e?.message ?? code}`);
  return new TransportError('einval', `${operation}: ${detail}${e?.message ?? String(error)}`, call);
}

/**
 * node:dgram's lookup, answered at once for IP literals: without it, bind, connect and send
 * would resolve through dns.lookup on a later tick, and bind's and connect's outcome would
 * not be known inside the call as the contract wants it.
 */
export function literalLookup(address: string, options: unknown, callback?: (error: Error | null, address: string, family: number) => void): void {
  const done = typeof options === 'function' ? options as typeof callback : callback;
  const kind = isIP(address);
  if (kind === 0) {
    const error = Object.assign(new Error(`not an IP literal: ${address}`), { code: 'EINVAL', syscall: 'getaddrinfo' });
    done!(error, '', 0);
  } else {
    done!(null, address, kind);
  }
}

/**
 * dgram's internal UDP handle: node:dgram shows neither the descriptor nor a failed connect's
 * errno (it reports that on a later tick), and both are read from the handle when reachable.
 */
export function internalHandle(socket: dgram.Socket): { fd?: number; connect?(ip: string, port: number): number; connect6?(ip: string, port: number): number; disconnect?(): number } | undefined {
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = symbol ? (socket as unknown as Record<symbol, { handle?: unknown }>)[symbol] : undefined;
  return state && typeof state.handle === 'object' && state.handle !== null ? state.handle as ReturnType<typeof internalHandle> : undefined;
}

export function readNumber(file: string, fallback: number): number {
  try {
    const value = Number.parseInt(fs.readFileSync(file, 'latin1').trim(), 10);
    return Number.isFinite(value) ? value : fallback;
  } catch {
    return fallback;
  }
}

/**
 * The name of interface `index`: node:dgram names an IPv6 interface only as '::%name', so an
 * index is turned into its name through sysfs.
 */
export function interfaceName(index: number, operation: string, option: string): string | undefined {
  if (index === 0) return undefined;
  try {
    for (const name of fs.readdirSync('/sys/class/net')) {
      if (readNumber(`/sys/class/net/${name}/ifindex`, -1) === index) return name;
    }
  } catch {
    // no sysfs: fall through
  }
  throw namedError(operation, 'setsockopt', 'ENODEV', ` ${option} = ${index}`);
}

/** The index of interface `name` (0 where sysfs does not say): getopts answers multicast_if with it, as the kernel does. */
export function interfaceIndex(name: string): number {
  return readNumber(`/sys/class/net/${name}/ifindex`, 0);
}

/**
 * rx_queue/tx_queue (memory) and drops of a socket in /proc/net/udp{,6}, by inode: node:dgram
 * cannot ask for SO_MEMINFO.
 */
export function procStats(fd: number, family: IpFamily): { rmem: number; wmem: number; drops: number } | undefined {
  if (fd < 0) return undefined;
  try {
    const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
    if (!match) return undefined;
    const text = fs.readFileSync(family === 'inet6' ? '/proc/net/udp6' : '/proc/net/udp', 'latin1');
    for (const line of text.split('\n')) {
      const fields = line.trim().split(/\s+/);
      if (fields[9] !== match[1]) continue;
      const [tx, rx] = fields[4].split(':').map((hex) => Number.parseInt(hex, 16));
      return { rmem: rx, wmem: tx, drops: Number(fields[12]) || 0 };
    }
  } catch {
    // not Linux, or no /proc
  }
  return undefined;
}
