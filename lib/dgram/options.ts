/**
 * DgramUDP's options: what node:dgram can set and read back, each with how to undo it, so
 * that setopts stays all or nothing. Every other option of the contract (lib/contract/options.ts)
 * is `enotsup`; unknown names are `badarg`.
 * @internal
 * @packageDocumentation
 */
import { isIP } from 'node:net';
import { ACTIVE_EXPECTED, INT_MAX, interfaceExists, isInt, validActive } from '../contract/arguments';
import { LISTEN_ONLY_OPTIONS, REFUSED_OPTIONS, notForFamily, optionHome, refuse } from '../contract/options';
import { TransportError, badarg, enotsup, show } from '../errors';
import type { Active, IpFamily } from '../types';
import { DGRAM_REUSEPORT, fromNode, interfaceIndex, interfaceName, namedError, readNumber } from './node';
import type { DgramSocket } from './socket';

interface OptionSpec {
  /** The only family it exists in (the other one is `einval`, as the kernel says). */
  only?: IpFamily;
  /** node:dgram cannot do it on this family: `enotsup`. */
  unsupported?(family: IpFamily, value: unknown): string | undefined;
  valid(value: unknown, family: IpFamily): boolean;
  expected: string;
  /** Reads the value; absent: set-only (`einval`, as inet). */
  get?(socket: DgramSocket): unknown;
  /** Applies the value; returns how to undo it. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  set(socket: DgramSocket, value: any): (() => void) | void;
}

const bool = (value: unknown): boolean => typeof value === 'boolean';
const v4 = (value: unknown): boolean => typeof value === 'string' && isIP(value) === 4;
const v6 = (value: unknown): boolean => typeof value === 'string' && isIP(value) === 6;

/** '::%name' for an IPv6 interface index (node:dgram's way to name one); undefined for 0. */
function scope(iface: number | string, option: string): string | undefined {
  const name = typeof iface === 'string' ? iface : interfaceName(iface, 'setopts', option);
  return name === undefined ? undefined : `::%${name}`;
}

/** An IPv6 interface: an index, or a name the kernel knows. */
const v6Interface = (value: unknown): boolean =>
  isInt(value, 0, INT_MAX) || (typeof value === 'string' && !/^[0-9]/.test(value) && interfaceExists(value));

function membershipValid(size: 2 | 3) {
  return (value: unknown, family: IpFamily): boolean => {
    if (!Array.isArray(value) || value.length !== size) return false;
    const [group, iface, source] = value as unknown[];
    if (family === 'inet') return v4(group) && v4(iface) && (size === 2 || v4(source));
    return v6(group) && v6Interface(iface) && (size === 2 || v6(source));
  };
}

function interfaceArgument(state: DgramSocket, iface: string | number, option: string): string | undefined {
  return state.family === 'inet' ? iface as string : scope(iface, option);
}

function membership(join: boolean) {
  return (state: DgramSocket, [group, iface]: [string, string | number]): () => void => {
    const option = join ? 'add_membership' : 'drop_membership';
    const on = interfaceArgument(state, iface, option);
    if (join) state.dgram.addMembership(group, on);
    else state.dgram.dropMembership(group, on);
    return () => (join ? state.dgram.dropMembership(group, on) : state.dgram.addMembership(group, on));
  };
}

function sourceMembership(join: boolean) {
  return (state: DgramSocket, [group, iface, source]: [string, string | number, string]): () => void => {
    const option = join ? 'add_source_membership' : 'drop_source_membership';
    const on = interfaceArgument(state, iface, option);
    if (join) state.dgram.addSourceSpecificMembership(source, group, on);
    else state.dgram.dropSourceSpecificMembership(source, group, on);
    return () => (join ? state.dgram.dropSourceSpecificMembership(source, group, on) : state.dgram.addSourceSpecificMembership(source, group, on));
  };
}

type RememberedField = 'broadcast' | 'ttl' | 'multicastTtl' | 'multicastLoop' | 'hops';

/**
 * An option node:dgram sets but cannot read back: the socket remembers the value last set in
 * `field`, and reads `fallback` (the kernel's default) before that. Undo writes the old value.
 */
function remembered<T extends boolean | number>(
  field: RememberedField, write: (socket: DgramSocket, value: T) => void, fallback: () => T,
): Pick<OptionSpec, 'get' | 'set'> {
  const read = (socket: DgramSocket): T => (socket[field] as T | undefined) ?? fallback();
  return {
    get: read,
    set: (socket, value: T) => {
      const old = read(socket);
      write(socket, value);
      (socket[field] as T) = value;
      return () => {
        write(socket, old);
        (socket[field] as T) = old;
      };
    },
  };
}

/** Options fixed when node:dgram creates the socket: setopts may only repeat them. */
function creationOnly(key: 'reuseaddr' | 'reuseport', name: string): OptionSpec {
  return {
    valid: bool,
    expected: 'a boolean',
    get: (s) => s[key],
    set: (s, v: boolean) => {
      if (v !== s[key]) throw enotsup('setopts', `node:dgram sets '${name}' only when it creates the socket: pass it to listen/open`);
    },
  };
}

const SPECS: Record<string, OptionSpec> = {
  active: {
    valid: validActive,
    expected: ACTIVE_EXPECTED,
    get: (s) => s.active,
    // Applied last (see plan): turning active ends the waiting recvs, which no undo brings back.
    set: (s, v: Active) => s.setActive(v),
  },
  mode: { valid: (v) => v === 'binary', expected: "'binary'", get: () => 'binary', set: () => undefined },
  buffer: {
    valid: (v) => isInt(v, 1, INT_MAX),
    expected: 'a positive integer',
    get: (s) => s.buffer,
    set: (s, v: number) => {
      const old = s.buffer;
      s.buffer = v;
      return () => { s.buffer = old; };
    },
  },
  recbuf: {
    valid: (v) => isInt(v, 1, Math.floor(INT_MAX / 2)),
    expected: `an integer from 1 to ${Math.floor(INT_MAX / 2)}`,
    get: (s) => s.dgram.getRecvBufferSize(),
    set: (s, v: number) => {
      const old = s.dgram.getRecvBufferSize();
      s.dgram.setRecvBufferSize(v);
      s.rcvbuf = s.dgram.getRecvBufferSize();
      return () => {
        s.dgram.setRecvBufferSize(Math.max(1, old >> 1));
        s.rcvbuf = s.dgram.getRecvBufferSize();
      };
    },
  },
  sndbuf: {
    valid: (v) => isInt(v, 1, Math.floor(INT_MAX / 2)),
    expected: `an integer from 1 to ${Math.floor(INT_MAX / 2)}`,
    get: (s) => s.dgram.getSendBufferSize(),
    set: (s, v: number) => {
      const old = s.dgram.getSendBufferSize();
      s.dgram.setSendBufferSize(v);
      return () => s.dgram.setSendBufferSize(Math.max(1, old >> 1));
    },
  },
  broadcast: {
    valid: bool,
    expected: 'a boolean',
    ...remembered<boolean>('broadcast', (s, v) => s.dgram.setBroadcast(v), () => false),
  },
  ttl: {
    unsupported: (f) => (f === 'inet6' ? "node:dgram cannot set IP_TTL on an IPv6 socket (its TTL is 'unicast_hops')" : undefined),
    valid: (v) => isInt(v, 1, 255),
    expected: 'an integer from 1 to 255',
    ...remembered<number>('ttl', (s, v) => s.dgram.setTTL(v), () => readNumber('/proc/sys/net/ipv4/ip_default_ttl', 64)),
  },
  multicast_ttl: {
    valid: (v) => isInt(v, 0, 255),
    expected: 'an integer from 0 to 255',
    ...remembered<number>('multicastTtl', (s, v) => s.dgram.setMulticastTTL(v), () => 1),
  },
  multicast_loop: {
    valid: bool,
    expected: 'a boolean',
    ...remembered<boolean>('multicastLoop', (s, v) => s.dgram.setMulticastLoopback(v), () => true),
  },
  multicast_if: {
    valid: (v, f) => (f === 'inet' ? v4(v) : v6Interface(v)),
    expected: 'an IPv4 interface address (IPv4) or an interface index or name (IPv6)',
    get: (s) => s.multicastIf ?? (s.family === 'inet' ? '0.0.0.0' : 0),
    set: (s, v: string | number) => {
      const old = s.multicastIf;
      const apply = (value: string | number | undefined): void => {
        s.dgram.setMulticastInterface(s.family === 'inet' ? (value as string | undefined) ?? '0.0.0.0' : scope(value ?? 0, 'multicast_if') ?? '::');
      };
      apply(v);
      // An IPv6 interface named reads back as its index.
      s.multicastIf = typeof v === 'string' && s.family === 'inet6' ? interfaceIndex(v) || v : v;
      return () => { apply(old); s.multicastIf = old; };
    },
  },
  add_membership: { valid: membershipValid(2), expected: '[group, interface]', set: membership(true) },
  drop_membership: { valid: membershipValid(2), expected: '[group, interface]', set: membership(false) },
  add_source_membership: { valid: membershipValid(3), expected: '[group, interface, source]', set: sourceMembership(true) },
  drop_source_membership: { valid: membershipValid(3), expected: '[group, interface, source]', set: sourceMembership(false) },
  reuseaddr: creationOnly('reuseaddr', 'reuseaddr'),
  reuseport: {
    ...creationOnly('reuseport', 'reuseport'),
    unsupported: (_f, v) => (v === true && !DGRAM_REUSEPORT ? `node:dgram has no reusePort before Node 22.12 (this is ${process.version})` : undefined),
  },
  ipv6_v6only: {
    only: 'inet6',
    valid: bool,
    expected: 'a boolean',
    get: (s) => s.v6only ?? readNumber('/proc/sys/net/ipv6/bindv6only', 0) === 1,
    set: (s, v: boolean) => {
      const current = s.v6only ?? readNumber('/proc/sys/net/ipv6/bindv6only', 0) === 1;
      if (v !== current) throw namedError('setopts', 'setsockopt', 'EINVAL', ` ipv6_v6only = ${show(v)} (the socket is bound)`);
    },
  },
  unicast_hops: {
    only: 'inet6',
    valid: (v) => isInt(v, -1, 255),
    expected: 'an integer from -1 to 255',
    ...remembered<number>('hops', (s, v) => {
      if (v < 1) throw enotsup('setopts', `node:dgram sets 'unicast_hops' from 1 to 255, not ${v}`);
      s.dgram.setTTL(v);
    }, () => readNumber('/proc/sys/net/ipv6/conf/default/hop_limit', 64)),
  },
  multicast_hops: {
    only: 'inet6',
    valid: (v) => isInt(v, -1, 255),
    expected: 'an integer from -1 to 255',
    get: (s) => s.multicastTtl ?? 1,
    set: (s, v: number) => {
      if (v < 0) throw enotsup('setopts', `node:dgram sets 'multicast_hops' from 0 to 255, not ${v}`);
      return SPECS.multicast_ttl.set(s, v);
    },
  },
};


/** The spec of option `name` on a socket of `family`, or the reason there is none. */
export function specOf(name: string, family: IpFamily, operation: string): OptionSpec {
  const home = optionHome(name);
  if (home === undefined) throw badarg(operation, `unknown option '${name}'`);
  const spec = Object.hasOwn(SPECS, name) ? SPECS[name] : undefined;
  if ((home === 'kernel6' || spec?.only === 'inet6') && family === 'inet') {
    throw notForFamily(operation, name, family);
  }
  if (!spec) throw enotsup(operation, `option '${name}' is not available through node:dgram`);
  return spec;
}

interface Planned {
  name: string;
  value: unknown;
  spec: OptionSpec;
}

/** Checks every entry before anything is applied. */
export function plan(family: IpFamily, options: Record<string, unknown>, operation: string): Planned[] {
  const planned: Planned[] = [];
  for (const name of Object.keys(options)) {
    const value = options[name];
    if (REFUSED_OPTIONS.has(name) || (name === 'mode' && value !== 'binary')) refuse(operation, name, value);
    if (LISTEN_ONLY_OPTIONS.has(name)) throw badarg(operation, `'${name}' is a listen option, not a socket option`);
    const spec = specOf(name, family, operation);
    if (!spec.valid(value, family)) throw badarg(operation, `bad value for option '${name}': ${show(value)}, expected ${spec.expected}`);
    const why = spec.unsupported?.(family, value);
    if (why) throw enotsup(operation, `option '${name}': ${why}`);
    planned.push({ name, value, spec });
  }
  // active last, once everything that may fail took: as UDP sets its own options after the kernel's.
  return [...planned.filter((entry) => entry.name !== 'active'), ...planned.filter((entry) => entry.name === 'active')];
}

/** Applies checked options in order; when one fails, undoes the others and throws. */
export function apply(state: DgramSocket, planned: Planned[], operation: string): void {
  const undo: (() => void)[] = [];
  for (const { name, value, spec } of planned) {
    try {
      const back = spec.set(state, value);
      if (back) undo.push(back);
    } catch (error) {
      for (const step of undo.reverse()) {
        try {
          step();
        } catch {
          // best effort: the kernel refused to go back
        }
      }
      if (error instanceof TransportError) {
        if (error.message.startsWith('setopts: ') && operation !== 'setopts') {
          throw new TransportError(error.reason, `${operation}: ${error.message.slice(9)}`, error.syscall, error.errno);
        }
        throw error;
      }
      throw fromNode(error, operation, 'setsockopt', `option '${name}' ${show(value)}: `);
    }
  }
}

