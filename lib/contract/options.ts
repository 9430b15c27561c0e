/**
 * Every socket option of the contract, and where it lives: `'facade'` (the transport keeps it,
 * inet's "local options"), `'kernel'` (a row of the addon's table, native/options.cc), or
 * `'kernel6'` (a row that only IPv6 sockets have). TypeScript ties this list to
 * `SocketOptions` and test/option-table.test.ts ties it to the addon's table, so adding an
 * option is one row there, one member of the type, and its entry here, which the compiler
 * asks for. DgramUDP, which loads no addon, learns from it which names are options at all.
 * @internal
 * @packageDocumentation
 */
import { TransportError, badarg, show } from '../errors';
import type { SocketFamily, SocketOptions } from '../types';

export type OptionHome = 'facade' | 'kernel' | 'kernel6';

export const OPTION_HOMES = {
  active: 'facade', buffer: 'facade', read_packets: 'facade', coalesce: 'facade', mode: 'facade',
  broadcast: 'kernel', recbuf: 'kernel', sndbuf: 'kernel', reuseaddr: 'kernel', reuseport: 'kernel', reuseport_lb: 'kernel',
  priority: 'kernel', tos: 'kernel', tclass: 'kernel6', ttl: 'kernel', recvtos: 'kernel', recvtclass: 'kernel6',
  recvttl: 'kernel', dontroute: 'kernel', multicast_if: 'kernel', multicast_loop: 'kernel', multicast_all: 'kernel', multicast_ttl: 'kernel',
  add_membership: 'kernel', drop_membership: 'kernel', add_source_membership: 'kernel', drop_source_membership: 'kernel',
  ipv6_v6only: 'kernel6', bind_to_device: 'kernel', raw: 'kernel', pktinfo: 'kernel', recvorigdstaddr: 'kernel',
  timestamp: 'kernel', rxq_ovfl: 'kernel', gro: 'kernel', segment: 'kernel', recverr: 'kernel', mtu_discover: 'kernel',
  freebind: 'kernel', transparent: 'kernel', mark: 'kernel', busy_poll: 'kernel', incoming_cpu: 'kernel',
  rcvbufforce: 'kernel', sndbufforce: 'kernel', recvhoplimit: 'kernel6', unicast_hops: 'kernel6', multicast_hops: 'kernel6',
} as const satisfies Record<keyof SocketOptions, OptionHome>;

export function optionHome(name: string): OptionHome | undefined {
  return Object.hasOwn(OPTION_HOMES, name) ? OPTION_HOMES[name as keyof SocketOptions] : undefined;
}

/** inet options that would break the contract's shapes. */
export const REFUSED_OPTIONS: ReadonlySet<string> = new Set(['header', 'packet', 'deliver', 'packet_size', 'line_delimiter']);

/** Listen options that are not socket options. */
export const LISTEN_ONLY_OPTIONS: ReadonlySet<string> = new Set(['ip', 'family', 'fd', 'netns', 'inet_backend']);

/** An option of the other family (an IPv6-only one on an IPv4 socket): einval, as the kernel says. */
export function notForFamily(operation: string, name: string, family: SocketFamily): TransportError {
  return new TransportError('einval', `${operation}: option '${name}' does not apply to ${family} sockets`);
}

/** getopts of an option that can only be set (a membership): einval, as inet says. */
export function setOnly(operation: string, name: string): TransportError {
  return new TransportError('einval', `${operation}: option '${name}' can only be set`);
}

export function refuse(operation: string, name: string, value: unknown): never {
  if (name === 'mode') throw badarg(operation, `option 'mode' ${show(value)} is refused: only 'binary' is supported`);
  throw badarg(operation, `option '${name}' is refused: it would break the contract's datagram shape`);
}
