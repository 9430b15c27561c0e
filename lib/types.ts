import type { Worker } from 'node:worker_threads';
import type { RecvArena } from './contract/arena';

/** An IP literal, a unix datagram path, `'unspec'`, or `{ undefined: term }` (seed `address()`). */
export type Address = string | { local: string } | 'unspec' | { undefined: unknown };

/** A socket's address family: IPv4, IPv6, or a unix datagram socket. */
export type SocketFamily = 'inet' | 'inet6' | 'local';
/** The IP families. */
export type IpFamily = 'inet' | 'inet6';

/** An IP endpoint, as `sockname` and `peername` give it for an IP socket. */
export interface IpSocketInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** A unix datagram socket's path (`''` when unnamed; a leading NUL for an abstract name). */
export interface LocalSocketInfo {
  local: string;
}

/** Seed `socket_info()`: an IP endpoint, a unix path, or `'unspec'`. */
export type SocketInfo = IpSocketInfo | LocalSocketInfo | 'unspec';

/** What `sockname`/`peername` give for a socket of family `F`. */
export type SocketInfoOf<F extends SocketFamily> = F extends 'local' ? LocalSocketInfo : IpSocketInfo;

/** Where a datagram received by a socket of family `F` came from: an IP literal, or a unix path (`'unspec'` when its sender had none). */
export type SenderOf<F extends SocketFamily> = F extends 'local' ? LocalSocketInfo | 'unspec' : string;

/** Milliseconds (≥ 0), `Infinity`, or `'infinity'`. */
export type Timeout = number | 'infinity';

/** Sent as one datagram, gathered by the kernel from the pieces. */
export type IOData = string | Uint8Array | IOData[];

export interface PktInfo {
  /** The datagram's destination address (IP_PKTINFO ipi_addr / IPV6_PKTINFO ipi6_addr). */
  address: string;
  /** IPv4 only: the local address the route resolved to (ipi_spec_dst). */
  specDst?: string;
  ifindex: number;
}

export interface ExtendedError {
  /** `'local' | 'icmp' | 'icmp6' | 'txstatus' | ...` (SO_EE_ORIGIN_*). */
  origin: string;
  /** errno carried by the error, lowercase (`'econnrefused'`, `'emsgsize'`, ...). */
  reason: string;
  errno: number;
  type: number;
  code: number;
  /** ee_info: the path MTU for `emsgsize`. */
  info: number;
  /** The node that sent the ICMP error (SO_EE_OFFENDER), when known. */
  offender?: { address: string; port: number };
}

export interface AncillaryData {
  tos?: number;
  tclass?: number;
  ttl?: number;
  hoplimit?: number;
  pktinfo?: PktInfo;
  origdstaddr?: { address: string; port: number };
  /** SO_TIMESTAMPNS: nanoseconds since the epoch. */
  timestamp?: bigint;
  /** SO_RXQ_OVFL: datagrams the kernel dropped on this socket so far. */
  dropped?: number;
  /** UDP_GRO: `data` holds several segments of this size (the last may be shorter). */
  segmentSize?: number;
  /** An extended error from the error queue (IP_RECVERR / IPV6_RECVERR). */
  error?: ExtendedError;
  /** The kernel cut the control data (MSG_CTRUNC): some ancillary data is missing. */
  ctruncated?: true;
}

export interface SendAncillary {
  tos?: number;
  tclass?: number;
  ttl?: number;
  hoplimit?: number;
  /** The source address and interface (an index, or a name) of this datagram; `specDst` is what recv reports and is taken as the source. */
  pktinfo?: { address?: string; ifindex?: number | string; specDst?: string };
  segmentSize?: number;
}

export interface RecvData<F extends SocketFamily = SocketFamily> {
  /** Sender: IP string, or `{ local: path }` for unix datagram sockets (`'unspec'` for an unnamed one). */
  address: SenderOf<F>;
  /** 0 for unix datagram sockets. */
  port: number;
  data: Buffer;
  /** Present exactly when a receive-side ancillary option is on. */
  ancillary?: AncillaryData;
  /** The datagram was longer than `numBytes`: `data` holds its first `numBytes` bytes. */
  truncated?: true;
}

/**
 * A datagram read from the error queue (MSG_ERRQUEUE): `address`/`port` are the
 * destination of the datagram that failed, `data` its start, `ancillary.error` the error.
 */
export type ErrorQueueEntry = RecvData<IpFamily> & { ancillary: AncillaryData & { error: ExtendedError } };

export type Active = boolean | 'once' | number;

/**
 * The `coalesce` option: hold a socket's readiness back so that one wakeup of the thread
 * serves many datagrams. A hold starts when a datagram arrives at an idle socket and lasts
 * `usecs` microseconds (a microsecond timer, not setTimeout's millisecond); everything that
 * arrived meanwhile is read with it. `packets` ends holds sooner, once about that many
 * datagrams have gathered, judged from the rate the previous hold saw. Each datagram waits
 * up to `usecs` longer; `false` (the default) reports every readiness at once.
 */
export interface Coalesce {
  /** The longest hold, 1 to 1,000,000 microseconds. */
  usecs: number;
  /** End a hold once about this many datagrams have gathered (1 to 65536); absent: only `usecs` ends it. */
  packets?: number;
}

/** A socket's identity for `UDP.adopt` in the thread it was handed to. */
export interface SocketRef {
  abyssSocket: number;
  carry: RecvData[];
  buffer: number;
  readPackets: number;
  /** The active mode the socket was in (true, 'once', the remaining count N, or false). */
  active?: Active;
  /** The socket's `coalesce` option. */
  coalesce?: Coalesce | false;
}

export interface RawOptionSet {
  level: number;
  option: number;
  value: Uint8Array;
}
export interface RawOptionGet {
  level: number;
  option: number;
  length: number;
}

/** Every option the package knows. Values follow inet's shapes. */
export interface SocketOptions {
  active?: Active;
  broadcast?: boolean;
  buffer?: number;
  recbuf?: number;
  sndbuf?: number;
  reuseaddr?: boolean;
  reuseport?: boolean;
  reuseport_lb?: boolean;
  priority?: number;
  tos?: number;
  tclass?: number;
  ttl?: number;
  recvtos?: boolean;
  recvtclass?: boolean;
  recvttl?: boolean;
  dontroute?: boolean;
  /** IPv4: an interface address; IPv6: an interface index or name. */
  multicast_if?: string | number;
  multicast_loop?: boolean;
  /** IP_MULTICAST_ALL / IPV6_MULTICAST_ALL: false delivers only the groups this socket joined. */
  multicast_all?: boolean;
  multicast_ttl?: number;
  /** `[multiaddr, interface]` (IPv4 addresses, or for IPv6 `[multiaddr, interface index or name]`). */
  add_membership?: [string, string | number];
  drop_membership?: [string, string | number];
  /** `[multiaddr, interface, source]`. */
  add_source_membership?: [string, string | number, string];
  drop_source_membership?: [string, string | number, string];
  ipv6_v6only?: boolean;
  bind_to_device?: string;
  read_packets?: number;
  /** Hold readiness back to serve many datagrams per wakeup (see {@link Coalesce}); `false`: off. */
  coalesce?: Coalesce | false;
  mode?: 'binary';
  raw?: RawOptionSet | RawOptionSet[];
  pktinfo?: boolean;
  recvorigdstaddr?: boolean;
  timestamp?: boolean;
  rxq_ovfl?: boolean;
  gro?: boolean;
  segment?: number;
  recverr?: boolean;
  mtu_discover?: 'dont' | 'want' | 'do' | 'probe' | 'interface' | 'omit';
  freebind?: boolean;
  transparent?: boolean;
  mark?: number;
  busy_poll?: number;
  incoming_cpu?: number;
  rcvbufforce?: number;
  sndbufforce?: number;
  recvhoplimit?: boolean;
  unicast_hops?: number;
  multicast_hops?: number;
}

/** A name to read with `getopts`; `raw` takes `{ raw: { level, option, length } }`. */
export type OptionName = keyof SocketOptions | { raw: RawOptionGet };

export interface ListenOptions extends SocketOptions {
  ip?: 'loopback' | 'any' | string | { local: string };
  family?: 'inet' | 'inet6' | 'local';
  fd?: number;
  netns?: string;
  inet_backend?: 'inet' | 'socket';
}

export interface KernelStats {
  /** Bytes queued for reading (SIOCINQ). */
  rx_queue: number;
  /** Bytes not yet sent by the kernel (SIOCOUTQ). */
  tx_queue: number;
  /** Datagrams dropped by the kernel on this socket (SO_MEMINFO SK_MEMINFO_DROPS). */
  drops: number;
  rmem_alloc: number;
  rcvbuf: number;
  wmem_alloc: number;
  sndbuf: number;
  fwd_alloc: number;
  wmem_queued: number;
  optmem: number;
  backlog: number;
}

export interface SocketStats {
  recv_oct: number;
  recv_cnt: number;
  recv_max: number;
  recv_avg: number;
  recv_dvi: number;
  send_oct: number;
  send_cnt: number;
  send_max: number;
  send_avg: number;
  send_pend: number;
  kernel: KernelStats;
}

export interface BatchMessage {
  /** An IP literal or `{ local: path }`; absent on a connected socket. */
  address?: string | LocalSocketInfo;
  /** The destination port (IP destinations). */
  port?: number;
  data: IOData;
  ancillary?: SendAncillary;
}

/** `send(socket, destination, data)`'s destination: what `sockname` returned, or `{ address, port }`. */
export type Destination = IpSocketInfo | LocalSocketInfo | { address: string; port: number };

/** getopts' answer: exactly the options asked for. */
export type OptionsOf<N extends OptionName> = { [K in Extract<N, keyof SocketOptions>]-?: Exclude<SocketOptions[K], undefined> } &
  ([Extract<N, { raw: RawOptionGet }>] extends [never] ? unknown : { raw: RawOptionValue | RawOptionValue[] });

/** A raw option as getopts reads it back. */
export interface RawOptionValue {
  level: number;
  option: number;
  value: Buffer;
}

/** An opaque socket; one class serves for listener and client sockets. */
export interface SocketHandle {
  readonly fd: number;
  readonly closed: boolean;
}

/** The Abyss.Transport behaviour. */
export interface Transport<S extends SocketHandle = SocketHandle> {
  listen(port: number, options?: ListenOptions): S;
  open(port: number, options?: ListenOptions): S;
  connect(socket: S, address: string | LocalSocketInfo, port: number): void;
  controllingProcess(socket: S, owner: Worker | number): void;
  recv(socket: S, numBytes: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData>;
  send(socket: S, data: IOData): Promise<void>;
  send(socket: S, dest: Destination, data: IOData): Promise<void>;
  send(socket: S, address: string | LocalSocketInfo, port: number, data: IOData): Promise<void>;
  send(socket: S, address: string | LocalSocketInfo, port: number, ancillary: SendAncillary, data: IOData): Promise<void>;
  getopts(socket: S, names: OptionName[]): Partial<SocketOptions>;
  setopts(socket: S, options: SocketOptions): void;
  close(socket: S): void;
  sockname(socket: S): SocketInfo;
  peername(socket: S): SocketInfo;
  getstat(socket: S, names?: (keyof SocketStats)[]): Partial<SocketStats>;
  negotiatedProtocol(socket: S): string;
  recvBatch(socket: S, max: number, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<RecvData[]>;
  /** The next datagrams, at most `arena.slots`, into `arena`'s memory; resolves with how many (see RecvArena). */
  recvInto(socket: S, arena: RecvArena, timeout: Timeout, options?: { signal?: AbortSignal }): Promise<number>;
  sendBatch(socket: S, messages: BatchMessage[]): Promise<number>;
}
