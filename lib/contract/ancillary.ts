/**
 * A send's ancillary data, checked once for both transports: the keys the contract names,
 * the range of each value and the family it belongs to. The addon's transport then writes
 * it into a send record; DgramUDP, which cannot send it, refuses checked data with `enotsup`
 * (a bad value stays `badarg` there too).
 * @internal
 * @packageDocumentation
 */
import { badarg, show } from '../errors';
import type { SocketFamily } from '../types';
import { checkIp, isPlainObject } from './arguments';

/** The integer keys: the range each takes, and the only family it fits (none: both). */
export const ANCILLARY_INTEGERS = {
  tos: { low: 0, high: 255, family: 'inet' },
  ttl: { low: 1, high: 255, family: 'inet' },
  tclass: { low: -1, high: 255, family: 'inet6' },
  hoplimit: { low: -1, high: 255, family: 'inet6' },
  segmentSize: { low: 1, high: 65535, family: undefined },
} as const satisfies Record<string, { low: number; high: number; family: SocketFamily | undefined }>;

export type AncillaryInteger = keyof typeof ANCILLARY_INTEGERS;

/** pktinfo as checked: the addresses are of the socket's family; the interface is an index or a name. */
export interface CheckedPktinfo {
  address?: string;
  specDst?: string;
  /** An interface index, or a name still to look up; undefined: any. */
  ifindex?: number | string;
}

export interface CheckedAncillary {
  integers: [AncillaryInteger, number][];
  pktinfo?: CheckedPktinfo;
}

const INT32_MAX = 2 ** 31 - 1;
/** IFNAMSIZ, with its NUL. */
const INTERFACE_NAME_SIZE = 16;

/** Checks a send's ancillary object for a socket of `family`; each property is read once. */
export function checkAncillary(ancillary: Record<string, unknown>, family: SocketFamily, operation: string): CheckedAncillary {
  const checked: CheckedAncillary = { integers: [] };
  for (const key of Object.keys(ancillary)) {
    const value = ancillary[key];
    if (value === undefined) continue;
    if (Object.hasOwn(ANCILLARY_INTEGERS, key)) {
      checked.integers.push([key as AncillaryInteger, checkInteger(key as AncillaryInteger, value, family, operation)]);
    } else if (key === 'pktinfo') {
      checked.pktinfo = checkPktinfo(value, family, operation);
    } else {
      throw badarg(operation, `unknown ancillary key '${key}'`);
    }
  }
  if (family === 'local' && (checked.integers.length > 0 || checked.pktinfo !== undefined)) {
    throw badarg(operation, 'ancillary data does not fit a local socket');
  }
  return checked;
}

function checkInteger(key: AncillaryInteger, value: unknown, family: SocketFamily, operation: string): number {
  const { low, high, family: fits } = ANCILLARY_INTEGERS[key];
  if (!Number.isInteger(value) || (value as number) < -INT32_MAX - 1 || (value as number) > INT32_MAX) {
    throw badarg(operation, `ancillary '${key}' must be an integer, got ${show(value)}`);
  }
  if (fits !== undefined && fits !== family) {
    throw badarg(operation, `ancillary '${key}' does not fit a ${family} socket (tos/ttl are IPv4, tclass/hoplimit IPv6)`);
  }
  if ((value as number) < low || (value as number) > high) {
    throw badarg(operation, `ancillary '${key}' must be from ${low} to ${high}, got ${value}`);
  }
  return value as number;
}

/**
 * pktinfo `{ address?, ifindex?, specDst? }`: the source address and interface of a send. What
 * recv reported sends back unchanged: `specDst`, where the kernel gives it (IPv4), is the
 * local address the route chose, and the source; `address` is the datagram's destination,
 * the source where there is no specDst. The interface is an index or a name.
 */
function checkPktinfo(value: unknown, family: SocketFamily, operation: string): CheckedPktinfo {
  if (!isPlainObject(value)) throw badarg(operation, `ancillary 'pktinfo' must be { address?, ifindex?, specDst? }, got ${show(value)}`);
  const checked: CheckedPktinfo = {};
  for (const key of Object.keys(value)) {
    if (key !== 'address' && key !== 'ifindex' && key !== 'specDst') throw badarg(operation, `unknown pktinfo key '${key}'`);
    const field = value[key];
    if (field === undefined) continue;
    if (key === 'ifindex') {
      checked.ifindex = checkInterface(field, operation);
    } else {
      if (typeof field !== 'string' || !checkIp(field, family)) {
        throw badarg(operation, `ancillary pktinfo.${key} is not an address of this socket's family: ${show(field)}`);
      }
      checked[key] = field;
    }
  }
  return checked;
}

/** pktinfo's interface: an index, or what can be an interface name (the kernel says which exist). */
function checkInterface(ifindex: unknown, operation: string): number | string {
  if (typeof ifindex === 'string') {
    if (ifindex.length === 0 || ifindex.length >= INTERFACE_NAME_SIZE || ifindex.includes('\0')) {
      throw badarg(operation, `ancillary pktinfo.ifindex names no interface: ${show(ifindex)}`);
    }
    return ifindex;
  }
  if (!Number.isInteger(ifindex) || (ifindex as number) < 0 || (ifindex as number) > INT32_MAX) {
    throw badarg(operation, `ancillary pktinfo.ifindex must be an interface index or name, got ${show(ifindex)}`);
  }
  return ifindex as number;
}
