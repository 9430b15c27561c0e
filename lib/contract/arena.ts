/**
 * Memory a receive fills and the caller reuses (`recvInto`), for either transport.
 * @packageDocumentation
 */
import { badarg, show } from '../errors';
import type { AncillaryData, RecvData } from '../types';
import { isInt, isPlainObject } from './arguments';

/** The most slots one receive fills: the transports read at most this many datagrams per system call. */
export const MAX_ARENA_SLOTS = 64;
/** The largest slot: a whole UDP datagram, or a GRO batch. */
export const MAX_SLOT_SIZE = 65536;

/** The fields of one datagram's record in `RecvArena#records`. */
const OFFSET = 0;
const LENGTH = 1;
const PORT = 2;
const TRUNCATED = 3;
/** Which slot's message it is (a GRO message's segments share one). */
const MESSAGE = 4;
const STRIDE = 5;

/**
 * Where `UDP.recvInto` puts datagrams: one Buffer of `slots` slots of `slotSize` bytes, filled
 * by the kernel itself (the native transport reads straight into it), and the records of the
 * last receive, all reused by the next one. A receiver that keeps one arena allocates nothing
 * per datagram: it reads `data` between `offset(i)` and `offset(i) + length(i)`, and the
 * sender's `address(i)` and `port(i)`. With `gro` on, a coalesced message is split into its
 * segments, each a datagram of its own here.
 *
 * What it holds is valid until the next receive into it: copy what must outlive that.
 *
 * @example
 * const arena = new RecvArena({ slots: 64 });
 * for (;;) {
 *   const count = await UDP.recvInto(socket, arena, 'infinity');
 *   for (let i = 0; i < count; i++) handle(arena.data, arena.offset(i), arena.length(i));
 * }
 */
export class RecvArena {
  /** The bytes, `slots × slotSize`; datagram i is `data[offset(i), offset(i) + length(i))`. */
  readonly data: Buffer;
  /** How many datagrams (messages, before GRO splits them) one receive reads at most. */
  readonly slots: number;
  /** The most bytes of one datagram (or GRO message) kept; a longer one is cut and `truncated(i)`. */
  readonly slotSize: number;
  #count = 0;
  #records: Int32Array;
  #addresses: RecvData['address'][];
  #ancillary: (AncillaryData | undefined)[];

  /**
   * `slots` (1 to 64, default 64) datagrams of at most `slotSize` bytes (1 to 65536, default
   * 65536: any UDP datagram or GRO message whole). The memory is allocated here, once. Throws
   * `badarg` for other values.
   *
   * @example
   * const arena = new RecvArena({ slots: 32, slotSize: 1500 }); // 48000 bytes, reused by every recvInto
   */
  constructor(options: { slots?: number; slotSize?: number } = {}) {
    if (!isPlainObject(options)) throw badarg('RecvArena', 'options must be an object: { slots?, slotSize? }');
    const { slots = MAX_ARENA_SLOTS, slotSize = MAX_SLOT_SIZE } = options;
    if (!isInt(slots, 1, MAX_ARENA_SLOTS)) throw badarg('RecvArena', `slots must be an integer from 1 to ${MAX_ARENA_SLOTS}`);
    if (!isInt(slotSize, 1, MAX_SLOT_SIZE)) throw badarg('RecvArena', `slotSize must be an integer from 1 to ${MAX_SLOT_SIZE}`);
    this.slots = slots as number;
    this.slotSize = slotSize as number;
    this.data = Buffer.alloc(this.slots * this.slotSize);
    this.#records = new Int32Array(this.slots * STRIDE);
    this.#addresses = new Array<RecvData['address']>(this.slots).fill('');
    this.#ancillary = new Array<AncillaryData | undefined>(this.slots).fill(undefined);
  }

  /**
   * How many datagrams the last receive put here (what `recvInto` resolved with).
   *
   * @example
   * for (let i = 0; i < arena.count; i++) handle(arena.datagram(i));
   */
  get count(): number {
    return this.#count;
  }

  /**
   * Where datagram `i` (0 to `count` - 1) starts in `data`; another `i` throws a `RangeError`.
   *
   * @example
   * const bytes = arena.data.subarray(arena.offset(i), arena.offset(i) + arena.length(i));
   */
  offset(i: number): number {
    return this.#records[this.#at(i) + OFFSET];
  }

  /**
   * How many bytes of datagram `i` are in `data` (at most `slotSize`); a `RangeError` for
   * another `i`.
   *
   * @example
   * total += arena.length(i);
   */
  length(i: number): number {
    return this.#records[this.#at(i) + LENGTH];
  }

  /**
   * Datagram `i`'s sender, as `RecvData.address` gives it; a `RangeError` for another `i`.
   *
   * @example
   * await UDP.send(socket, arena.address(i) as string, arena.port(i), reply);
   */
  address(i: number): RecvData['address'] {
    return this.#addresses[this.#records[this.#at(i) + MESSAGE]];
  }

  /**
   * Datagram `i`'s sender's port (0 on a unix socket); a `RangeError` for another `i`.
   *
   * @example
   * const port = arena.port(i);
   */
  port(i: number): number {
    return this.#records[this.#at(i) + PORT];
  }

  /**
   * Whether datagram `i` was longer than a slot, and cut; a `RangeError` for another `i`.
   *
   * @example
   * if (arena.truncated(i)) console.warn('datagram longer than', arena.slotSize);
   */
  truncated(i: number): boolean {
    return this.#records[this.#at(i) + TRUNCATED] !== 0;
  }

  /**
   * Datagram `i`'s ancillary data, when it has any (as `RecvData.ancillary`, less
   * `segmentSize`: GRO messages are already split); a `RangeError` for another `i`.
   *
   * @example
   * const ttl = arena.ancillary(i)?.ttl;
   */
  ancillary(i: number): AncillaryData | undefined {
    return this.#ancillary[this.#records[this.#at(i) + MESSAGE]];
  }

  /**
   * Datagram `i` as a `RecvData` whose `data` is a view of this arena, valid until the next
   * receive (it allocates: for convenience, not for the hot path); a `RangeError` for another
   * `i`.
   *
   * @example
   * const { address, port, data } = arena.datagram(0);
   */
  datagram(i: number): RecvData {
    const record: RecvData = { address: this.address(i), port: this.port(i), data: this.data.subarray(this.offset(i), this.offset(i) + this.length(i)) };
    const ancillary = this.ancillary(i);
    if (ancillary !== undefined) record.ancillary = { ...ancillary };
    if (this.truncated(i)) record.truncated = true;
    return record;
  }

  #at(i: number): number {
    if (!(Number.isInteger(i) && i >= 0 && i < this.#count)) throw new RangeError(`RecvArena: no datagram ${i} (it holds ${this.#count})`);
    return i * STRIDE;
  }

  /** @internal Starts a receive: the previous one's records are forgotten. */
  begin(): void {
    this.#count = 0;
  }

  /**
   * @internal Records message `slot`, whose `length` bytes the kernel wrote at the start of
   * its slot: one datagram, or with `segmentSize` the segments a GRO receive coalesced.
   */
  addMessage(slot: number, length: number, address: RecvData['address'], port: number, truncated: boolean,
    ancillary: AncillaryData | undefined, segmentSize: number): void {
    this.#addresses[slot] = address;
    this.#ancillary[slot] = ancillary;
    const start = slot * this.slotSize;
    if (segmentSize <= 0 || length <= segmentSize) {
      this.#push(start, length, port, truncated, slot);
      return;
    }
    for (let offset = 0; offset < length; offset += segmentSize) {
      // Only the last segment can have been cut by the slot's end.
      const last = offset + segmentSize >= length;
      this.#push(start + offset, Math.min(segmentSize, length - offset), port, last && truncated, slot);
    }
  }

  /** @internal Copies `record` into the next free slot (a datagram read before, or by another transport). */
  addCopy(record: RecvData): void {
    const slot = this.#count === 0 ? 0 : this.#records[(this.#count - 1) * STRIDE + MESSAGE] + 1;
    const length = Math.min(record.data.length, this.slotSize);
    this.data.set(length === record.data.length ? record.data : record.data.subarray(0, length), slot * this.slotSize);
    const { segmentSize = 0, ...rest } = record.ancillary ?? {};
    const ancillary = record.ancillary === undefined ? undefined : rest;
    this.addMessage(slot, length, record.address, record.port, record.truncated === true || length < record.data.length, ancillary, segmentSize);
  }

  /** @internal The slots still free for this receive. */
  get freeSlots(): number {
    return this.#count === 0 ? this.slots : this.slots - 1 - this.#records[(this.#count - 1) * STRIDE + MESSAGE];
  }

  #push(offset: number, length: number, port: number, truncated: boolean, slot: number): void {
    if ((this.#count + 1) * STRIDE > this.#records.length) {
      // GRO messages split into more records than slots: grow once, keep it.
      const grown = new Int32Array(this.#records.length * 2);
      grown.set(this.#records);
      this.#records = grown;
    }
    const at = this.#count * STRIDE;
    this.#records[at + OFFSET] = offset;
    this.#records[at + LENGTH] = length;
    this.#records[at + PORT] = port;
    this.#records[at + TRUNCATED] = truncated ? 1 : 0;
    this.#records[at + MESSAGE] = slot;
    this.#count++;
  }

  /** @internal Whether `value` is an arena this package made (not a look-alike). */
  static is(value: unknown): value is RecvArena {
    return typeof value === 'object' && value !== null && #count in value;
  }
}

/** `arena`, when it is one (recvInto's argument check). */
export function checkArena(arena: unknown, operation: string): RecvArena {
  if (!RecvArena.is(arena)) throw badarg(operation, `not a RecvArena: ${show(arena)}`);
  return arena;
}

/** Copies datagrams another way received into `arena` (DgramUDP's recvInto); how many it holds. */
export function fillArena(arena: RecvArena, records: RecvData[]): number {
  arena.begin();
  for (const record of records) arena.addCopy(record);
  return arena.count;
}
