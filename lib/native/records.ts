/**
 * What the addon read, as the contract's shapes: receive records → RecvData, the error-queue
 * record → ErrorQueueEntry (native/protocol.h), and inet's receive counters.
 * @internal
 * @packageDocumentation
 */
import type { RecvArena } from '../contract/arena';
import { countReceived } from '../contract/counters';
import { errnoReason } from '../errors';
import type { AncillaryData, ErrorQueueEntry, ExtendedError, RecvData } from '../types';
import { shared } from './binding';
import {
  ERROR_ADDRESS, ERROR_CODE, ERROR_ERRNO, ERROR_FLAGS, ERROR_INFO, ERROR_OFFENDER, ERROR_OFFENDER_PORT, ERROR_ORIGIN,
  ERROR_PORT, ERROR_PRESENT, ERROR_TYPE, FLAG_CTRUNCATED, FLAG_LOCAL, FLAG_TRUNCATED, FLAG_UNNAMED, HAS_DROPPED,
  HAS_HOPLIMIT, HAS_ORIG_DST, HAS_PKTINFO, HAS_SEGMENT_SIZE, HAS_TCLASS, HAS_TIMESTAMP, HAS_TOS, HAS_TTL, META_ADDRESS,
  META_COUNT, META_DROPPED, META_FLAGS, META_HOPLIMIT, META_LENGTH, META_OFFSET, META_ORIG_DST, META_ORIG_DST_PORT,
  META_PKT_ADDRESS, META_PKT_IFINDEX, META_PKT_SPEC_DST, META_PORT, META_PRESENT, META_SEGMENT_SIZE, META_STRIDE,
  META_TCLASS, META_TIME_NSEC, META_TIME_SEC_HIGH, META_TIME_SEC_LOW, META_TOS, META_TTL,
} from './protocol';

const { meta, addresses } = shared;
const NS_PER_SECOND = 1_000_000_000n;

function addressAt(slot: number): string {
  return slot >= 0 ? addresses[slot] : '';
}

function senderOf(flags: number, slot: number): RecvData['address'] {
  if (flags & FLAG_UNNAMED) return 'unspec';
  return flags & FLAG_LOCAL ? { local: addressAt(slot) } : addresses[slot];
}

/**
 * Marks a socket on which a receive-side ancillary option is on (see `receiving`); above the
 * HAS_* bits it travels with.
 */
const RECEIVING = 1 << 30;

/**
 * What the receive-side ancillary options that are on (`options`, by name) make readRecords
 * and readInto report: 0 when none is on, and datagrams carry no `ancillary`; otherwise
 * RECEIVING, with HAS_DROPPED when `rxq_ovfl` is on. The kernel attaches SO_RXQ_OVFL's count
 * only once it is not 0, so until its first drop `dropped` reads 0 instead of being absent.
 */
export function receiving(options: ReadonlySet<string>): number {
  if (options.size === 0) return 0;
  return options.has('rxq_ovfl') ? RECEIVING | HAS_DROPPED : RECEIVING;
}

/**
 * A record's ancillary data, with what `receiving` says every datagram reports;
 * `withSegmentSize` false leaves out what a GRO split consumed.
 */
function ancillaryAt(base: number, flags: number, receiving: number, withSegmentSize = true): AncillaryData {
  const present = meta[base + META_PRESENT];
  const ancillary: AncillaryData = {};
  if (present & HAS_TOS) ancillary.tos = meta[base + META_TOS];
  if (present & HAS_TTL) ancillary.ttl = meta[base + META_TTL];
  if (present & HAS_TCLASS) ancillary.tclass = meta[base + META_TCLASS];
  if (present & HAS_HOPLIMIT) ancillary.hoplimit = meta[base + META_HOPLIMIT];
  if (present & HAS_PKTINFO) {
    const specDst = meta[base + META_PKT_SPEC_DST];
    ancillary.pktinfo = {
      address: addressAt(meta[base + META_PKT_ADDRESS]),
      ...(specDst >= 0 ? { specDst: addressAt(specDst) } : {}),
      ifindex: meta[base + META_PKT_IFINDEX],
    };
  }
  if (present & HAS_ORIG_DST) {
    ancillary.origdstaddr = { address: addressAt(meta[base + META_ORIG_DST]), port: meta[base + META_ORIG_DST_PORT] };
  }
  if (present & HAS_TIMESTAMP) {
    const seconds = (BigInt(meta[base + META_TIME_SEC_HIGH] >>> 0) << 32n) | BigInt(meta[base + META_TIME_SEC_LOW] >>> 0);
    ancillary.timestamp = seconds * NS_PER_SECOND + BigInt(meta[base + META_TIME_NSEC]);
  }
  if (present & HAS_DROPPED) ancillary.dropped = meta[base + META_DROPPED] >>> 0;
  // A cut control buffer may have lost the count: absent then, not 0.
  else if (receiving & HAS_DROPPED && !(flags & FLAG_CTRUNCATED)) ancillary.dropped = 0;
  if (present & HAS_SEGMENT_SIZE && withSegmentSize) ancillary.segmentSize = meta[base + META_SEGMENT_SIZE];
  if (flags & FLAG_CTRUNCATED) ancillary.ctruncated = true;
  return ancillary;
}

/**
 * Turns the records of the last native recv into RecvData, stored in `out` from index `at`;
 * returns the index after the last. `receiving`: the socket's `receiving` value; not 0, every
 * datagram carries `ancillary`.
 */
export function readRecords(bytes: Buffer, receiving: number, out: (RecvData | undefined)[], at: number): number {
  const count = meta[META_COUNT];
  for (let i = 0; i < count; i++) {
    const base = i * META_STRIDE;
    const offset = meta[base + META_OFFSET];
    const flags = meta[base + META_FLAGS];
    const record: RecvData = {
      address: senderOf(flags, meta[base + META_ADDRESS]),
      port: meta[base + META_PORT],
      data: bytes.subarray(offset, offset + meta[base + META_LENGTH]),
    };
    if (receiving || meta[base + META_PRESENT] !== 0 || flags & FLAG_CTRUNCATED) record.ancillary = ancillaryAt(base, flags, receiving);
    if (flags & FLAG_TRUNCATED) record.truncated = true;
    out[at++] = record;
  }
  return at;
}

/**
 * Puts the `count` records of the last native recvInto into `arena` (their bytes are already in
 * its slots), a GRO message as its segments, and counts them as inet counts what it hands out.
 */
export function readInto(arena: RecvArena, count: number, receiving: number, counters: Float64Array): void {
  for (let i = 0; i < count; i++) {
    const base = i * META_STRIDE;
    const flags = meta[base + META_FLAGS];
    const present = meta[base + META_PRESENT];
    const length = meta[base + META_LENGTH];
    const ancillary = receiving || present !== 0 || flags & FLAG_CTRUNCATED ? ancillaryAt(base, flags, receiving, false) : undefined;
    const segmentSize = present & HAS_SEGMENT_SIZE ? meta[base + META_SEGMENT_SIZE] : 0;
    arena.addMessage(i, length, senderOf(flags, meta[base + META_ADDRESS]), meta[base + META_PORT], (flags & FLAG_TRUNCATED) !== 0,
      ancillary, segmentSize);
    countReceived(counters, length);
  }
}

/** SO_EE_ORIGIN_* names. */
const ORIGINS = ['none', 'local', 'icmp', 'icmp6', 'txstatus', 'zerocopy', 'txtime'];

/** The error-queue entry the last native recvError wrote, with the bytes it returned. */
export function readErrorEntry(bytes: Buffer): ErrorQueueEntry {
  const flags = meta[ERROR_FLAGS];
  const slot = meta[ERROR_ADDRESS];
  const entry = {
    address: flags & FLAG_LOCAL ? { local: addressAt(slot) } : slot >= 0 ? addresses[slot] : 'unspec',
    port: meta[ERROR_PORT],
    data: bytes,
  } as ErrorQueueEntry;
  if (meta[ERROR_PRESENT]) {
    const errno = meta[ERROR_ERRNO];
    const error: ExtendedError = {
      origin: ORIGINS[meta[ERROR_ORIGIN]] ?? 'unknown',
      reason: errnoReason(errno),
      errno,
      type: meta[ERROR_TYPE],
      code: meta[ERROR_CODE],
      info: meta[ERROR_INFO] >>> 0,
    };
    const offender = meta[ERROR_OFFENDER];
    if (offender >= 0) error.offender = { address: addresses[offender], port: meta[ERROR_OFFENDER_PORT] };
    entry.ancillary = { error };
  }
  if (flags & FLAG_TRUNCATED) entry.truncated = true;
  return entry;
}

/** The first `limit` bytes of a datagram, marked truncated when that cut it. */
export function cut(record: RecvData, limit: number): RecvData {
  if (limit <= 0 || record.data.length <= limit) return record;
  return { ...record, data: record.data.subarray(0, limit), truncated: true };
}

/**
 * The datagrams a GRO receive coalesced (`ancillary.segmentSize`), as the sender sent them:
 * views of the same bytes, each `segmentSize` long but the last. Others come back alone.
 */
export function splitSegments(datagram: RecvData): RecvData[] {
  const size = datagram.ancillary?.segmentSize;
  if (!size || datagram.data.length <= size) return [datagram];
  const { segmentSize: _segmentSize, ...ancillary } = datagram.ancillary!;
  const parts: RecvData[] = [];
  for (let offset = 0; offset < datagram.data.length; offset += size) {
    parts.push({ ...datagram, data: datagram.data.subarray(offset, offset + size), ancillary: { ...ancillary } });
  }
  return parts;
}
