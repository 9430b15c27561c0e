// Per-environment (main thread or worker) state: the facade's callbacks, the receive
// arena shared by that environment's sockets, the sender address cache, and teardown.
#pragma once
#include <napi.h>
#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "address.h"
#include "cmsg.h"
#include "values.h"

namespace abyss {

class NativeSocket;

// Layout of one message's record in the metadata Int32Array the facade reads.
enum MetaField : int {
  kMetaOffset,       // where its bytes start in the pool
  kMetaLength,       // bytes copied into the pool
  kMetaFlags,        // MetaFlag bits
  kMetaPort,
  kMetaAddress,      // slot in the address cache, -1 when unnamed
  kMetaPresent,      // ReceivedField bits
  kMetaTos,
  kMetaTtl,
  kMetaTclass,
  kMetaHoplimit,
  kMetaPktIfindex,
  kMetaPktAddress,
  kMetaPktSpecDst,
  kMetaOrigDst,
  kMetaOrigDstPort,
  kMetaTimeSecHigh,
  kMetaTimeSecLow,
  kMetaTimeNsec,
  kMetaDropped,
  kMetaSegmentSize,
  kMetaStride,
};

enum MetaFlag : int {
  kFlagTruncated = 1,  // MSG_TRUNC: the datagram was longer than what was kept
  kFlagCtruncated = 2, // MSG_CTRUNC or a malformed control message
  kFlagLocal = 4,      // the sender is a unix address
};

constexpr int kMaxBatch = 64;
constexpr size_t kSlotSize = 65536;
constexpr size_t kControlSize = 512;

// recvmmsg's buffers, reused by every socket of the environment (one JS thread).
struct ReceiveArena {
  std::vector<uint8_t> data;  // kMaxBatch slots, or one larger slot for a big unix datagram
  uint8_t control[kMaxBatch][kControlSize];
  sockaddr_storage names[kMaxBatch];
  iovec iov[kMaxBatch];
  mmsghdr headers[kMaxBatch];

  // The first `max` headers, each over a slot of `slot` bytes, ready for recvmmsg. They stay
  // ready between calls: a call only restores the lengths the kernel wrote into the `used`
  // headers it filled last time (Recycle), rather than rebuilding 64 headers per read.
  mmsghdr* Prepare(int max, size_t slot);
  void Recycle(int used);

 private:
  int prepared_ = 0;
  size_t prepared_slot_ = 0;
  const uint8_t* prepared_data_ = nullptr;
};

// Where received bytes go for the facade: a slab Buffer that successive receives fill
// back to back, each datagram a view of it, so that a receive allocates a Buffer only when
// the slab is full rather than every time. A batch larger than half a slab gets a Buffer of
// its own, so that a datagram kept by the application pins at most one slab.
class ReceiveSlab {
 public:
  static constexpr size_t kSize = 64 * 1024;

  // A Buffer with `bytes` free at `*offset`, which this call marks used; `*data` is that
  // Buffer's memory.
  Napi::Object Reserve(Napi::Env env, size_t bytes, size_t* offset, uint8_t** data);

 private:
  // An Object reference: getting a Buffer back from it would ask V8 for its memory again.
  Napi::ObjectReference current_;
  uint8_t* current_data_ = nullptr;
  size_t used_ = kSize;
};

// sendmmsg's buffers, reused by every socket of the environment.
struct SendArena {
  struct Message {
    size_t pieces_begin = 0;
    size_t pieces_end = 0;
    size_t iov_begin = 0;
    size_t iov_end = 0;
    size_t bytes = 0;
    SocketAddress destination;
    size_t control_length = 0;
  };
  Message messages[kMaxBatch];
  // The iodata leaves of a send, collected before any buffer's address is taken.
  std::vector<Piece> pieces;
  GatheredData gathered;
  alignas(cmsghdr) uint8_t control[kMaxBatch][kMaxSendControl];
  mmsghdr headers[kMaxBatch];
  uint32_t members[kMaxBatch];
};

// Maps sockaddrs to JS strings kept in an array the facade reads by slot, so that a
// sender's address string is made once, not per datagram.
class AddressCache {
 public:
  static constexpr int kSlots = 1024;

  void Attach(Napi::Array array) { array_ = Napi::Persistent(array); }
  void Reset() { array_.Reset(); }
  void BeginBatch() { generation_++; }
  // The slot holding `address` (an IP address, port ignored) or a unix path.
  int SlotFor(Napi::Env env, const sockaddr* address, socklen_t length);

 private:
  struct Key {
    uint8_t family = 0;
    uint8_t size = 0;
    uint32_t scope = 0;
    uint8_t bytes[108] = {};
    bool operator==(const Key& other) const;
  };
  struct Entry {
    Key key;
    bool used = false;
    uint64_t generation = 0;
  };
  static bool MakeKey(const sockaddr* address, socklen_t length, Key* key);

  Napi::Reference<Napi::Array> array_;
  std::vector<Entry> entries_ = std::vector<Entry>(kSlots);
  uint64_t generation_ = 1;
};

class Environment {
 public:
  static Environment* Get(Napi::Env env) { return env.GetInstanceData<Environment>(); }

  Environment(Napi::Env env);
  ~Environment();

  Napi::FunctionReference error_class;
  // The class of the facade copy whose socket is being called, when it differs.
  Napi::FunctionReference* error_class_in_use = nullptr;
  Napi::FunctionReference dispatch;
  Napi::ObjectReference shared;
  Napi::Reference<Napi::Int32Array> meta_ref;
  int32_t* meta = nullptr;
  AddressCache addresses;
  uint64_t thread_id = 0;
  uv_loop_t* loop = nullptr;
  std::unordered_set<NativeSocket*> sockets;

  ReceiveArena& Arena();
  ReceiveSlab slab;
  SendArena send_arena;
  // Scratch for strings of a gathered send; cleared per send.
  std::vector<char> send_text;
  // The field names of a sendBatch message as JS strings, made once: looking a property up
  // by a C string makes and internalizes the name on every call.
  enum MessageKey : uint32_t { kKeyData, kKeyAddress, kKeyPort, kKeyAncillary, kMessageKeys };
  Napi::Reference<Napi::Array> message_keys;
  // kMaxBatch send records (SendRecordField), filled by the facade before each send call, and
  // one more that it checks a batch's messages into (never read here).
  Napi::Reference<Napi::Int32Array> send_records_ref;
  int32_t* send_records = nullptr;

 private:
  static void BeginTeardown(napi_async_cleanup_hook_handle hook, void* arg);
  std::unique_ptr<ReceiveArena> arena_;
  napi_async_cleanup_hook_handle cleanup_hook_ = nullptr;
};

}  // namespace abyss
