import { C, shared } from './binding';
import type { AncillaryData, RecvData } from './types';

const { meta, addresses } = shared;
// Read once: the constants object is large enough that V8 keeps it as a dictionary.
const STRIDE = C.META_STRIDE;
const COUNT = C.META_COUNT;
const OFFSET = C.META_OFFSET;
const LENGTH = C.META_LENGTH;
const FLAGS = C.META_FLAGS;
const PORT = C.META_PORT;
const ADDRESS = C.META_ADDRESS;
const PRESENT = C.META_PRESENT;
const FLAG_LOCAL = C.FLAG_LOCAL;
const FLAG_TRUNCATED = C.FLAG_TRUNCATED;
const FLAG_CTRUNCATED = C.FLAG_CTRUNCATED;
const NS_PER_SECOND = 1_000_000_000n;

function addressAt(slot: number): string {
  return slot >= 0 ? addresses[slot] : '';
}

function ancillaryAt(base: number, flags: number): AncillaryData {
  const present = meta[base + C.META_PRESENT];
  const ancillary: AncillaryData = {};
  if (present & C.HAS_TOS) ancillary.tos = meta[base + C.META_TOS];
  if (present & C.HAS_TTL) ancillary.ttl = meta[base + C.META_TTL];
  if (present & C.HAS_TCLASS) ancillary.tclass = meta[base + C.META_TCLASS];
  if (present & C.HAS_HOPLIMIT) ancillary.hoplimit = meta[base + C.META_HOPLIMIT];
  if (present & C.HAS_PKTINFO) {
    const specDst = meta[base + C.META_PKT_SPEC_DST];
    ancillary.pktinfo = {
      address: addressAt(meta[base + C.META_PKT_ADDRESS]),
      ...(specDst >= 0 ? { specDst: addressAt(specDst) } : {}),
      ifindex: meta[base + C.META_PKT_IFINDEX],
    };
  }
  if (present & C.HAS_ORIG_DST) {
    ancillary.origdstaddr = { address: addressAt(meta[base + C.META_ORIG_DST]), port: meta[base + C.META_ORIG_DST_PORT] };
  }
  if (present & C.HAS_TIMESTAMP) {
    const seconds = (BigInt(meta[base + C.META_TIME_SEC_HIGH] >>> 0) << 32n) | BigInt(meta[base + C.META_TIME_SEC_LOW] >>> 0);
    ancillary.timestamp = seconds * NS_PER_SECOND + BigInt(meta[base + C.META_TIME_NSEC]);
  }
  if (present & C.HAS_DROPPED) ancillary.dropped = meta[base + C.META_DROPPED] >>> 0;
  if (present & C.HAS_SEGMENT_SIZE) ancillary.segmentSize = meta[base + C.META_SEGMENT_SIZE];
  if (flags & C.FLAG_CTRUNCATED) ancillary.ctruncated = true;
  return ancillary;
}

/**
 * Turns the records of the last native recv into RecvData, appending them to `out`.
 * `withAncillary`: a receive-side option is on, so every datagram carries `ancillary`.
 */
export function readRecords(bytes: Buffer, withAncillary: boolean, out: RecvData[]): void {
  const count = meta[COUNT];
  for (let i = 0; i < count; i++) {
    const base = i * STRIDE;
    const offset = meta[base + OFFSET];
    const flags = meta[base + FLAGS];
    const slot = meta[base + ADDRESS];
    const record: RecvData = {
      address: flags & FLAG_LOCAL ? { local: addressAt(slot) } : addresses[slot],
      port: meta[base + PORT],
      data: bytes.subarray(offset, offset + meta[base + LENGTH]),
    };
    if (withAncillary || meta[base + PRESENT] !== 0 || flags & FLAG_CTRUNCATED) record.ancillary = ancillaryAt(base, flags);
    if (flags & FLAG_TRUNCATED) record.truncated = true;
    out.push(record);
  }
}

const RECV_OCT = C.RECV_OCT;
const RECV_CNT = C.RECV_CNT;
const RECV_MAX = C.RECV_MAX;
const RECV_AVG = C.RECV_AVG;
const RECV_DVI = C.RECV_DVI;

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
