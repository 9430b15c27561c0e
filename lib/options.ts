import { C } from './binding';
import { badarg } from './errors';
import type { Socket } from './socket';
import type { Active } from './types';

/** Options the facade keeps itself (inet's "local options"); the rest live in the kernel. */
interface FacadeOption {
  valid(value: unknown): boolean;
  expected: string;
  get(socket: Socket): unknown;
  set(socket: Socket, value: unknown): void;
}

const isInt = (value: unknown, low: number, high: number): boolean =>
  Number.isInteger(value) && (value as number) >= low && (value as number) <= high;

export const FACADE_OPTIONS: Record<string, FacadeOption> = {
  active: {
    valid: (v) => typeof v === 'boolean' || v === 'once' || isInt(v, -32768, 32767),
    expected: "true, false, 'once' or an integer from -32768 to 32767",
    get: (s) => s.active,
    set: (s, v) => s.setActive(v as Active),
  },
  buffer: {
    valid: (v) => isInt(v, 1, 2 ** 31 - 1),
    expected: 'a positive integer',
    get: (s) => s.buffer,
    set: (s, v) => { s.buffer = v as number; },
  },
  read_packets: {
    valid: (v) => isInt(v, 1, C.MAX_BATCH),
    expected: `an integer from 1 to ${C.MAX_BATCH}`,
    get: (s) => s.readPackets,
    set: (s, v) => { s.readPackets = v as number; },
  },
  mode: {
    valid: (v) => v === 'binary',
    expected: "'binary' (data is always a Buffer)",
    get: () => 'binary',
    set: () => undefined,
  },
};

/** inet options that would break the contract's shapes. */
export const REFUSED_OPTIONS = new Set(['header', 'packet', 'deliver', 'packet_size', 'line_delimiter']);

/** Options that make the kernel attach control messages to received datagrams. */
export const RECEIVE_ANCILLARY_OPTIONS = new Set([
  'pktinfo', 'recvtos', 'recvttl', 'recvtclass', 'recvhoplimit', 'recvorigdstaddr', 'timestamp', 'rxq_ovfl', 'gro',
]);

/** Listen options that are not socket options. */
export const LISTEN_ONLY_OPTIONS = new Set(['ip', 'family', 'fd', 'netns', 'inet_backend']);

export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function refuse(operation: string, name: string, value: unknown): never {
  if (name === 'mode') throw badarg(operation, `option 'mode' ${show(value)} is refused: only 'binary' is supported`);
  throw badarg(operation, `option '${name}' is refused: it would break the contract's datagram shape`);
}
