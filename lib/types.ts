import type { Worker } from 'node:worker_threads';
import type { RecvArena } from './contract/arena';

/**
 * An address as the seed's `address()` spells it: an IP literal (`'127.0.0.1'`, `'::1'`,
 * `'fe80::1%eth0'`), a unix datagram socket's path `{ local }`, `'unspec'` (a unix datagram
 * from an unnamed socket), or `{ undefined }` (an address of a family inet does not know).
 *
 * @example
 * const senders: Address[] = ['127.0.0.1', '::1', { local: '/run/app.sock' }, 'unspec'];
 */
export type Address = string | {
  /** The unix socket's path (a leading NUL names the abstract namespace). */
  local: string;
} | 'unspec' | {
  /** What the kernel gave for an address of an unknown family. */
  undefined: unknown;
};

/**
 * A socket's address family: `'inet'` (IPv4), `'inet6'` (IPv6), or `'local'` (a unix datagram
 * socket). `listen`'s `family` option; `Socket<F>`'s type parameter.
 *
 * @example
 * const family: SocketFamily = socket.family;
 */
export type SocketFamily = 'inet' | 'inet6' | 'local';
/**
 * The IP families: `'inet'` (IPv4) and `'inet6'` (IPv6).
 *
 * @example
 * const socket: Socket<IpFamily> = UDP.listen(0);
 */
export type IpFamily = 'inet' | 'inet6';

/**
 * An IP endpoint, as `sockname` and `peername` give it for an IP socket (node:dgram's `AddressInfo`).
 *
 * @example
 * const { address, family, port }: IpSocketInfo = UDP.sockname(UDP.listen(0)); // '0.0.0.0', 'IPv4', 41234
 */
export interface IpSocketInfo {
  /** The IP literal, `'127.0.0.1'` or `'::1'` (with `%scope` for a link-local IPv6 address). */
  address: string;
  /** `'IPv4'` or `'IPv6'`, as node:dgram says it. */
  family: 'IPv4' | 'IPv6';
  /** The port, 1 to 65535 (0 for an unbound socket's name). */
  port: number;
}

/**
 * A unix datagram socket's name.
 *
 * @example
 * const { local } = UDP.sockname(UDP.listen(0, { ip: { local: '/tmp/app.sock' } })); // '/tmp/app.sock'
 */
export interface LocalSocketInfo {
  /** Its path: `''` when unnamed, a leading NUL (`'\0name'`) for an abstract name. */
  local: string;
}

/**
 * Seed `socket_info()`: an IP endpoint, a unix path, or `'unspec'`.
 *
 * @example
 * const info: SocketInfo = UDP.sockname(socket);
 * if (typeof info === 'object' && 'port' in info) console.log(info.port);
 */
export type SocketInfo = IpSocketInfo | LocalSocketInfo | 'unspec';

/**
 * What `sockname`/`peername` give for a socket of family `F`: {@link LocalSocketInfo} for
 * `'local'`, {@link IpSocketInfo} otherwise.
 *
 * @example
 * const { port }: SocketInfoOf<'inet'> = UDP.listen(0).sockname();
 */
export type SocketInfoOf<F extends SocketFamily> = F extends 'local' ? LocalSocketInfo : IpSocketInfo;

/**
 * Where a datagram received by a socket of family `F` came from: an IP literal, or a unix path
 * (`'unspec'` when its sender had none). `RecvData<F>['address']`.
 *
 * @example
 * const from: SenderOf<'inet'> = (await UDP.listen(5300).recv(0, 'infinity')).address; // a string
 */
export type SenderOf<F extends SocketFamily> = F extends 'local' ? LocalSocketInfo | 'unspec' : string;

/**
 * How long a call may wait: milliseconds (≥ 0, fractions allowed), `Infinity`, or
 * `'infinity'` (the seed's spelling). 0 polls once: what is already there, or `timeout` at once.
 * Anything else (negative, NaN, a string) is `badarg`.
 *
 * @example
 * await UDP.recv(socket, 0, 250);        // a quarter second
 * await UDP.recv(socket, 0, 'infinity'); // until a datagram comes or the socket closes
 */
export type Timeout = number | 'infinity';

/**
 * One datagram's bytes: a string (UTF-8), a `Uint8Array` (a `Buffer`), or a list of these,
 * nested as deep as you like. A list is sent as one datagram, gathered by the kernel from its
 * pieces (one `iovec` each), never concatenated in JavaScript.
 *
 * @example
 * await UDP.send(socket, '127.0.0.1', 5353, [header, [name, '\0'], body]);
 */
export type IOData = string | Uint8Array | IOData[];

/**
 * Where a datagram was sent to, and on which interface it arrived (`IP_PKTINFO` /
 * `IPV6_PKTINFO`), in `ancillary.pktinfo` when the `pktinfo` option is on. Pass it back
 * unchanged in `send`'s ancillary data to answer from the address the datagram was sent to,
 * as a server on a host with several addresses must.
 *
 * @example
 * const { address, port, data, ancillary } = await UDP.recv(socket, 0, 'infinity');
 * await UDP.send(socket, address, port, { pktinfo: ancillary!.pktinfo }, data);
 */
export interface PktInfo {
  /** The datagram's destination address (`ipi_addr` / `ipi6_addr`): one of this host's, or a broadcast or multicast group. */
  address: string;
  /**
   * IPv4 only: the local address the route to the sender resolved to (`ipi_spec_dst`); the
   * source a reply should have. Absent on IPv6 sockets' datagrams.
   */
  specDst?: string;
  /** The index of the interface the datagram arrived on (1 is usually `lo`). */
  ifindex: number;
}

/**
 * An extended error the kernel queued for the socket (`IP_RECVERR` / `IPV6_RECVERR`, the
 * `recverr` option), read with `UDP.recvErrorQueue`: an ICMP error a datagram provoked, or a
 * local one (`emsgsize` against the path MTU).
 *
 * @example
 * const entry = UDP.recvErrorQueue(socket);
 * if (entry) console.log(entry.ancillary.error.reason, entry.ancillary.error.offender?.address);
 */
export interface ExtendedError {
  /** Where it came from (`SO_EE_ORIGIN_*`): `'local'`, `'icmp'`, `'icmp6'`, `'txstatus'`, `'zerocopy'`, `'txtime'`, or `'none'`. */
  origin: string;
  /** The errno it carries, as a lowercase name (`'econnrefused'`, `'emsgsize'`, `'ehostunreach'`, …). */
  reason: string;
  /** The errno it carries, as a number (`ee_errno`). */
  errno: number;
  /** The ICMP type (`ee_type`): 3 is destination unreachable for ICMP, 1 for ICMPv6. */
  type: number;
  /** The ICMP code (`ee_code`): 3 is port unreachable for ICMP, 4 for ICMPv6. */
  code: number;
  /** `ee_info`: the path MTU for `emsgsize`, 0 otherwise. */
  info: number;
  /** The node that sent the ICMP error (`SO_EE_OFFENDER`), when the kernel knows it. */
  offender?: {
    /** Its IP literal. */
    address: string;
    /** Its port (0 for ICMP). */
    port: number;
  };
}

/**
 * What the kernel said about a received datagram, in `RecvData.ancillary`. The object is there
 * exactly when at least one receive-side option is on (`recvtos`, `recvttl`, `recvtclass`,
 * `recvhoplimit`, `pktinfo`, `recvorigdstaddr`, `timestamp`, `rxq_ovfl`, `gro`); each field
 * is there when its option is on and the kernel attached it to this datagram. DgramUDP never
 * reports ancillary data (node:dgram cannot read it).
 *
 * @example
 * const socket = UDP.listen(5300, { recvttl: true, timestamp: true });
 * const { ancillary } = await UDP.recv(socket, 0, 'infinity');
 * console.log(ancillary?.ttl, new Date(Number(ancillary!.timestamp! / 1_000_000n)));
 */
export interface AncillaryData {
  /** IPv4 datagrams, with `recvtos` on: the TOS byte (DSCP and ECN) they arrived with (`IP_TOS`). */
  tos?: number;
  /** IPv6 datagrams, with `recvtclass` on: the traffic class they arrived with (`IPV6_TCLASS`). */
  tclass?: number;
  /** IPv4 datagrams, with `recvttl` on: the TTL they arrived with (`IP_TTL`). */
  ttl?: number;
  /** IPv6 datagrams, with `recvhoplimit` on: the hop limit they arrived with (`IPV6_HOPLIMIT`). */
  hoplimit?: number;
  /** With `pktinfo` on: the address the datagram was sent to and the interface it came in on. */
  pktinfo?: PktInfo;
  /**
   * With `recvorigdstaddr` on: the datagram's original destination (`IP_ORIGDSTADDR` /
   * `IPV6_ORIGDSTADDR`), which differs from the socket's address when the datagram was
   * redirected to it (TPROXY, with `transparent`).
   */
  origdstaddr?: {
    /** The destination address the sender used. */
    address: string;
    /** The destination port the sender used. */
    port: number;
  };
  /**
   * With `timestamp` on: when the kernel received the datagram, in nanoseconds since the
   * epoch (`SO_TIMESTAMPNS`, the system clock). `new Date(Number(timestamp / 1_000_000n))`
   * makes it a `Date` (to the millisecond).
   */
  timestamp?: bigint;
  /**
   * With `rxq_ovfl` on: how many datagrams the kernel had dropped on this socket (its receive
   * buffer full) when this one was queued, a running count (`SO_RXQ_OVFL`). 0 until the first
   * drop: the kernel attaches the count only once it is not 0, and this package reports 0
   * meanwhile (absent only when `ctruncated` says the kernel cut the control data).
   */
  dropped?: number;
  /**
   * With `gro` on, when the kernel merged several datagrams of one sender into this one
   * (`UDP_GRO`): `data` holds segments of this size, the last possibly shorter.
   * `UDP.splitSegments` gives them back as separate datagrams. Absent on a datagram that
   * was not merged.
   */
  segmentSize?: number;
  /** An extended error, on an entry read with `UDP.recvErrorQueue` (the `recverr` option). */
  error?: ExtendedError;
  /**
   * The kernel cut the control data (`MSG_CTRUNC`): some of the fields above may be missing
   * from this datagram.
   */
  ctruncated?: true;
}

/**
 * Ancillary data for one outgoing datagram (`send`'s fourth argument, `BatchMessage.ancillary`),
 * each key optional. The native `UDP` only: DgramUDP fails `enotsup` (after checking it, so a
 * bad value is still `badarg`). A key of the other family, an unknown key or a value out of
 * range is `badarg`.
 *
 * @example
 * await UDP.send(socket, '192.0.2.7', 53, { ttl: 5, tos: 0xb8 }, query);
 */
export interface SendAncillary {
  /** IPv4: this datagram's TOS byte, 0 to 255 (`IP_TOS`). */
  tos?: number;
  /** IPv6: this datagram's traffic class, 0 to 255, or -1 for the socket's (`IPV6_TCLASS`). */
  tclass?: number;
  /** IPv4: this datagram's TTL, 1 to 255 (`IP_TTL`). */
  ttl?: number;
  /** IPv6: this datagram's hop limit, 0 to 255, or -1 for the route's (`IPV6_HOPLIMIT`). */
  hoplimit?: number;
  /**
   * The source address and outgoing interface of this datagram (`IP_PKTINFO` /
   * `IPV6_PKTINFO`). What `recv` reported in `ancillary.pktinfo` may be passed back as it is.
   */
  pktinfo?: {
    /** The source address (one of this host's), used when `specDst` is absent. */
    address?: string;
    /** The outgoing interface: an index, or a name (`'eth0'`); absent or 0: the route decides. */
    ifindex?: number | string;
    /** IPv4: the source address (`ipi_spec_dst`); it wins over `address`, as in a received `PktInfo`. */
    specDst?: string;
  };
  /**
   * UDP segmentation offload (`UDP_SEGMENT`): the kernel cuts `data` into datagrams of this
   * many bytes (1 to 65535), the last possibly shorter, for one system call. `emsgsize` or
   * `einval` when the kernel refuses the size.
   */
  segmentSize?: number;
}

/**
 * One received datagram (seed `recv_data()`): what `recv` resolves with, what `recvBatch`
 * lists, and what an active socket emits as `'udp'`.
 *
 * @example
 * const { address, port, data } = await UDP.recv(socket, 0, 5000);
 * await UDP.send(socket, address, port, data);
 */
export interface RecvData<F extends SocketFamily = SocketFamily> {
  /** The sender: an IP literal, or for a unix datagram socket `{ local: path }` (`'unspec'` when the sender is unnamed). */
  address: SenderOf<F>;
  /** The sender's port; 0 for a unix datagram socket. */
  port: number;
  /** The datagram's bytes (at most `numBytes` of them, or the `buffer` option's count). */
  data: Buffer;
  /** What the kernel said about the datagram: present exactly when a receive-side ancillary option is on. */
  ancillary?: AncillaryData;
  /** The datagram was longer than `numBytes` (or `buffer`): `data` holds its first bytes (`MSG_TRUNC`). */
  truncated?: true;
}

/**
 * A datagram read from the error queue (`MSG_ERRQUEUE`, see `UDP.recvErrorQueue`):
 * `address`/`port` are the destination of the datagram that failed, `data` its start, and
 * `ancillary.error` the error.
 *
 * @example
 * const entry: ErrorQueueEntry | undefined = UDP.recvErrorQueue(socket);
 */
export type ErrorQueueEntry = RecvData<IpFamily> & {
  /** The error, and whatever else the kernel attached. */
  ancillary: AncillaryData & {
    /** The error the kernel queued. */
    error: ExtendedError;
  };
};

/**
 * A socket's active mode, as inet has it: `false` (the default) is pull-only, `recv`;
 * `true` emits every datagram as a `'udp'` event; `'once'` emits one, then the socket is
 * passive again; a count N emits N (each `setopts` adds to the count left; -32768 to 32767,
 * 0 or less turns it passive) and then emits `'udp_passive'`.
 *
 * @example
 * const socket = UDP.listen(5300, { active: 10 });
 * socket.on('udp', handle).on('udp_passive', () => socket.setopts({ active: 10 }));
 */
export type Active = boolean | 'once' | number;

/**
 * The `coalesce` option: hold a socket's readiness back so that one wakeup of the thread
 * serves many datagrams. A hold starts when a datagram arrives at an idle socket and lasts
 * `usecs` microseconds (a microsecond timer, not setTimeout's millisecond); everything that
 * arrived meanwhile is read with it. `packets` ends holds sooner, once about that many
 * datagrams have gathered, judged from the rate the previous hold saw. Each datagram waits
 * up to `usecs` longer; `false` (the default) reports every readiness at once.
 *
 * @example
 * UDP.setopts(socket, { coalesce: { usecs: 200, packets: 32 } });
 */
export interface Coalesce {
  /** The longest hold, 1 to 1,000,000 microseconds. */
  usecs: number;
  /** End a hold once about this many datagrams have gathered (1 to 65536); absent: only `usecs` ends it. */
  packets?: number;
}

/** Marks {@link SocketHandoff}'s type: nothing has this key at run time. */
declare const handoffBrand: unique symbol;

/**
 * The token that hands a socket to another thread: after `UDP.controllingProcess(socket,
 * worker)`, post `socket.handoff` to that worker (it is structured-cloneable), which passes it
 * to `UDP.adopt` to get its own `Socket` for the same kernel socket. It carries what the
 * socket had already read and its mode; its contents are the package's own, to pass on as
 * they are.
 *
 * @example
 * // main thread
 * UDP.controllingProcess(socket, worker);
 * worker.postMessage({ handoff: socket.handoff });
 * // worker
 * parentPort.on('message', ({ handoff }) => serve(UDP.adopt(handoff)));
 */
export interface SocketHandoff {
  /** @hidden */
  readonly [handoffBrand]: 'SocketHandoff';
  /** @internal The socket's id in the addon's registry. */
  abyssSocket: number;
  /** @internal Datagrams the previous owner had already read from the kernel. */
  carry: RecvData[];
  /** @internal The `buffer` option. */
  buffer: number;
  /** @internal The `read_packets` option. */
  readPackets: number;
  /** @internal The active mode the socket was in (true, 'once', the remaining count N, or false). */
  active?: Active;
  /** @internal The socket's `coalesce` option. */
  coalesce?: Coalesce | false;
}

/**
 * The hand-over token's first name.
 *
 * @deprecated Use {@link SocketHandoff}.
 * @example
 * const handoff: SocketHandoff = socket.handoff; // not SocketRef
 */
export type SocketRef = SocketHandoff;

/**
 * A kernel option by its numbers, set from bytes (the `raw` option): what this package has
 * no name for.
 *
 * @example
 * const value = Buffer.alloc(4);
 * value.writeInt32LE(6);
 * UDP.setopts(socket, { raw: { level: 1, option: 12, value } }); // SOL_SOCKET, SO_PRIORITY
 */
export interface RawOptionSet {
  /** The protocol level: `SOL_SOCKET` (1), `IPPROTO_IP` (0), `IPPROTO_IPV6` (41), `SOL_UDP` (17), … */
  level: number;
  /** The option's number at that level. */
  option: number;
  /** The value's bytes, in the kernel's layout (at most 4096). */
  value: Uint8Array;
}
/**
 * A kernel option to read by its numbers: `getopts(socket, [{ raw: { level, option, length } }])`.
 *
 * @example
 * const { raw } = UDP.getopts(socket, [{ raw: { level: 1, option: 12, length: 4 } }]); // SO_PRIORITY
 */
export interface RawOptionGet {
  /** The protocol level (`SOL_SOCKET` is 1). */
  level: number;
  /** The option's number at that level. */
  option: number;
  /** How many bytes to read at most (0 to 4096). */
  length: number;
}

/**
 * Every socket option, for `listen`/`open`, `setopts` and `getopts`. Names and value shapes are
 * inet's where inet has the option; the Linux options beyond it are named after the kernel
 * constant in lower case. `setopts` is all or nothing: a bad entry throws and changes nothing.
 *
 * **Defaults a newcomer trips on.** `reuseaddr` and `reuseport` are on by default, as in
 * Abyss: a second `listen` on the same port succeeds and silently shares the port's traffic
 * with the first (the kernel spreads datagrams by sender address and port). To get
 * node:dgram's behaviour, listen with `{ reuseaddr: false, reuseport: false }`: that listen
 * then fails `eaddrinuse` (syscall `bind`) if the port is taken, and while it holds the port
 * every other listen on it fails `eaddrinuse` too, whatever its flags. Turning off only
 * `reuseport` is not enough: with `SO_REUSEADDR` on both, Linux lets the second bind, and
 * only one of the two then receives. A socket is passive (`active: false`): read with `recv`
 * or `for await`, or turn `active` on for `'udp'` events.
 *
 * Bad values are `badarg` with a message that says what the option expects (`setopts: bad
 * value for option 'ttl': 300, expected an integer from 1 to 255`); an unknown name is
 * `badarg`; an option of the other family (an IPv6 one on an IPv4 socket) is `einval`; a
 * value the kernel refuses fails with the kernel's reason (`eperm` for a privileged option
 * the process may not set, `enodev` for an unknown device), syscall `setsockopt`. DgramUDP
 * has only some options: the others are `enotsup` there, whatever the value.
 *
 * @example
 * const socket = UDP.listen(5353, { ip: 'any', recbuf: 4 << 20, pktinfo: true, reuseaddr: false, reuseport: false });
 * UDP.setopts(socket, { ttl: 32, broadcast: true });
 * const { recbuf } = UDP.getopts(socket, ['recbuf']); // 8388608: the kernel doubles it
 */
export interface SocketOptions {
  /**
   * Whether datagrams are pulled with `recv` (`false`) or emitted as `'udp'` events: `true`
   * for every one, `'once'` for one, or a count N (see {@link Active}). `recv` on an active
   * socket is `einval`. Kept by this package (inet's), so it travels with a hand-over.
   * - Values: `true`, `false`, `'once'`, an integer -32768 to 32767
   * - Default: `false`
   * - DgramUDP: yes
   */
  active?: Active;
  /**
   * May send to a broadcast address (`SO_BROADCAST`); off, such a send fails `eacces`.
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: yes
   */
  broadcast?: boolean;
  /**
   * The most bytes of a datagram that `recv(socket, 0, …)` returns (inet's `buffer`); a longer
   * one is cut and marked `truncated`. Kept by this package.
   * - Values: a positive integer · Default: 65536 (any UDP datagram); 16 MiB on a unix socket
   * - DgramUDP: yes
   */
  buffer?: number;
  /**
   * The kernel's receive buffer for this socket (`SO_RCVBUF`): how many bytes of datagrams may
   * wait before the kernel drops new ones. Reads back doubled, as Linux reports it, and is
   * capped by `net.core.rmem_max` (see `rcvbufforce` to go beyond).
   * - Values: 1 to 1073741823 · Default: `net.core.rmem_default` (212992 on most systems) · Privilege: none
   * - DgramUDP: yes (`setRecvBufferSize`)
   */
  recbuf?: number;
  /**
   * The kernel's send buffer (`SO_SNDBUF`); reads back doubled, capped by `net.core.wmem_max`.
   * - Values: 1 to 1073741823 · Default: `net.core.wmem_default` · Privilege: none · DgramUDP: yes
   */
  sndbuf?: number;
  /**
   * `SO_REUSEADDR`: several sockets may bind the same address and port when all of them set
   * it. On by default (as in Abyss); see the top of {@link SocketOptions} for how to get
   * node:dgram's `eaddrinuse` instead.
   * - Values: boolean · Default: `true` (`false` on a unix socket) · Privilege: none
   * - DgramUDP: yes, at `listen`/`open` only (`setopts` may only repeat it, else `enotsup`)
   */
  reuseaddr?: boolean;
  /**
   * `SO_REUSEPORT`: sockets of the same user that all set it share the port, and the kernel
   * spreads incoming datagrams over them by the sender's address and port (a sender stays with
   * one socket). The way to use several cores: one socket per worker on the same port. On by
   * default, as in Abyss.
   * - Values: boolean · Default: `true` (`false` on a unix socket) · Privilege: none
   * - DgramUDP: at `listen`/`open` only, from Node 22.12 / 23.1 on (before: `enotsup`, default off)
   */
  reuseport?: boolean;
  /**
   * inet's load-balancing `SO_REUSEPORT_LB` (FreeBSD); on Linux the same `SO_REUSEPORT` as
   * `reuseport`, which already balances.
   * - Values: boolean · Default: `true` (as `reuseport`) · DgramUDP: `enotsup`
   */
  reuseport_lb?: boolean;
  /**
   * The priority of the socket's outgoing packets for queueing disciplines (`SO_PRIORITY`).
   * - Values: 0 to 2147483647 · Default: 0
   * - Privilege: 0 to 6 none; higher needs `CAP_NET_ADMIN` or `CAP_NET_RAW` (else `eperm`)
   * - DgramUDP: `enotsup`
   */
  priority?: number;
  /**
   * The TOS byte (DSCP and ECN) of outgoing IPv4 packets (`IP_TOS`); on an IPv6 socket, of
   * those it sends to IPv4-mapped addresses. Per datagram: `SendAncillary.tos`.
   * - Values: 0 to 255 · Default: 0 · Privilege: none · DgramUDP: `enotsup`
   */
  tos?: number;
  /**
   * IPv6 sockets: the traffic class of outgoing packets (`IPV6_TCLASS`). Per datagram:
   * `SendAncillary.tclass`.
   * - Values: -1 (the kernel's default) to 255 · Default: 0 · Privilege: none · DgramUDP: `enotsup`
   */
  tclass?: number;
  /**
   * The TTL of outgoing unicast IPv4 packets (`IP_TTL`). Per datagram: `SendAncillary.ttl`. On
   * IPv6 sockets the hop limit is `unicast_hops`.
   * - Values: 1 to 255 · Default: `net.ipv4.ip_default_ttl` (64) · Privilege: none
   * - DgramUDP: IPv4 sockets (`setTTL`)
   */
  ttl?: number;
  /**
   * Report the TOS byte of received IPv4 datagrams (`IP_RECVTOS`) in `ancillary.tos`.
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  recvtos?: boolean;
  /**
   * IPv6 sockets: report the traffic class of received datagrams (`IPV6_RECVTCLASS`) in
   * `ancillary.tclass`.
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  recvtclass?: boolean;
  /**
   * Report the TTL of received IPv4 datagrams (`IP_RECVTTL`) in `ancillary.ttl`.
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  recvttl?: boolean;
  /**
   * Send only to hosts on directly connected networks, bypassing the routing table's gateways
   * (`SO_DONTROUTE`).
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  dontroute?: boolean;
  /**
   * The interface outgoing multicast leaves by (`IP_MULTICAST_IF` / `IPV6_MULTICAST_IF`).
   * - Values: IPv4, an interface's address (`'0.0.0.0'`: the route decides); IPv6, an interface
   *   index or name (0: the route decides; a name reads back as its index)
   * - Default: `'0.0.0.0'` / 0 · Privilege: none · DgramUDP: yes (`setMulticastInterface`)
   */
  multicast_if?: string | number;
  /**
   * Whether this host's own sockets receive the multicast this socket sends
   * (`IP_MULTICAST_LOOP` / `IPV6_MULTICAST_LOOP`).
   * - Values: boolean · Default: `true` · Privilege: none · DgramUDP: yes
   */
  multicast_loop?: boolean;
  /**
   * `IP_MULTICAST_ALL` / `IPV6_MULTICAST_ALL`: `false` delivers to a socket bound to the
   * wildcard address only the groups it joined itself; Linux's default `true` delivers every
   * group any socket of the host joined on that port.
   * - Values: boolean · Default: `true` · Privilege: none · DgramUDP: `enotsup`
   */
  multicast_all?: boolean;
  /**
   * The TTL (IPv4) or hop limit (IPv6) of outgoing multicast (`IP_MULTICAST_TTL` /
   * `IPV6_MULTICAST_HOPS`); 1 keeps it on the local network.
   * - Values: 0 to 255 · Default: 1 · Privilege: none · DgramUDP: yes
   */
  multicast_ttl?: number;
  /**
   * Joins a multicast group (`IP_ADD_MEMBERSHIP` / `IPV6_ADD_MEMBERSHIP`); set-only
   * (`getopts` is `einval`). Joining a group twice is `eaddrinuse`.
   * - Values: `[group, interface]`: IPv4, the interface's address (`'0.0.0.0'`: the route
   *   decides); IPv6, an interface index or name (0: the route decides)
   * - Privilege: none · DgramUDP: yes (`addMembership`)
   */
  add_membership?: [string, string | number];
  /**
   * Leaves a multicast group joined with `add_membership` (`IP_DROP_MEMBERSHIP` /
   * `IPV6_DROP_MEMBERSHIP`); set-only. Leaving a group not joined is `eaddrnotavail`.
   * - Values: as `add_membership` · DgramUDP: yes
   */
  drop_membership?: [string, string | number];
  /**
   * Joins a source-specific multicast group (`IP_ADD_SOURCE_MEMBERSHIP` /
   * `MCAST_JOIN_SOURCE_GROUP`): only `source`'s datagrams to `group`. Set-only.
   * - Values: `[group, interface, source]`, the interface as in `add_membership`
   * - Privilege: none · DgramUDP: yes (`addSourceSpecificMembership`)
   */
  add_source_membership?: [string, string | number, string];
  /**
   * Leaves a source-specific group (`IP_DROP_SOURCE_MEMBERSHIP` / `MCAST_LEAVE_SOURCE_GROUP`).
   * Set-only.
   * - Values: as `add_source_membership` · DgramUDP: yes
   */
  drop_source_membership?: [string, string | number, string];
  /**
   * IPv6 sockets: `true` receives IPv6 only; `false` receives IPv4 too, as IPv4-mapped
   * addresses (`::ffff:a.b.c.d`) (`IPV6_V6ONLY`). Only before the socket is bound: give it to
   * `listen`/`open`; `setopts` on a bound socket is `einval`.
   * - Values: boolean · Default: `net.ipv6.bindv6only` (usually `false`); binding a specific
   *   IPv6 address (not `::`) makes it `true` · Privilege: none
   * - DgramUDP: at `listen`/`open` only
   */
  ipv6_v6only?: boolean;
  /**
   * Binds the socket to a network device (`SO_BINDTODEVICE`): it receives only what arrives
   * there and sends only through it. `''` unbinds. An unknown device is `enodev`.
   * - Values: an interface name of at most 15 bytes · Default: `''` (none)
   * - Privilege: none for the first binding since Linux 5.7; changing it needs `CAP_NET_RAW`
   * - DgramUDP: `enotsup`
   */
  bind_to_device?: string;
  /**
   * How many datagrams one read of the kernel takes at most (inet's `read_packets`; one
   * `recvmmsg`): also what an active socket emits per turn of the event loop. Kept by this
   * package.
   * - Values: 1 to 64 · Default: 32 · DgramUDP: `enotsup` (libuv reads as it will)
   */
  read_packets?: number;
  /**
   * Hold readiness back to serve many datagrams per wakeup (see {@link Coalesce}); `false`:
   * off. Kept by this package, applied by the addon.
   * - Values: `false` or `{ usecs, packets? }` · Default: `false` · DgramUDP: `enotsup`
   */
  coalesce?: Coalesce | false;
  /**
   * Received `data` is always a `Buffer`: `'binary'` is the only value (inet's `list` mode
   * would break the contract's shapes and is `badarg`).
   */
  mode?: 'binary';
  /**
   * A kernel option by its numbers (see {@link RawOptionSet}), or a list of them, applied in
   * order. Read with `getopts(socket, [{ raw: { level, option, length } }])`.
   * - DgramUDP: `enotsup`
   */
  raw?: RawOptionSet | RawOptionSet[];
  /**
   * Report where each datagram was sent to and the interface it arrived on (`IP_PKTINFO` /
   * `IPV6_RECVPKTINFO`) in `ancillary.pktinfo`: the way for a socket bound to the wildcard
   * address to answer from the address it was asked at (pass the object back to `send`).
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  pktinfo?: boolean;
  /**
   * Report each datagram's original destination address and port (`IP_RECVORIGDSTADDR` /
   * `IPV6_RECVORIGDSTADDR`) in `ancillary.origdstaddr`: with TPROXY (`transparent`), where the
   * sender meant it to go.
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  recvorigdstaddr?: boolean;
  /**
   * Report when the kernel received each datagram (`SO_TIMESTAMPNS`) in
   * `ancillary.timestamp`, nanoseconds since the epoch as a bigint.
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  timestamp?: boolean;
  /**
   * Report the running count of datagrams the kernel dropped on this socket (`SO_RXQ_OVFL`) in
   * `ancillary.dropped`: 0 until the first drop (the kernel attaches the count only once it is
   * not 0), then the count when each datagram was queued. `getstat().kernel.drops` is the
   * same count now.
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  rxq_ovfl?: boolean;
  /**
   * UDP generic receive offload (`UDP_GRO`): the kernel may merge consecutive datagrams of one
   * sender into one, reported with `ancillary.segmentSize` (`UDP.splitSegments` splits it);
   * fewer, larger reads under load. `recvInto` splits them itself.
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  gro?: boolean;
  /**
   * UDP segmentation offload for every send (`UDP_SEGMENT`): the kernel cuts each datagram
   * into datagrams of this many bytes. 0: off. Per datagram: `SendAncillary.segmentSize`.
   * - Values: 0 to 65535 · Default: 0 · Privilege: none · DgramUDP: `enotsup`
   */
  segment?: number;
  /**
   * Queue the extended errors of this socket's sends (ICMP errors, `emsgsize` against the path
   * MTU) to be read with `UDP.recvErrorQueue` (`IP_RECVERR` / `IPV6_RECVERR`). The kernel then
   * also fails the next `recv` with each such error (`econnrefused`, `ehostunreach`, …), on an
   * unconnected socket too; the queue has the details (which destination, which router).
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  recverr?: boolean;
  /**
   * Path MTU discovery (`IP_MTU_DISCOVER` / `IPV6_MTU_DISCOVER`): `'do'` sets Don't Fragment
   * and refuses datagrams larger than the path MTU with `emsgsize`; `'want'` sets DF but
   * fragments datagrams larger than the known path MTU; `'dont'` never sets DF; `'probe'` sets
   * DF and ignores the path MTU; `'interface'` and `'omit'` ignore the path MTU the kernel
   * learned (see ip(7)).
   * - Values: `'dont'`, `'want'`, `'do'`, `'probe'`, `'interface'`, `'omit'`
   * - Default: `'want'` (`'dont'` with `net.ipv4.ip_no_pmtu_disc`) · Privilege: none · DgramUDP: `enotsup`
   */
  mtu_discover?: 'dont' | 'want' | 'do' | 'probe' | 'interface' | 'omit';
  /**
   * Bind to an address this host does not have (yet) (`IP_FREEBIND` / `IPV6_FREEBIND`); give
   * it to `listen`/`open`, as it is applied before `bind`.
   * - Values: boolean · Default: `false` (the sysctl `net.ipv4.ip_nonlocal_bind` allows it for
   *   every socket) · Privilege: none · DgramUDP: `enotsup`
   */
  freebind?: boolean;
  /**
   * Transparent proxying (`IP_TRANSPARENT` / `IPV6_TRANSPARENT`): bind to and send from
   * foreign addresses, receive what TPROXY redirects (see `recvorigdstaddr`).
   * - Values: boolean · Default: `false`
   * - Privilege: `CAP_NET_ADMIN` or `CAP_NET_RAW` (else `eperm`) · DgramUDP: `enotsup`
   */
  transparent?: boolean;
  /**
   * The firewall mark of outgoing packets (`SO_MARK`), for policy routing and netfilter.
   * - Values: 0 to 4294967295 · Default: 0
   * - Privilege: `CAP_NET_ADMIN` (or `CAP_NET_RAW`) (else `eperm`) · DgramUDP: `enotsup`
   */
  mark?: number;
  /**
   * Busy-poll the device queue for this many microseconds on a blocking read (`SO_BUSY_POLL`);
   * it matters to `recv` only as far as the kernel polls on this socket's behalf. Needs a
   * kernel built with `CONFIG_NET_RX_BUSY_POLL` (else `enoprotoopt`).
   * - Values: 0 to 2147483647 · Default: `net.core.busy_read` (0)
   * - Privilege: older kernels ask `CAP_NET_ADMIN` to raise it; Linux 6.18 asked none · DgramUDP: `enotsup`
   */
  busy_poll?: number;
  /**
   * The CPU whose queue this socket's datagrams are steered to, or that last handled one
   * (`SO_INCOMING_CPU`): with `reuseport`, the kernel prefers the socket whose CPU matches.
   * - Values: -1 (none) to 2147483647 · Default: -1 · Privilege: none · DgramUDP: `enotsup`
   */
  incoming_cpu?: number;
  /**
   * The receive buffer past `net.core.rmem_max` (`SO_RCVBUFFORCE`); reads back as `recbuf`
   * does, doubled.
   * - Values: 1 to 1073741823 · Privilege: `CAP_NET_ADMIN` (else `eperm`) · DgramUDP: `enotsup`
   */
  rcvbufforce?: number;
  /**
   * The send buffer past `net.core.wmem_max` (`SO_SNDBUFFORCE`); reads back doubled.
   * - Values: 1 to 1073741823 · Privilege: `CAP_NET_ADMIN` (else `eperm`) · DgramUDP: `enotsup`
   */
  sndbufforce?: number;
  /**
   * IPv6 sockets: report the hop limit of received datagrams (`IPV6_RECVHOPLIMIT`) in
   * `ancillary.hoplimit`.
   * - Values: boolean · Default: `false` · Privilege: none · DgramUDP: `enotsup`
   */
  recvhoplimit?: boolean;
  /**
   * IPv6 sockets: the hop limit of outgoing unicast packets (`IPV6_UNICAST_HOPS`); -1 sets the
   * route's default back. Per datagram: `SendAncillary.hoplimit`.
   * - Values: -1 to 255 · Default: the route's (`net.ipv6.conf.*.hop_limit`, 64) · Privilege: none
   * - DgramUDP: 1 to 255 (`setTTL`)
   */
  unicast_hops?: number;
  /**
   * IPv6 sockets: the hop limit of outgoing multicast (`IPV6_MULTICAST_HOPS`), the same
   * setting as `multicast_ttl` there; -1 sets the default (1) back.
   * - Values: -1 to 255 · Default: 1 · Privilege: none · DgramUDP: 0 to 255
   */
  multicast_hops?: number;
}

/**
 * A name for `getopts`: an option's name, or `{ raw: { level, option, length } }` to read a
 * kernel option as bytes.
 *
 * @example
 * const names: OptionName[] = ['recbuf', 'ttl', { raw: { level: 1, option: 7, length: 4 } }];
 */
export type OptionName = keyof SocketOptions | {
  /** The kernel option to read (see {@link RawOptionGet}). */
  raw: RawOptionGet;
};

/**
 * `listen`/`open`'s options: where and how to bind, and every socket option, applied before
 * `bind` (so `freebind`, `ipv6_v6only`, `bind_to_device` and the reuse flags take effect).
 * `reuseaddr` and `reuseport` default to `true` on IP sockets, as in Abyss (see
 * {@link SocketOptions}).
 *
 * @example
 * UDP.listen(5353, { ip: 'any', family: 'inet6', ipv6_v6only: false });
 * UDP.listen(0, { ip: { local: '/run/app.sock' } });
 */
export interface ListenOptions extends SocketOptions {
  /**
   * The address to bind: `'any'` (the default: every address of the family), `'loopback'` (or
   * `'localhost'`), an IP literal of the family (an IPv6 one makes the socket IPv6), or
   * `{ local: path }` for a unix datagram socket (port must then be 0). A host name is
   * `badarg`; an address this host does not have is `eaddrnotavail` (see `freebind`).
   */
  ip?: 'loopback' | 'any' | string | {
    /** The unix socket's path; a leading NUL names the abstract namespace. */
    local: string;
  };
  /**
   * `'inet'` (the default), `'inet6'`, or `'local'` (a unix datagram socket; without `ip` it is
   * unnamed). An IPv6 `ip` implies `'inet6'`, a `{ local }` one `'local'`.
   */
  family?: 'inet' | 'inet6' | 'local';
  /**
   * Adopt an open datagram socket descriptor (from a parent process, systemd) instead of making
   * one: it is not bound again, and closing the Socket closes it. Not a datagram socket:
   * `einval`; a descriptor a Socket of this package already has: `badarg`. DgramUDP takes it
   * through node:dgram (not descriptor 0).
   */
  fd?: number;
  /**
   * A network namespace's path (`/var/run/netns/blue`): the socket is made there (`setns`);
   * needs `CAP_SYS_ADMIN` (else `eperm`). DgramUDP: `enotsup`.
   */
  netns?: string;
  /** inet's socket backend choice: accepted and ignored (there is one backend). */
  inet_backend?: 'inet' | 'socket';
}

/**
 * What the kernel knows of the socket (`getstat().kernel`): `SO_MEMINFO`, `SIOCINQ`, `SIOCOUTQ`.
 * On DgramUDP, as far as node:dgram lets one ask: `rx_queue` is the bytes waiting in its own
 * queue, `rmem_alloc`, `wmem_alloc` and `drops` come from `/proc/net/udp`, and `fwd_alloc`,
 * `wmem_queued`, `optmem` and `backlog` are 0.
 *
 * @example
 * const { drops, rmem_alloc, rcvbuf } = UDP.getstat(socket).kernel;
 * if (rmem_alloc > rcvbuf / 2) console.warn(`receive buffer half full, ${drops} dropped so far`);
 */
export interface KernelStats {
  /**
   * `SIOCINQ`: for a UDP socket Linux gives the payload size of the next datagram waiting in
   * the kernel (0 when none), not the whole queue's; `rmem_alloc` is the memory the whole
   * queue takes. Datagrams this package has already read are not counted.
   */
  rx_queue: number;
  /** Bytes the kernel has not sent yet (`SIOCOUTQ`). */
  tx_queue: number;
  /** Datagrams the kernel dropped on this socket so far, mostly because its receive buffer was full (`SK_MEMINFO_DROPS`). */
  drops: number;
  /** Bytes of receive buffer in use (`SK_MEMINFO_RMEM_ALLOC`), against `rcvbuf`. */
  rmem_alloc: number;
  /** The receive buffer's size (`SK_MEMINFO_RCVBUF`, as `recbuf` reads). */
  rcvbuf: number;
  /** Bytes of send buffer in use (`SK_MEMINFO_WMEM_ALLOC`), against `sndbuf`. */
  wmem_alloc: number;
  /** The send buffer's size (`SK_MEMINFO_SNDBUF`, as `sndbuf` reads). */
  sndbuf: number;
  /** Memory reserved ahead for the socket (`SK_MEMINFO_FWD_ALLOC`). */
  fwd_alloc: number;
  /** Bytes queued for sending (`SK_MEMINFO_WMEM_QUEUED`). */
  wmem_queued: number;
  /** Option memory in use, such as multicast memberships (`SK_MEMINFO_OPTMEM`). */
  optmem: number;
  /** Bytes in the socket's backlog while it was locked (`SK_MEMINFO_BACKLOG`). */
  backlog: number;
}

/**
 * `getstat`'s answer: inet's counters of what this package handed out and sent on the socket
 * (`inet:getstat/1`'s names and meaning; every thread that owned the socket counts into the
 * same counters), and under `kernel` what the kernel knows.
 *
 * @example
 * const { recv_cnt, kernel: { drops } } = UDP.getstat(socket);
 */
export interface SocketStats {
  /** Bytes received (handed out by `recv`, `recvBatch`, `recvInto` or `'udp'`). */
  recv_oct: number;
  /** Datagrams received. */
  recv_cnt: number;
  /** The largest datagram received, in bytes. */
  recv_max: number;
  /** The average size of received datagrams, in bytes. */
  recv_avg: number;
  /** The average deviation of received datagrams' sizes from `recv_avg`, in bytes. */
  recv_dvi: number;
  /** Bytes sent. */
  send_oct: number;
  /** Datagrams sent (a GSO send counts once). */
  send_cnt: number;
  /** The largest datagram sent, in bytes. */
  send_max: number;
  /** The average size of sent datagrams, in bytes. */
  send_avg: number;
  /** Bytes of sends waiting for room in the kernel's send buffer. */
  send_pend: number;
  /** What the kernel knows of the socket. */
  kernel: KernelStats;
}

/**
 * One datagram of `sendBatch`.
 *
 * @example
 * await UDP.sendBatch(socket, [
 *   { address: '127.0.0.1', port: 5300, data: 'one' },
 *   { address: '127.0.0.1', port: 5301, data: ['two', Buffer.from([0])], ancillary: { ttl: 2 } },
 * ]);
 */
export interface BatchMessage {
  /** An IP literal, a host name, or `{ local: path }`; absent on a connected socket (to its peer). */
  address?: string | LocalSocketInfo;
  /** The destination port (IP destinations). */
  port?: number;
  /** The datagram's bytes. */
  data: IOData;
  /** This datagram's ancillary data (the native `UDP` only). */
  ancillary?: SendAncillary;
}

/**
 * `send(socket, destination, data)`'s destination: what `sockname` returned, or `{ address, port }`.
 *
 * @example
 * await UDP.send(client, UDP.sockname(server), 'hello');
 */
export type Destination = IpSocketInfo | LocalSocketInfo | {
  /** An IP literal or a host name. */
  address: string;
  /** The destination port. */
  port: number;
};

/**
 * getopts' answer: exactly the options asked for, none optional.
 *
 * @example
 * const got: OptionsOf<'recbuf' | 'ttl'> = UDP.getopts(socket, ['recbuf', 'ttl']); // { recbuf: number; ttl: number }
 */
export type OptionsOf<N extends OptionName> = { [K in Extract<N, keyof SocketOptions>]-?: Exclude<SocketOptions[K], undefined> } &
  ([Extract<N, Exclude<OptionName, keyof SocketOptions>>] extends [never] ? unknown : RawOptionsRead);

/**
 * The part of getopts' answer for `{ raw: … }` names.
 *
 * @example
 * const { raw } = UDP.getopts(socket, [{ raw: { level: 1, option: 12, length: 4 } }]);
 */
export interface RawOptionsRead {
  /** The raw options read, in the order asked (one object when one was asked). */
  raw: RawOptionValue | RawOptionValue[];
}

/**
 * A raw option as getopts reads it back.
 *
 * @example
 * const { value } = UDP.getopts(socket, [{ raw: { level: 1, option: 12, length: 4 } }]).raw as RawOptionValue;
 * value.readInt32LE(0);
 */
export interface RawOptionValue {
  /** The protocol level asked for. */
  level: number;
  /** The option number asked for. */
  option: number;
  /** The bytes the kernel gave (at most the length asked). */
  value: Buffer;
}

/**
 * What the contract knows of a socket: an opaque handle, one class for listener and client
 * sockets. `Transport`'s sockets satisfy it.
 *
 * @example
 * function describe(socket: SocketHandle): string {
 *   return socket.closed ? 'closed' : `fd ${socket.fd}`;
 * }
 */
export interface SocketHandle {
  /** The kernel descriptor; -1 once closed (or where the transport cannot see it). */
  readonly fd: number;
  /** Whether the socket is closed. */
  readonly closed: boolean;
}

/**
 * The Abyss.Transport behaviour, as `UDP` and `DgramUDP` implement it: code written against
 * this interface runs on either. Each call is documented in full on the native `UDP`
 * (`abyss-transport/native`), where it is implemented; `DgramUDP` says what differs there.
 * Calls that can wait return promises that reject with a {@link TransportError}; the others
 * throw one.
 *
 * @example
 * import { UDP, type Transport, type Socket } from 'abyss-transport';
 *
 * async function echoOnce(transport: Transport<Socket>, socket: Socket): Promise<void> {
 *   const { address, port, data } = await transport.recv(socket, 0, 'infinity');
 *   await transport.send(socket, address as string, port, data);
 * }
 * await echoOnce(UDP, UDP.listen(5300));
 */
export interface Transport<S extends SocketHandle = SocketHandle> {
  /**
   * Opens a socket bound to `port` (0: a free one) with `options`, applied before `bind`.
   * Throws `badarg`, `eaddrinuse`, `eaddrnotavail`, `eacces`, `eperm`, …
   *
   * @example
   * const socket = transport.listen(5300, { ip: 'any' });
   */
  listen(port: number, options?: ListenOptions): S;
  /**
   * `listen` under the name client code uses. Throws as `listen` does.
   *
   * @example
   * const client = transport.open(0);
   */
  open(port: number, options?: ListenOptions): S;
  /**
   * Fixes the socket's peer: `send(socket, data)` goes there, `peername` names it, ICMP errors
   * come back. Throws `badarg` (a host name), `eafnosupport`, `closed`, `not_owner`, the
   * kernel's reason.
   *
   * @example
   * transport.connect(socket, '192.0.2.1', 53);
   */
  connect(socket: S, address: string | LocalSocketInfo, port: number): void;
  /**
   * Hands the socket to another thread (a `Worker`, or the `threadId` of one that has loaded
   * the package), which adopts it. Throws `badarg`, `not_owner`, `closed`; `enotsup` where
   * the transport cannot move sockets.
   *
   * @example
   * transport.controllingProcess(socket, worker);
   */
  controllingProcess(socket: S, owner: Worker | number): void;
  /**
   * The next datagram, whole with `numBytes` 0, else at most `numBytes` bytes of it. Rejects
   * `timeout`, `closed`, `not_owner`, `einval` (active socket), `aborted`, `badarg`, or the
   * kernel's reason.
   *
   * @example
   * const { address, port, data } = await transport.recv(socket, 0, 5000);
   */
  recv(socket: S, numBytes: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData>;
  /**
   * Sends one datagram to the connected peer. Rejects `edestaddrreq` when unconnected,
   * `closed`, `not_owner`, `badarg`, or the kernel's reason.
   *
   * @example
   * await transport.send(socket, 'ping');
   */
  send(socket: S, data: IOData): Promise<void>;
  /**
   * Sends one datagram to `dest`: what `sockname` returned, or `{ address, port }`.
   *
   * @example
   * await transport.send(socket, { address: '127.0.0.1', port: 5300 }, 'ping');
   */
  send(socket: S, dest: Destination, data: IOData): Promise<void>;
  /**
   * Sends one datagram to `address` (an IP literal, a host name, or `{ local }`) and `port`.
   *
   * @example
   * await transport.send(socket, '127.0.0.1', 5300, ['pi', 'ng']);
   */
  send(socket: S, address: string | LocalSocketInfo, port: number, data: IOData): Promise<void>;
  /**
   * Sends one datagram with this datagram's ancillary data (`ttl`, `tos`, `pktinfo`, …);
   * `enotsup` where the transport cannot send it.
   *
   * @example
   * await transport.send(socket, '127.0.0.1', 5300, { ttl: 1 }, 'ping');
   */
  send(socket: S, address: string | LocalSocketInfo, port: number, ancillary: SendAncillary, data: IOData): Promise<void>;
  /**
   * Exactly the options asked for. Throws `badarg`, `einval`, `closed`.
   *
   * @example
   * const { recbuf } = transport.getopts(socket, ['recbuf']);
   */
  getopts(socket: S, names: OptionName[]): Partial<SocketOptions>;
  /**
   * Sets options, all or nothing. Throws `badarg` (saying what the option expects), `einval`,
   * the kernel's reason, `closed`, `not_owner`; `enotsup` for what the transport cannot set.
   *
   * @example
   * transport.setopts(socket, { ttl: 8 });
   */
  setopts(socket: S, options: SocketOptions): void;
  /**
   * Closes the socket (idempotent): pending calls reject `closed`. Throws `not_owner`.
   *
   * @example
   * transport.close(socket);
   */
  close(socket: S): void;
  /**
   * The socket's own address. Throws `closed`.
   *
   * @example
   * const info = transport.sockname(socket);
   */
  sockname(socket: S): SocketInfo;
  /**
   * The connected peer's address. Throws `enotconn`, `closed`.
   *
   * @example
   * const peer = transport.peername(socket);
   */
  peername(socket: S): SocketInfo;
  /**
   * inet's counters and the kernel's, or only the named ones. Throws `badarg`, `closed`.
   *
   * @example
   * const { recv_cnt } = transport.getstat(socket, ['recv_cnt']);
   */
  getstat(socket: S, names?: (keyof SocketStats)[]): Partial<SocketStats>;
  /**
   * The protocol a secure transport negotiated; plain UDP always throws
   * `protocol_not_negotiated` (`closed` once closed).
   *
   * @example
   * transport.negotiatedProtocol(socket); // throws protocol_not_negotiated
   */
  negotiatedProtocol(socket: S): string;
  /**
   * The next datagram and every other already queued, at most `max`. Rejects as `recv` does.
   *
   * @example
   * const batch = await transport.recvBatch(socket, 64, 'infinity');
   */
  recvBatch(socket: S, max: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData[]>;
  /**
   * The next datagrams into `arena`'s reused memory (see {@link RecvArena}); resolves with how
   * many. Rejects as `recv` does.
   *
   * @example
   * const count = await transport.recvInto(socket, arena, 'infinity');
   */
  recvInto(socket: S, arena: RecvArena, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<number>;
  /**
   * Sends the messages in order; resolves with how many went out (all, unless it rejects). A
   * bad message is `badarg` before any goes out.
   *
   * @example
   * await transport.sendBatch(socket, [{ address: '127.0.0.1', port: 5300, data: 'a' }]);
   */
  sendBatch(socket: S, messages: BatchMessage[]): Promise<number>;
  /**
   * One entry of the socket's error queue (the `recverr` option), or `undefined` when it is
   * empty; it does not wait. `enotsup` where the transport cannot read it (node:dgram).
   *
   * @example
   * const entry = transport.recvErrorQueue(socket);
   */
  recvErrorQueue(socket: S): ErrorQueueEntry | undefined;
}
