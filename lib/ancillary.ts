import { C, shared } from './binding';
import { badarg } from './errors';
import { show } from './options';

const { sendRecords } = shared;
// Read once: the constants object is large enough that V8 keeps it as a dictionary.
const STRIDE = C.SEND_STRIDE;
const PRESENT = C.SEND_PRESENT;
const VALUES = C.SEND_VALUES;
const PKTINFO = C.SEND_PKTINFO;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Each key's number on the native side: its bit in the record, and where its value goes. */
const SEND_KEYS = new Map<string, number>([
  ['tos', C.SEND_TOS], ['ttl', C.SEND_TTL], ['tclass', C.SEND_TCLASS], ['hoplimit', C.SEND_HOPLIMIT],
  ['segmentSize', C.SEND_SEGMENT_SIZE], ['pktinfo', PKTINFO],
]);

/** The record after the MAX_BATCH that sends read: scratch for checking. */
const CHECK_RECORD = C.MAX_BATCH;

/**
 * Checks a send's ancillary object and writes it into send record `index`, which the next
 * native send or sendBatch reads; pktinfo the native side reads from the object and checks.
 * A for-in walks an object literal's keys from V8's cache, where N-API would build an array.
 */
export function writeAncillary(ancillary: object, index: number, operation: string): void {
  const base = index * STRIDE;
  let present = 0;
  for (const key in ancillary) {
    const value = (ancillary as Record<string, unknown>)[key];
    if (value === undefined || !Object.hasOwn(ancillary, key)) continue;
    const which = SEND_KEYS.get(key);
    if (which === undefined) throw badarg(operation, `unknown ancillary key '${key}'`);
    present |= 1 << which;
    if (which === PKTINFO) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
      throw badarg(operation, `ancillary '${key}' must be an integer, got ${show(value)}`);
    }
    sendRecords[base + VALUES + which] = value;
  }
  sendRecords[base + PRESENT] = present;
}

/**
 * Checks a send's ancillary object without touching the records a send reads: a getter may
 * start a batch while another send is between writing its records and reading them.
 */
export function checkAncillary(ancillary: object, operation: string): void {
  writeAncillary(ancillary, CHECK_RECORD, operation);
}
