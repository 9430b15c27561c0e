/**
 * The TypeScript copy of the boundary native/protocol.h describes: the layout of the memory
 * shared with the addon and the codes its calls return. binding.ts checks, once at load,
 * that every constant here equals the one the addon was built with.
 * @internal
 * @packageDocumentation
 */

export const MAX_BATCH = 64;

/** One received datagram's record in `meta` (protocol.h MetaField). */
export const META_OFFSET = 0;
export const META_LENGTH = 1;
export const META_FLAGS = 2;
export const META_PORT = 3;
export const META_ADDRESS = 4;
export const META_PRESENT = 5;
export const META_TOS = 6;
export const META_TTL = 7;
export const META_TCLASS = 8;
export const META_HOPLIMIT = 9;
export const META_PKT_IFINDEX = 10;
export const META_PKT_ADDRESS = 11;
export const META_PKT_SPEC_DST = 12;
export const META_ORIG_DST = 13;
export const META_ORIG_DST_PORT = 14;
export const META_TIME_SEC_HIGH = 15;
export const META_TIME_SEC_LOW = 16;
export const META_TIME_NSEC = 17;
export const META_DROPPED = 18;
export const META_SEGMENT_SIZE = 19;
export const META_STRIDE = 20;
export const META_COUNT = MAX_BATCH * META_STRIDE;

/** MetaFlag bits. */
export const FLAG_TRUNCATED = 1;
export const FLAG_CTRUNCATED = 2;
export const FLAG_LOCAL = 4;
export const FLAG_UNNAMED = 8;

/** The error-queue entry over record 0 (protocol.h ErrorField). */
export const ERROR_LENGTH = 0;
export const ERROR_FLAGS = 1;
export const ERROR_PORT = 2;
export const ERROR_ADDRESS = 3;
export const ERROR_PRESENT = 4;
export const ERROR_ERRNO = 5;
export const ERROR_ORIGIN = 6;
export const ERROR_TYPE = 7;
export const ERROR_CODE = 8;
export const ERROR_INFO = 9;
export const ERROR_OFFENDER = 10;
export const ERROR_OFFENDER_PORT = 11;

/** One message's record in `sendRecords` (protocol.h SendRecordField). */
export const RECORD_PRESENT = 0;
export const RECORD_TOS = 1;
export const RECORD_TTL = 2;
export const RECORD_TCLASS = 3;
export const RECORD_HOPLIMIT = 4;
export const RECORD_SEGMENT_SIZE = 5;
export const RECORD_IFINDEX = 6;
export const RECORD_PIECES = 7;
export const RECORD_PORT = 8;
export const RECORD_STRIDE = 9;
/** MAX_BATCH records the sends read, and one the facade checks ancillary data into. */
export const SEND_RECORDS = MAX_BATCH + 1;

/** The status record (protocol.h StatusField). */
export const STATUS_TURN = 0;
export const STATUS_SYSCALL = 1;
export const STATUS_ERRNO = 2;
export const STATUS_ENTRY = 3;
export const STATUS_LENGTH = 4;

/** The kernel statistics `stats` reads (protocol.h KernelStat), in KernelStats' order. */
export const STAT_RX_QUEUE = 0;
export const STAT_TX_QUEUE = 1;
export const STAT_DROPS = 2;
export const STAT_RMEM_ALLOC = 3;
export const STAT_RCVBUF = 4;
export const STAT_WMEM_ALLOC = 5;
export const STAT_SNDBUF = 6;
export const STAT_FWD_ALLOC = 7;
export const STAT_WMEM_QUEUED = 8;
export const STAT_OPTMEM = 9;
export const STAT_BACKLOG = 10;
export const STAT_COUNT = 11;

/** What `adopt(id)` answers (protocol.h AdoptResult). */
export const ADOPTED = 0;
export const ADOPT_UNKNOWN = 1;
export const ADOPT_CLOSED = 2;
export const ADOPT_NOT_HERE = 3;
export const ADOPT_TAKEN = 4;

/** A socket handle's watch cells (protocol.h WatchCell). */
export const WATCH_EVENTS = 0;
export const WATCH_BUSY = 1;
export const WATCH_DISPATCHING = 2;
export const WATCH_CELLS = 3;

/** ReceivedField bits (cmsg.h): which ancillary fields a record holds. */
export const HAS_TOS = 1 << 0;
export const HAS_TTL = 1 << 1;
export const HAS_TCLASS = 1 << 2;
export const HAS_HOPLIMIT = 1 << 3;
export const HAS_PKTINFO = 1 << 4;
export const HAS_ORIG_DST = 1 << 5;
export const HAS_TIMESTAMP = 1 << 6;
export const HAS_DROPPED = 1 << 7;
export const HAS_SEGMENT_SIZE = 1 << 8;

/** SendField bits (cmsg.h): which ancillary values a send record holds. */
export const SEND_TOS = 1 << 0;
export const SEND_TTL = 1 << 1;
export const SEND_TCLASS = 1 << 2;
export const SEND_HOPLIMIT = 1 << 3;
export const SEND_PKTINFO_ADDRESS = 1 << 4;
export const SEND_PKTINFO_IFINDEX = 1 << 5;
export const SEND_SEGMENT_SIZE = 1 << 6;


/** libuv's readiness events, as `watch` takes them. */
export const READABLE = 1;
export const WRITABLE = 2;

/** How an option's value is shaped (options.h ValueKind). */
export const KIND_BOOL = 0;
export const KIND_INT = 1;
export const KIND_INTERFACE_NAME = 2;
export const KIND_MTU_DISCOVER = 3;
export const KIND_MULTICAST_IF = 4;
export const KIND_MEMBERSHIP = 5;
export const KIND_SOURCE_MEMBERSHIP = 6;
