// The boundary between the native side and the TypeScript layer, in one place.
//
// Native functions take plain data only (numbers, strings, typed arrays, and arrays of those
// that the TypeScript layer made itself) and report a failure as data: a negative errno as
// the return value, with the failing system call in the status record. No user object is
// read here and no JavaScript runs inside a native call, so nothing a call reads can change
// while it runs. lib/protocol.ts mirrors every constant below, with the same names.
//
// Besides return values, four typed arrays per JavaScript environment (thread) carry data
// across, made by `init` and shared by every copy of the TypeScript layer in that thread:
//
//  - meta (Int32Array, kMaxBatch receive records and a count): what the last `recv` read.
//    Valid until the next native call on this thread that receives; the facade turns the
//    records into RecvData before anything else can run. `recvError` writes its one entry
//    in the layout of ErrorField, over record 0.
//  - addresses (Array of strings, AddressCache::kSlots): sender addresses by slot, so that
//    an address string is made once, not per datagram. A slot named by a record holds its
//    string until the next receive.
//  - sendRecords (Int32Array, kMaxBatch + 1 send records): the facade writes message i's
//    ancillary data, piece count and port into record i right before the `send` or
//    `sendBatch` that sends it; record kMaxBatch is scratch the facade validates into.
//  - status (Int32Array, StatusField): the loop turn counter, and what the last failure was.
//  - kernelStats (Float64Array, KernelStat): what `stats` read from the kernel.
//
// And one per socket handle: `watchCells` (Int32Array, WatchCell), what the facade wants
// watched. The facade writes it and calls `watch()`, except while the native side is
// dispatching readiness to it: the state it leaves then (a recv served and the next one
// already waiting, say) is applied once the callback and its microtasks have run, so that a
// loop of calls costs no native call per datagram.
#pragma once
#include <cstdint>

namespace abyss {

// The most datagrams one recvmmsg or sendmmsg handles.
constexpr int kMaxBatch = 64;

// One received datagram's record in `meta`.
enum MetaField : int {
  kMetaOffset,       // where its bytes start in the returned Buffer
  kMetaLength,       // bytes kept
  kMetaFlags,        // MetaFlag bits
  kMetaPort,
  kMetaAddress,      // slot in `addresses`; -1 when the sender has no name
  kMetaPresent,      // ReceivedField bits (cmsg.h) of the fields below
  kMetaTos,
  kMetaTtl,
  kMetaTclass,
  kMetaHoplimit,
  kMetaPktIfindex,
  kMetaPktAddress,   // slot
  kMetaPktSpecDst,   // slot, -1 when absent (IPv6)
  kMetaOrigDst,      // slot
  kMetaOrigDstPort,
  kMetaTimeSecHigh,
  kMetaTimeSecLow,
  kMetaTimeNsec,
  kMetaDropped,
  kMetaSegmentSize,
  kMetaStride,
};
// meta[kMetaCount]: how many records the last recv wrote.
constexpr int kMetaCount = kMaxBatch * kMetaStride;
constexpr int kMetaLengthTotal = kMetaCount + 1;

enum MetaFlag : int {
  kFlagTruncated = 1,   // MSG_TRUNC: the datagram was longer than what was kept
  kFlagCtruncated = 2,  // MSG_CTRUNC, or a malformed control message
  kFlagLocal = 4,       // the sender is a unix address
  kFlagUnnamed = 8,     // the sender has no address (an unbound unix socket)
};

// The error-queue entry `recvError` writes over record 0 of `meta`.
enum ErrorField : int {
  kErrorLength,        // bytes of the failed datagram kept
  kErrorFlags,         // MetaFlag bits
  kErrorPort,          // the failed datagram's destination
  kErrorAddress,       // slot, -1 when absent
  kErrorPresent,       // 1: the fields below hold an extended error
  kErrorErrno,
  kErrorOrigin,
  kErrorType,
  kErrorCode,
  kErrorInfo,
  kErrorOffenderAddress,  // slot, -1 when the kernel named none
  kErrorOffenderPort,
  kErrorStride,
};

// One message's record in `sendRecords`.
enum SendRecordField : int {
  kRecordPresent,      // SendField bits (cmsg.h): which ancillary values below are set
  kRecordTos,
  kRecordTtl,
  kRecordTclass,
  kRecordHoplimit,
  kRecordSegmentSize,
  kRecordIfindex,      // pktinfo's interface; its address travels as a string argument
  kRecordPieces,       // sendBatch: how many entries of the pieces array are this message's data
  kRecordPort,         // sendBatch: the destination's port
  kRecordStride,
};
constexpr int kSendRecords = kMaxBatch + 1;

enum StatusField : int {
  kStatusTurn,       // counts turns of this thread's event loop (a check handle bumps it)
  kStatusSyscall,    // Syscall of the last failure
  kStatusErrno,      // errno of the last failure, where the return value cannot carry it
  kStatusEntry,      // setopts: the index of the entry that failed
  kStatusLength,
};

// The system calls whose failures are reported; kSyscallNames spells them.
enum Syscall : int {
  kSyscallSocket, kSyscallOpen, kSyscallSetns, kSyscallIoctl, kSyscallFcntl, kSyscallGetsockopt,
  kSyscallSetsockopt, kSyscallBind, kSyscallConnect, kSyscallGetsockname, kSyscallGetpeername,
  kSyscallRecvmsg, kSyscallSendmsg, kSyscallEpollCtl, kSyscallCount,
};
extern const char* const kSyscallNames[kSyscallCount];

enum KernelStat : int {
  kStatRxQueue, kStatTxQueue, kStatDrops, kStatRmemAlloc, kStatRcvbuf, kStatWmemAlloc, kStatSndbuf,
  kStatFwdAlloc, kStatWmemQueued, kStatOptmem, kStatBacklog, kStatCount,
};

// A socket handle's watch cells.
enum WatchCell : int {
  kWatchEvents,       // kReadable | kWritable (loop.h): what the facade waits for (0: nothing)
  kWatchBusy,         // 1: a call, active mode or a send waits: hold the socket, keep the loop alive
  kWatchDispatching,  // 1 while the native side is calling the facade's readiness callback
  kWatchCells,
};

// What `adopt(id)` answers.
enum AdoptResult : int { kAdopted, kAdoptUnknown, kAdoptClosed, kAdoptNotHere, kAdoptTaken };

// Every constant above by the name lib/protocol.ts gives it, so that the addon can export
// them and the facade can check, once at load, that its copy is the one this addon was
// built with. (The ReceivedField and SendField bits of cmsg.h and the Counter indexes of
// socket.h are in addon.cc's list, beside these.)
#define ABYSS_PROTOCOL_CONSTANTS(X)                                                                   \
  X(MAX_BATCH, kMaxBatch)                                                                             \
  X(META_OFFSET, kMetaOffset) X(META_LENGTH, kMetaLength) X(META_FLAGS, kMetaFlags)                   \
  X(META_PORT, kMetaPort) X(META_ADDRESS, kMetaAddress) X(META_PRESENT, kMetaPresent)                 \
  X(META_TOS, kMetaTos) X(META_TTL, kMetaTtl) X(META_TCLASS, kMetaTclass)                             \
  X(META_HOPLIMIT, kMetaHoplimit) X(META_PKT_IFINDEX, kMetaPktIfindex)                                \
  X(META_PKT_ADDRESS, kMetaPktAddress) X(META_PKT_SPEC_DST, kMetaPktSpecDst)                          \
  X(META_ORIG_DST, kMetaOrigDst) X(META_ORIG_DST_PORT, kMetaOrigDstPort)                              \
  X(META_TIME_SEC_HIGH, kMetaTimeSecHigh) X(META_TIME_SEC_LOW, kMetaTimeSecLow)                       \
  X(META_TIME_NSEC, kMetaTimeNsec) X(META_DROPPED, kMetaDropped) X(META_SEGMENT_SIZE, kMetaSegmentSize) \
  X(META_STRIDE, kMetaStride) X(META_COUNT, kMetaCount)                                               \
  X(FLAG_TRUNCATED, kFlagTruncated) X(FLAG_CTRUNCATED, kFlagCtruncated) X(FLAG_LOCAL, kFlagLocal)     \
  X(FLAG_UNNAMED, kFlagUnnamed)                                                                       \
  X(ERROR_LENGTH, kErrorLength) X(ERROR_FLAGS, kErrorFlags) X(ERROR_PORT, kErrorPort)                 \
  X(ERROR_ADDRESS, kErrorAddress) X(ERROR_PRESENT, kErrorPresent) X(ERROR_ERRNO, kErrorErrno)         \
  X(ERROR_ORIGIN, kErrorOrigin) X(ERROR_TYPE, kErrorType) X(ERROR_CODE, kErrorCode)                   \
  X(ERROR_INFO, kErrorInfo) X(ERROR_OFFENDER, kErrorOffenderAddress) X(ERROR_OFFENDER_PORT, kErrorOffenderPort) \
  X(RECORD_PRESENT, kRecordPresent) X(RECORD_TOS, kRecordTos) X(RECORD_TTL, kRecordTtl)               \
  X(RECORD_TCLASS, kRecordTclass) X(RECORD_HOPLIMIT, kRecordHoplimit)                                 \
  X(RECORD_SEGMENT_SIZE, kRecordSegmentSize) X(RECORD_IFINDEX, kRecordIfindex)                        \
  X(RECORD_PIECES, kRecordPieces) X(RECORD_PORT, kRecordPort) X(RECORD_STRIDE, kRecordStride)         \
  X(SEND_RECORDS, kSendRecords)                                                                       \
  X(STATUS_TURN, kStatusTurn) X(STATUS_SYSCALL, kStatusSyscall) X(STATUS_ERRNO, kStatusErrno)         \
  X(STATUS_ENTRY, kStatusEntry) X(STATUS_LENGTH, kStatusLength)                                       \
  X(STAT_RX_QUEUE, kStatRxQueue) X(STAT_TX_QUEUE, kStatTxQueue) X(STAT_DROPS, kStatDrops)             \
  X(STAT_RMEM_ALLOC, kStatRmemAlloc) X(STAT_RCVBUF, kStatRcvbuf) X(STAT_WMEM_ALLOC, kStatWmemAlloc)   \
  X(STAT_SNDBUF, kStatSndbuf) X(STAT_FWD_ALLOC, kStatFwdAlloc) X(STAT_WMEM_QUEUED, kStatWmemQueued)   \
  X(STAT_OPTMEM, kStatOptmem) X(STAT_BACKLOG, kStatBacklog) X(STAT_COUNT, kStatCount)                 \
  X(ADOPTED, kAdopted) X(ADOPT_UNKNOWN, kAdoptUnknown) X(ADOPT_CLOSED, kAdoptClosed)                  \
  X(ADOPT_NOT_HERE, kAdoptNotHere) X(ADOPT_TAKEN, kAdoptTaken)                                      \
  X(WATCH_EVENTS, kWatchEvents) X(WATCH_BUSY, kWatchBusy) X(WATCH_DISPATCHING, kWatchDispatching)    \
  X(WATCH_CELLS, kWatchCells)

}  // namespace abyss
