import { checkIp, isPlainObject } from '../contract/arguments';
import { badarg, show } from '../errors';
import type { SocketFamily } from '../types';
import { binding } from './binding';
import {
  RECORD_HOPLIMIT, RECORD_IFINDEX, RECORD_PRESENT, RECORD_SEGMENT_SIZE, RECORD_TCLASS, RECORD_TOS, RECORD_TTL,
  SEND_HOPLIMIT, SEND_PKTINFO_ADDRESS, SEND_PKTINFO_IFINDEX, SEND_SEGMENT_SIZE, SEND_TCLASS, SEND_TOS, SEND_TTL,
} from './protocol';

/** A send's integer ancillary keys: the bit and record field each takes, its range and family. */
const INTEGER_KEYS: Record<string, { bit: number; field: number; low: number; high: number; family?: SocketFamily }> = {
  tos: { bit: SEND_TOS, field: RECORD_TOS, low: 0, high: 255, family: 'inet' },
  ttl: { bit: SEND_TTL, field: RECORD_TTL, low: 1, high: 255, family: 'inet' },
  tclass: { bit: SEND_TCLASS, field: RECORD_TCLASS, low: -1, high: 255, family: 'inet6' },
  hoplimit: { bit: SEND_HOPLIMIT, field: RECORD_HOPLIMIT, low: -1, high: 255, family: 'inet6' },
  segmentSize: { bit: SEND_SEGMENT_SIZE, field: RECORD_SEGMENT_SIZE, low: 1, high: 65535 },
};
const INT32_MAX = 2 ** 31 - 1;

/**
 * Checks a send's ancillary object for a socket of `family` and writes it into `records` at
 * `base` (a send record, protocol.ts RECORD_*); returns pktinfo's address, which travels as a
 * string. Each property is read once.
 */
export function encodeAncillary(ancillary: Record<string, unknown>, family: SocketFamily, records: Int32Array, base: number,
  operation: string): string | undefined {
  let present = 0;
  let pktinfoAddress: string | undefined;
  for (const key of Object.keys(ancillary)) {
    const value = ancillary[key];
    if (value === undefined) continue;
    const integer = Object.hasOwn(INTEGER_KEYS, key) ? INTEGER_KEYS[key] : undefined;
    if (integer) {
      if (!Number.isInteger(value) || (value as number) < -INT32_MAX - 1 || (value as number) > INT32_MAX) {
        throw badarg(operation, `ancillary '${key}' must be an integer, got ${show(value)}`);
      }
      if (integer.family !== undefined && integer.family !== family) {
        throw badarg(operation, `ancillary '${key}' does not fit a ${family} socket ` +
          '(tos/ttl are IPv4, tclass/hoplimit IPv6)');
      }
      if ((value as number) < integer.low || (value as number) > integer.high) {
        throw badarg(operation, `ancillary '${key}' must be from ${integer.low} to ${integer.high}, got ${value}`);
      }
      present |= integer.bit;
      records[base + integer.field] = value as number;
    } else if (key === 'pktinfo') {
      pktinfoAddress = encodePktinfo(value, family, records, base, operation);
      present |= (pktinfoAddress !== undefined ? SEND_PKTINFO_ADDRESS : 0) | SEND_PKTINFO_IFINDEX;
    } else {
      throw badarg(operation, `unknown ancillary key '${key}'`);
    }
  }
  if (present !== 0 && family === 'local') {
    throw badarg(operation, 'ancillary data does not fit a local socket');
  }
  records[base + RECORD_PRESENT] = present;
  return pktinfoAddress;
}

/**
 * pktinfo `{ address?, ifindex?, specDst? }`: the source address and interface of a send. What
 * recv reported sends back unchanged: `specDst`, where the kernel gives it (IPv4), is the
 * local address the route chose, and the source; `address` is the datagram's destination,
 * the source where there is no specDst. The interface is an index or a name.
 */
function encodePktinfo(value: unknown, family: SocketFamily, records: Int32Array, base: number, operation: string): string | undefined {
  if (!isPlainObject(value)) throw badarg(operation, `ancillary 'pktinfo' must be { address?, ifindex?, specDst? }, got ${show(value)}`);
  let address: unknown;
  let ifindex: unknown;
  let specDst: unknown;
  for (const key of Object.keys(value)) {
    if (key === 'address') address = value[key];
    else if (key === 'ifindex') ifindex = value[key];
    else if (key === 'specDst') specDst = value[key];
    else throw badarg(operation, `unknown pktinfo key '${key}'`);
  }
  records[base + RECORD_IFINDEX] = interfaceIndexOf(ifindex, operation);
  for (const [key, text] of [['address', address], ['specDst', specDst]] as const) {
    if (text !== undefined && (typeof text !== 'string' || !checkIp(text, family))) {
      throw badarg(operation, `ancillary pktinfo.${key} is not an address of this socket's family: ${show(text)}`);
    }
  }
  return (specDst ?? address) as string | undefined;
}

/** pktinfo's interface: an index, or a name the kernel knows; 0 (any) when absent. */
function interfaceIndexOf(ifindex: unknown, operation: string): number {
  if (ifindex === undefined) return 0;
  if (typeof ifindex === 'string') {
    const index = ifindex.length > 0 && ifindex.length < 16 && !ifindex.includes('\0') ? binding.interfaceIndex(ifindex) : 0;
    if (index === 0) throw badarg(operation, `ancillary pktinfo.ifindex names no interface: ${show(ifindex)}`);
    return index;
  }
  if (!Number.isInteger(ifindex) || (ifindex as number) < 0 || (ifindex as number) > INT32_MAX) {
    throw badarg(operation, `ancillary pktinfo.ifindex must be an interface index or name, got ${show(ifindex)}`);
  }
  return ifindex as number;
}
