import { checkAncillary, type AncillaryInteger } from '../contract/ancillary';
import { badarg, show } from '../errors';
import type { SocketFamily } from '../types';
import { binding } from './binding';
import {
  RECORD_HOPLIMIT, RECORD_IFINDEX, RECORD_PRESENT, RECORD_SEGMENT_SIZE, RECORD_TCLASS, RECORD_TOS, RECORD_TTL,
  SEND_HOPLIMIT, SEND_PKTINFO_ADDRESS, SEND_PKTINFO_IFINDEX, SEND_SEGMENT_SIZE, SEND_TCLASS, SEND_TOS, SEND_TTL,
} from './protocol';

/** Where each integer key of a send's ancillary data goes in a send record. */
const INTEGER_FIELDS: Record<AncillaryInteger, { bit: number; field: number }> = {
  tos: { bit: SEND_TOS, field: RECORD_TOS },
  ttl: { bit: SEND_TTL, field: RECORD_TTL },
  tclass: { bit: SEND_TCLASS, field: RECORD_TCLASS },
  hoplimit: { bit: SEND_HOPLIMIT, field: RECORD_HOPLIMIT },
  segmentSize: { bit: SEND_SEGMENT_SIZE, field: RECORD_SEGMENT_SIZE },
};

/**
 * Checks a send's ancillary object for a socket of `family` (lib/contract/ancillary.ts) and
 * writes it into `records` at `base` (a send record, protocol.ts RECORD_*); returns pktinfo's
 * source address, which travels as a string.
 */
export function encodeAncillary(ancillary: Record<string, unknown>, family: SocketFamily, records: Int32Array, base: number,
  operation: string): string | undefined {
  const { integers, pktinfo } = checkAncillary(ancillary, family, operation);
  let present = 0;
  for (const [key, value] of integers) {
    present |= INTEGER_FIELDS[key].bit;
    records[base + INTEGER_FIELDS[key].field] = value;
  }
  let pktinfoAddress: string | undefined;
  if (pktinfo !== undefined) {
    records[base + RECORD_IFINDEX] = interfaceIndexOf(pktinfo.ifindex, operation);
    pktinfoAddress = pktinfo.specDst ?? pktinfo.address;
    present |= (pktinfoAddress !== undefined ? SEND_PKTINFO_ADDRESS : 0) | SEND_PKTINFO_IFINDEX;
  }
  records[base + RECORD_PRESENT] = present;
  return pktinfoAddress;
}

/** pktinfo's interface as an index: a name the kernel knows is looked up; 0 (any) when absent. */
function interfaceIndexOf(ifindex: number | string | undefined, operation: string): number {
  if (typeof ifindex !== 'string') return ifindex ?? 0;
  const index = binding.interfaceIndex(ifindex);
  if (index === 0) throw badarg(operation, `ancillary pktinfo.ifindex names no interface: ${show(ifindex)}`);
  return index;
}
