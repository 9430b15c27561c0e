/**
 * inet's getstat counters, kept the same way by both transports: in a Float64Array, which for
 * the native transport is shared with the addon (it counts sends, the facade counts what recv
 * hands out) and survives a hand-over to another thread.
 * @internal
 * @packageDocumentation
 */
import { badarg, show } from '../errors';
import type { KernelStats, SocketStats } from '../types';

export const RECV_OCT = 0;
export const RECV_CNT = 1;
export const RECV_MAX = 2;
export const RECV_AVG = 3;
export const RECV_DVI = 4;
export const SEND_OCT = 5;
export const SEND_CNT = 6;
export const SEND_MAX = 7;
export const SEND_AVG = 8;
export const COUNTER_COUNT = 9;

/** Counts a datagram recv hands out, as inet_drv does: running mean and mean deviation. */
export function countReceived(counters: Float64Array, length: number): void {
  const count = counters[RECV_CNT] + 1;
  const avg = counters[RECV_AVG] + (length - counters[RECV_AVG]) / count;
  counters[RECV_AVG] = avg;
  counters[RECV_DVI] += (length - avg - counters[RECV_DVI]) / count;
  if (length > counters[RECV_MAX]) counters[RECV_MAX] = length;
  counters[RECV_OCT] += length;
  counters[RECV_CNT] = count;
}

/** Counts a datagram that went out (the native transport counts its sends in the addon). */
export function countSent(counters: Float64Array, length: number): void {
  const count = counters[SEND_CNT] + 1;
  counters[SEND_AVG] += (length - counters[SEND_AVG]) / count;
  if (length > counters[SEND_MAX]) counters[SEND_MAX] = length;
  counters[SEND_OCT] += length;
  counters[SEND_CNT] = count;
}

/** getstat's answer: inet reports the running mean and mean deviation truncated to integers. */
export function statistics(counters: Float64Array, sendPending: number, kernel: KernelStats): SocketStats {
  return {
    recv_oct: counters[RECV_OCT],
    recv_cnt: counters[RECV_CNT],
    recv_max: counters[RECV_MAX],
    recv_avg: Math.trunc(counters[RECV_AVG]),
    recv_dvi: Math.trunc(Math.abs(counters[RECV_DVI])),
    send_oct: counters[SEND_OCT],
    send_cnt: counters[SEND_CNT],
    send_max: counters[SEND_MAX],
    send_avg: Math.trunc(counters[SEND_AVG]),
    send_pend: sendPending,
    kernel,
  };
}

const STAT_NAMES = new Set<string>(['recv_oct', 'recv_cnt', 'recv_max', 'recv_avg', 'recv_dvi', 'send_oct', 'send_cnt', 'send_max', 'send_avg', 'send_pend', 'kernel']);

/** getstat's optional list of counter names, as inet:getstat/2 takes it. */
export function selectStats(stats: SocketStats, names: unknown): Partial<SocketStats> {
  if (names === undefined) return stats;
  if (!Array.isArray(names)) throw badarg('getstat', `names must be an array of counter names, got ${show(names)}`);
  const selected: Record<string, unknown> = {};
  for (let i = 0, count = names.length; i < count; i++) {
    const name: unknown = names[i];
    if (typeof name !== 'string' || !STAT_NAMES.has(name)) throw badarg('getstat', `not a counter name: ${show(name)}`);
    selected[name] = stats[name as keyof SocketStats];
  }
  return selected as Partial<SocketStats>;
}
