/**
 * The calls waiting for a socket's datagrams, for both transports: served in call order, one
 * datagram (or batch) each, each with its deadline and its AbortSignal. A timed-out or aborted
 * call leaves the line without taking anything a later one should get.
 * @internal
 * @packageDocumentation
 */
// Imported, not the global: Node defines globalThis.performance as an accessor, a getter call
// on every read (this one is read by each recv that waits with a finite timeout).
import { performance } from 'node:perf_hooks';
import { TransportError } from '../errors';
import type { RecvData } from '../types';
import type { RecvArena } from './arena';

/** setTimeout's limit: a longer wait is re-armed in steps of it. */
const MAX_TIMER = 2 ** 31 - 1;

export interface Waiter {
  /** What the waiting call returned. */
  promise: Promise<RecvData | RecvData[] | number>;
  /** 0: whole datagrams; n: at most n bytes of one. */
  numBytes: number;
  /** 0 for recv; the most datagrams for recvBatch. */
  batch: number;
  /** recvInto's arena; it resolves with the datagrams it put there. */
  into?: RecvArena;
  resolve(value: RecvData | RecvData[] | number): void;
  reject(error: TransportError): void;
  /** performance.now() by which it times out; Infinity: never. */
  deadline: number;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** Stops whatever else would end the wait (a transport's own poll). */
  cancel?: () => void;
}

export function timeoutError(operation: string): TransportError {
  return new TransportError('timeout', `${operation}: nothing arrived in time`);
}

export function abortedError(operation: string, signal: AbortSignal): TransportError {
  const error = new TransportError('aborted', `${operation}: aborted`);
  (error as Error).cause = signal.reason;
  return error;
}

const operationOf = (waiter: Waiter): string => (waiter.into ? 'recvInto' : waiter.batch ? 'recvBatch' : 'recv');

// A waiting recv makes a promise per datagram: one shared executor, which hands out its
// resolving functions here, spares a closure and its context for each.
let capturedResolve: Waiter['resolve'] | undefined;
let capturedReject: Waiter['reject'] | undefined;
function capture(resolve: Waiter['resolve'], reject: Waiter['reject']): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

export class WaitLine {
  #waiters: Waiter[] = [];
  #timer?: NodeJS.Timeout;
  /** The deadline #timer was armed for. */
  #timerDue = Infinity;
  readonly #changed: () => void;

  /** `changed`: the line grew or shrank (the transport watches, or lets go, accordingly). */
  constructor(changed: () => void) {
    this.#changed = changed;
  }

  get length(): number {
    return this.#waiters.length;
  }

  get first(): Waiter | undefined {
    return this.#waiters[0];
  }

  /** A call that waits its turn: it times out after `timeout` ms (Infinity: never), or on `signal`. */
  wait(numBytes: number, batch: number, timeout: number, signal?: AbortSignal, cancel?: () => void, into?: RecvArena): Waiter {
    const promise = new Promise(capture);
    const waiter: Waiter = {
      promise, numBytes, batch, into, resolve: capturedResolve!, reject: capturedReject!,
      deadline: timeout === Infinity ? Infinity : performance.now() + timeout, cancel,
    };
    // Held by the waiter alone: kept here, they would keep the last promise, and the datagram
    // it settled with, alive until the next wait anywhere in the thread.
    capturedResolve = undefined;
    capturedReject = undefined;
    if (timeout !== Infinity) this.#armBy(waiter.deadline);
    if (signal) {
      waiter.signal = signal;
      waiter.onAbort = () => this.withdraw(waiter, abortedError(operationOf(waiter), signal));
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    this.#waiters.push(waiter);
    this.#changed();
    return waiter;
  }

  /** Takes the first waiter out of the line, to be resolved or rejected. */
  shift(): Waiter {
    const waiter = settle(this.#waiters.shift()!);
    this.#changed();
    return waiter;
  }

  /** Takes a waiter out of the line without a datagram. */
  withdraw(waiter: Waiter, error: TransportError): void {
    const index = this.#waiters.indexOf(waiter);
    if (index < 0) return;
    this.#waiters.splice(index, 1);
    this.#changed();
    settle(waiter).reject(error);
  }

  /** Ends every wait with `error` (close, hand-over, active mode). */
  rejectAll(error: () => TransportError): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of this.#waiters.splice(0)) settle(waiter).reject(error());
    this.#changed();
  }

  /**
   * Makes the line's one deadline timer fire by `deadline`. A loop of recv(…, 1000) adds later
   * and later deadlines, so it arms a timer once, not once per call. The timer is unref'd:
   * the socket keeps the loop alive while anything waits.
   */
  #armBy(deadline: number): void {
    if (this.#timer !== undefined && this.#timerDue <= deadline) return;
    clearTimeout(this.#timer);
    this.#timerDue = deadline;
    this.#timer = setTimeout(() => this.#expire(), Math.min(Math.max(0, Math.ceil(deadline - performance.now())), MAX_TIMER));
    this.#timer.unref();
  }

  /** The deadline timer fired: waiters past their deadline time out; it re-arms for the next. */
  #expire(): void {
    this.#timer = undefined;
    // Timers may fire up to a millisecond early by performance.now(): that counts as due.
    const now = performance.now() + 1;
    let next = Infinity;
    for (const waiter of this.#waiters.slice()) {
      if (waiter.deadline <= now) this.withdraw(waiter, timeoutError(operationOf(waiter)));
      else if (waiter.deadline < next) next = waiter.deadline;
    }
    if (next !== Infinity) this.#armBy(next);
  }
}

/** Stops a waiter's abort listener and poll; returns it to be resolved or rejected. */
function settle(waiter: Waiter): Waiter {
  if (waiter.onAbort) waiter.signal!.removeEventListener('abort', waiter.onAbort);
  waiter.cancel?.();
  return waiter;
}
