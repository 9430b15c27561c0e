/**
 * The addon, and the memory it shares with this thread (native/protocol.h).
 * @internal
 * @packageDocumentation
 */
import { threadId } from 'node:worker_threads';
import type { Piece } from '../contract/iodata';
import * as counters from '../contract/counters';
import { loadAddon } from './load';
import * as protocol from './protocol';

/**
 * A kernel socket's handle in this thread (native/socket.h). Every method takes plain values
 * the facade has checked; a failure comes back as -errno (the system call in `status`).
 */
export interface NativeSocket {
  readonly id: number;
  readonly fd: number;
  /** AF_INET, AF_INET6 or AF_UNIX. */
  readonly family: number;
  readonly closed: boolean;
  /** inet's counters, shared with every thread's handle (protocol.ts RECV_OCT…). */
  readonly counters: Float64Array;
  /** Where readiness goes (the facade socket); set by the facade. */
  socket?: { onReady(events: number, errno: number): void };
  open(domain: number, netns: string | undefined): number;
  openDescriptor(fd: number): number;
  adopt(id: number): number;
  handOver(threadId: number, mayBeLoading: boolean): number;
  reap(threadId: number): void;
  close(): void;
  /**
   * What this thread wants watched (protocol.ts WATCH_EVENTS…): the facade writes the cells,
   * and `watch()` applies them; while the native side is dispatching readiness it applies
   * them itself once the callback returns.
   */
  readonly watchCells: Int32Array;
  watch(): number;
  keepAlive(alive: boolean): void;
  /** The `coalesce` option: hold readability for up to `usecs` (0: off), ending sooner near `packets`. */
  coalesce(usecs: number, packets: number): number;
  bind(address: string, port: number): number;
  connect(address: string, port: number): number;
  /** [address, port] (port -1 for a unix socket), or -errno. */
  name(peer: boolean): [string, number] | number;
  setopts(entries: unknown[], count: number): number;
  getopt(row: number): number | string | undefined;
  getoptRaw(level: number, option: number, length: number): Buffer | number;
  stats(): number;
  /** The datagrams read, described by `meta`; 0: none waiting; -errno. */
  recv(max: number): Buffer | number;
  /** Up to `max` datagrams straight into `memory`'s slots of `slotSize`, described by `meta`; 0: none waiting; -errno. */
  recvInto(memory: Uint8Array, slotSize: number, max: number): number;
  recvError(): Buffer | number;
  send(data: Piece | Piece[], destination: string | undefined, port: number, pktinfoAddress: string | undefined): number;
  sendBatch(pieces: Piece[], firstPiece: number, texts: (string | undefined)[], firstMessage: number, count: number): number;
}

/** One row of the addon's option table (native/options.h). */
export interface OptionRow {
  name: string;
  kind: number;
  /** [level, option] per family; level -1 where the option does not apply. */
  inet: [number, number];
  inet6: [number, number];
  local: [number, number];
  min: number;
  max: number;
  readable: boolean;
  ancillary: boolean;
  inverse: string | null;
}

interface Binding {
  NativeSocket: new () => NativeSocket;
  init(dispatch: (this: NativeSocket, events: number, errno: number) => void, threadId: number,
    awaitTurnEnd: (() => void) | undefined): Shared;
  turnEnded(): void;
  ownsDescriptor(fd: number): boolean;
  interfaceIndex(name: string): number;
  constants: Record<string, number> & { SYSCALLS: string[]; OPTIONS: OptionRow[] };
}

interface Shared {
  meta: Int32Array;
  addresses: string[];
  sendRecords: Int32Array;
  status: Int32Array;
  kernelStats: Float64Array;
}

// inet's counters (socket.h Counter) are the boundary's too, kept in contract/counters.ts for both
// transports. (Not re-exported from protocol.ts: getters there would make its exports object a
// dictionary, and every constant read on the hot paths a lookup.)
const loaded = loadAddon({ ...protocol, ...counters });
export const binding = loaded.addon as Binding;
/** The addon hears readiness through its own thread (native/loop_thread.cc), not libuv. */
export const threadReadiness = loaded.threadReadiness;

function dispatch(this: NativeSocket, events: number, errno: number): void {
  this.socket?.onReady(events, errno);
}

// The addon's readiness thread (native/loop_thread.cc) counts a turn of the loop, and arms
// again the sockets it reported in it, when the facade says the turn ended: a setImmediate,
// which runs once the loop has polled for I/O. It asks after handing sockets over; the facade
// asks after reading one, so that a recv in the next turn may read again.
let turnEndAwaited = false;

function turnEnded(): void {
  turnEndAwaited = false;
  binding.turnEnded();
}

/** Has the readiness thread's turn end once this turn of the loop is over (once per turn). */
export function awaitTurnEnd(): void {
  if (turnEndAwaited) return;
  turnEndAwaited = true;
  setImmediate(turnEnded);
}

/** The memory shared with the addon in this thread (native/protocol.h). */
export const shared = binding.init(dispatch, threadId, loaded.threadReadiness ? awaitTurnEnd : undefined);
export const SYSCALLS = binding.constants.SYSCALLS;
export const OPTION_ROWS = binding.constants.OPTIONS;
export const { AF_INET, AF_INET6, AF_UNIX } = binding.constants;
