// Conversions between JavaScript values and the native structures: option values,
// send-side ancillary data, gathered iodata, and received metadata records.
#pragma once
#include <napi.h>
#include <sys/uio.h>

#include <string>
#include <vector>

#include "cmsg.h"
#include "options.h"

namespace abyss {

// A value as an error message shows it: short, never throwing, whatever the value is.
std::string Show(Napi::Value value, int depth = 0);

struct EncodedOption {
  std::string name;
  std::string shown;        // the value as the error message names it
  const OptionRow* row = nullptr;  // null for raw
  OptionSite site;          // where setsockopt writes
  OptionSite read_site;     // where the old value is read back for an undo
  std::vector<uint8_t> bytes;
  OptionInput input;        // kept to encode the inverse of a set-only row
};

// Checks and encodes one `name: value` of setopts (or listen: `operation`); throws badarg or einval.
EncodedOption EncodeOptionValue(Napi::Env env, int family, const std::string& name, Napi::Value value,
                                const std::string& operation);

// The JS value of getsockopt's bytes for `row`.
Napi::Value OptionValueToJs(Napi::Env env, const OptionRow& row, int family, const uint8_t* data, size_t size);

// A Uint8Array's bytes as one iovec; false for anything else.
bool AsBytes(Napi::Env env, Napi::Value value, iovec* out);

// iodata as iovecs, in two steps, so that no JavaScript runs between taking a buffer's address
// and the system call that reads it: a getter could detach a buffer already gathered.
// CollectPieces walks the arrays, running any getters, and appends the leaves to `pieces`;
// GatherPieces makes them iovecs. Strings are encoded into `text`; their iovecs are fixed by
// ResolveText once no more text will be appended.
struct GatheredData {
  std::vector<iovec> iov;
  std::vector<std::pair<size_t, size_t>> text_pieces;  // (iov index, offset in text)
  size_t bytes = 0;
};
struct Piece {
  napi_value value;
  bool bytes;  // a Uint8Array; else a string
};
void CollectPieces(Napi::Env env, Napi::Value data, std::vector<Piece>* pieces);
void GatherPieces(Napi::Env env, const Piece* pieces, size_t count, GatheredData* out, std::vector<char>* text,
                  bool keep_text = false);
void ResolveText(GatheredData* data, std::vector<char>& text);

// The keys a send's ancillary object may have.
enum SendKey { kKeyTos, kKeyTtl, kKeyTclass, kKeyHoplimit, kKeySegmentSize, kKeyPktinfo };

// Layout of one message's record in the send Int32Array, which the facade fills with the
// message's ancillary data right before the call that sends it: N-API would spend a property
// lookup per key. The bits say which SendKeys it has; the integer keys' values follow in SendKey
// order. pktinfo, rarely sent, is read from the object itself.
enum SendRecordField : int { kSendRecordPresent, kSendRecordValues, kSendRecordStride = kSendRecordValues + kKeyPktinfo };

// Encodes a send's ancillary data (its record, and `ancillary` for pktinfo) into `control`
// (kMaxSendControl bytes); returns its length.
size_t EncodeSendAncillary(Napi::Env env, const int32_t* record, Napi::Object ancillary, int family, uint8_t* control);

// Fills the ancillary fields of a metadata record (see environment.h).
void WriteAncillaryRecord(Napi::Env env, const ReceivedAncillary& ancillary, int32_t* record);

// { address, port, data, ancillary: { error }, truncated? } for one error-queue message:
// the destination and the start of the datagram that caused the error.
Napi::Value ErrorQueueEntry(Napi::Env env, const ReceivedAncillary& ancillary, const sockaddr* destination,
                            socklen_t destination_length, const uint8_t* data, size_t length, bool truncated);

}  // namespace abyss
