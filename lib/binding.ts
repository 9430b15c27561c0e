import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { TransportError } from './errors';

/** The native socket: one per kernel socket per thread (see native/socket.h). */
export interface NativeSocket {
  readonly id: number;
  readonly fd: number;
  readonly family: 'inet' | 'inet6' | 'local';
  readonly closed: boolean;
  /** inet's counters, shared with every thread's handle (see native/socket.h). */
  readonly counters: Float64Array;
  /** The facade socket that readiness events are dispatched to. */
  socket?: { onReady(events: number, status: number): void };
  bind(address: string | { local: string }, port: number, operation: string): void;
  connect(address: string | { local: string }, port: number): void;
  sockname(): unknown;
  peername(): unknown;
  setopts(names: string[], values: unknown[], operation: string): void;
  getopt(name: string, level?: number, option?: number, length?: number): unknown;
  recv(max: number): Buffer | undefined;
  recvError(): unknown;
  send(data: unknown, address?: unknown, port?: number, ancillary?: object): number;
  sendBatch(messages: readonly object[], start: number): number;
  watch(events: number): void;
  close(): void;
  stats(): Record<string, unknown>;
  handOver(threadId: number, mayBeLoading: boolean): void;
  reap(threadId: number): void;
}

export interface Binding {
  NativeSocket: new (family: string, fd: number | undefined, netns: string | undefined, adopt: number | undefined,
    errorClass: typeof TransportError) => NativeSocket;
  init(errorClass: typeof TransportError, dispatch: (this: NativeSocket, events: number, status: number) => void,
    threadId: number): { meta: Int32Array; addresses: string[]; sendRecords: Int32Array };
  constants: Record<string, number>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load: (dir: string) => Binding = require('node-gyp-build');

export const binding: Binding = load(path.join(__dirname, '..'));

function dispatch(this: NativeSocket, events: number, status: number): void {
  this.socket?.onReady(events, status);
}

/** The metadata records, the sender address cache and the send records shared with the native side. */
export const shared = binding.init(TransportError, dispatch, threadId);
export const C = binding.constants;
