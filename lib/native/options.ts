/**
 * Socket options: the addon's table (native/options.cc, one row per kernel option) and the
 * options the facade keeps itself, checked here and encoded as the plain entries the
 * native setopts applies.
 * @internal
 * @packageDocumentation
 */
import { types } from 'node:util';
import { ACTIVE_EXPECTED, INT_MAX, checkIp, interfaceExists, isInt, isPlainObject, validActive } from '../contract/arguments';
import { LISTEN_ONLY_OPTIONS, REFUSED_OPTIONS, notForFamily, refuse, setOnly } from '../contract/options';
import { badarg, show } from '../errors';
import type { Active, Coalesce, SocketFamily } from '../types';
import { OPTION_ROWS, type OptionRow } from './binding';
import {
  KIND_BOOL, KIND_INT, KIND_INTERFACE_NAME, KIND_MEMBERSHIP, KIND_MTU_DISCOVER, KIND_MULTICAST_IF, KIND_SOURCE_MEMBERSHIP,
  MAX_BATCH,
} from './protocol';
import type { Socket } from './socket';

export { OPTION_ROWS };

/** Row index by name. */
export const ROWS = new Map<string, number>(OPTION_ROWS.map((row, index) => [row.name, index]));

/** Options that make the kernel attach control messages to received datagrams. */
export const RECEIVE_ANCILLARY_OPTIONS: ReadonlySet<string> = new Set(OPTION_ROWS.filter((row) => row.ancillary).map((row) => row.name));

/** inet's mtu_discover names, by the kernel's number (IP_PMTUDISC_DONT = 0 …). */
const MTU_MODES = ['dont', 'want', 'do', 'probe', 'interface', 'omit'];

/** Options the facade keeps itself (inet's "local options"); the rest live in the kernel. */
interface FacadeOption {
  /** The value to keep, each of its parts read once; undefined when `value` is not one. */
  parse(value: unknown): unknown;
  expected: string;
  get(socket: Socket): unknown;
  set(socket: Socket, value: unknown): void;
}

const MAX_COALESCE_USECS = 1_000_000;
const MAX_COALESCE_PACKETS = 65536;

/** A `coalesce` value as plain data: false, or `{ usecs, packets? }` with integers in range. */
export function parseCoalesce(value: unknown): Coalesce | false | undefined {
  if (value === false) return false;
  if (!isPlainObject(value)) return undefined;
  const { usecs, packets, ...rest } = value;
  if (Object.keys(rest).length > 0 || !isInt(usecs, 1, MAX_COALESCE_USECS)) return undefined;
  if (packets === undefined) return { usecs: usecs as number };
  return isInt(packets, 1, MAX_COALESCE_PACKETS) ? { usecs: usecs as number, packets: packets as number } : undefined;
}

export const FACADE_OPTIONS: Record<string, FacadeOption> = {
  active: {
    parse: (v) => (validActive(v) ? v : undefined),
    expected: ACTIVE_EXPECTED,
    get: (s) => s.active,
    set: (s, v) => s.setActive(v as Active),
  },
  buffer: {
    parse: (v) => (isInt(v, 1, INT_MAX) ? v : undefined),
    expected: 'a positive integer',
    get: (s) => s.buffer,
    set: (s, v) => { s.buffer = v as number; },
  },
  read_packets: {
    parse: (v) => (isInt(v, 1, MAX_BATCH) ? v : undefined),
    expected: `an integer from 1 to ${MAX_BATCH}`,
    get: (s) => s.readPackets,
    set: (s, v) => { s.readPackets = v as number; },
  },
  coalesce: {
    parse: parseCoalesce,
    expected: `false or { usecs: 1 to ${MAX_COALESCE_USECS}, packets?: 1 to ${MAX_COALESCE_PACKETS} }`,
    get: (s) => (s.coalesce === false ? false : { ...s.coalesce }),
    set: (s, v) => s.setCoalesce(v as Coalesce | false),
  },
  mode: {
    parse: (v) => (v === 'binary' ? v : undefined),
    expected: "'binary' (data is always a Buffer)",
    get: () => 'binary',
    set: () => undefined,
  },
};

export function facadeOption(name: string): FacadeOption | undefined {
  return Object.hasOwn(FACADE_OPTIONS, name) ? FACADE_OPTIONS[name] : undefined;
}

/** Where `row` lives on a socket of `family`; level -1 where it does not apply. */
export function siteOf(row: OptionRow, family: SocketFamily): [number, number] {
  return row[family];
}

/** What a row's value must be, for the message that refuses another. */
function expectation(row: OptionRow, family: SocketFamily): string {
  switch (row.kind) {
    case KIND_BOOL: return 'a boolean';
    case KIND_INT: return `an integer from ${row.min} to ${row.max}`;
    case KIND_INTERFACE_NAME: return 'an interface name of at most 15 bytes';
    case KIND_MTU_DISCOVER: return MTU_MODES.map((mode) => `'${mode}'`).join(', ');
    case KIND_MULTICAST_IF: return family === 'inet6' ? 'an interface index or name' : 'an IPv4 interface address';
    case KIND_MEMBERSHIP: return family === 'inet6' ? '[group, interface index or name]' : '[group, interface address]';
    default: return family === 'inet6' ? '[group, interface index or name, source]' : '[group, interface address, source]';
  }
}

/**
 * An interface of a membership or multicast_if: an address on IPv4; on IPv6 an index, or a
 * name (Node has no way to learn an index), which the addon turns into its index.
 */
function interfaceValue(value: unknown, family: SocketFamily): string | number | undefined {
  if (family === 'inet6') return isInt(value, 0, INT_MAX) || (typeof value === 'string' && !/^[0-9]/.test(value) && interfaceExists(value)) ? value : undefined;
  return typeof value === 'string' && checkIp(value, 'inet') ? value : undefined;
}

/** A membership tuple's plain values, read once each; undefined when it is not one. */
function membershipValues(value: unknown, size: 2 | 3, family: SocketFamily): [string, string | number, string | undefined] | undefined {
  if (!Array.isArray(value) || value.length !== size) return undefined;
  const [group, iface, source] = [value[0], value[1], size === 3 ? value[2] : undefined];
  const interfaceText = interfaceValue(iface, family);
  if (typeof group !== 'string' || !checkIp(group, family) || interfaceText === undefined) return undefined;
  if (size === 3 && (typeof source !== 'string' || !checkIp(source, family))) return undefined;
  return [group, interfaceText, source as string | undefined];
}

/**
 * Checks `value` for option `name` on a socket of `family` and appends its entry (four plain
 * values: row, a, b, c) to `entries`.
 */
function encodeOption(name: string, value: unknown, family: SocketFamily, operation: string, entries: unknown[]): void {
  const index = ROWS.get(name);
  if (index === undefined) throw badarg(operation, `unknown option '${name}'`);
  const row = OPTION_ROWS[index];
  const bad = () => badarg(operation, `bad value for option '${name}': ${show(value)}, expected ${expectation(row, family)}`);
  switch (row.kind) {
    case KIND_BOOL:
      if (typeof value !== 'boolean') throw bad();
      break;
    case KIND_INT:
      if (typeof value !== 'number') throw bad();
      break;
    case KIND_MULTICAST_IF:
      if (typeof value !== 'string' && (family !== 'inet6' || typeof value !== 'number')) throw bad();
      break;
    case KIND_INTERFACE_NAME:
    case KIND_MTU_DISCOVER:
      if (typeof value !== 'string') throw bad();
      break;
    default:
      if (!Array.isArray(value)) throw bad();
  }
  if (siteOf(row, family)[0] < 0) throw notForFamily(operation, name, family);
  switch (row.kind) {
    case KIND_BOOL:
      entries.push(index, value ? 1 : 0, undefined, undefined);
      return;
    case KIND_INT:
      if (!isInt(value, row.min, row.max)) throw bad();
      entries.push(index, value, undefined, undefined);
      return;
    case KIND_INTERFACE_NAME:
      if (Buffer.byteLength(value as string) > 15 || (value as string).includes('\0')) throw bad();
      entries.push(index, value, undefined, undefined);
      return;
    case KIND_MTU_DISCOVER: {
      const mode = MTU_MODES.indexOf(value as string);
      if (mode < 0) throw bad();
      entries.push(index, mode, undefined, undefined);
      return;
    }
    case KIND_MULTICAST_IF: {
      const iface = interfaceValue(value, family);
      if (iface === undefined) throw bad();
      entries.push(index, iface, undefined, undefined);
      return;
    }
    default: {
      const tuple = membershipValues(value, row.kind === KIND_MEMBERSHIP ? 2 : 3, family);
      if (tuple === undefined) throw bad();
      entries.push(index, ...tuple);
    }
  }
}

/** The most bytes a raw option value may have. */
export const MAX_RAW_LENGTH = 4096;

/** A raw option `{ level, option, value: Uint8Array }`, each read once, as an entry. */
function encodeRaw(raw: unknown, operation: string, entries: unknown[]): void {
  const fields = isPlainObject(raw) ? [raw.level, raw.option, raw.value] : [];
  const [level, option, value] = fields;
  if (!isInt(level, 0, INT_MAX) || !isInt(option, 0, INT_MAX) || !types.isUint8Array(value)) {
    throw badarg(operation, `bad value for option 'raw': ${show(raw)}, expected { level, option, value: Uint8Array }`);
  }
  if (value.byteLength > MAX_RAW_LENGTH) throw badarg(operation, `option 'raw' value longer than ${MAX_RAW_LENGTH} bytes`);
  // A copy: the kernel reads bytes no one else holds.
  entries.push(-1, level, option, Uint8Array.prototype.slice.call(value));
}

/** setopts' (or listen's) options, checked and split: kernel entries for the addon, and the facade's own. */
export interface PlannedOptions {
  entries: unknown[];
  /** Each entry's name and value, for messages and the receive-ancillary bookkeeping. */
  applied: [string, unknown][];
  facade: [string, unknown][];
}

/** Checks every option before any is applied, reading each value once. */
export function planOptions(options: Record<string, unknown>, family: SocketFamily, operation: string): PlannedOptions {
  const planned: PlannedOptions = { entries: [], applied: [], facade: [] };
  for (const name of Object.keys(options)) {
    const value = options[name];
    if (REFUSED_OPTIONS.has(name) || (name === 'mode' && value !== 'binary')) refuse(operation, name, value);
    const local = facadeOption(name);
    if (local) {
      const parsed = local.parse(value);
      if (parsed === undefined) throw badarg(operation, `bad value for option '${name}': ${show(value)}, expected ${local.expected}`);
      planned.facade.push([name, parsed]);
    } else if (LISTEN_ONLY_OPTIONS.has(name)) {
      throw badarg(operation, `'${name}' is a listen option, not a socket option`);
    } else if (name === 'raw') {
      const raws: unknown[] = [];
      if (Array.isArray(value)) for (let i = 0, length = value.length; i < length; i++) raws.push(value[i]);
      else raws.push(value);
      for (const raw of raws) {
        encodeRaw(raw, operation, planned.entries);
        planned.applied.push(['raw', raw]);
      }
    } else {
      encodeOption(name, value, family, operation, planned.entries);
      planned.applied.push([name, value]);
    }
  }
  return planned;
}

/** getopts' value of `row` from what the addon read. */
export function decodeOption(row: OptionRow, value: number | string): unknown {
  if (row.kind === KIND_BOOL) return value !== 0;
  if (row.kind === KIND_MTU_DISCOVER) return MTU_MODES[value as number];
  return value;
}

/** The row to read option `name` from, or the reason it cannot be read on `family`. */
export function readableRow(name: string, family: SocketFamily, operation: string): number {
  const index = ROWS.get(name);
  if (index === undefined) throw badarg(operation, `unknown option '${name}'`);
  const row = OPTION_ROWS[index];
  if (!row.readable) throw setOnly(operation, name);
  if (siteOf(row, family)[0] < 0) throw notForFamily(operation, name, family);
  return index;
}
