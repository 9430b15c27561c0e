// Per-environment (main thread or worker) state: the facade's readiness callback, the memory
// shared with the facade (protocol.h), the scratch buffers every socket of the thread
// reuses, the loop its sockets are watched on (loop.h), and teardown.
#pragma once
#include <napi.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <unordered_set>
#include <vector>

#include "address.h"
#include "cmsg.h"
#include "loop.h"
#include "protocol.h"

namespace abyss {

class NativeSocket;

// The largest datagram a receive slot holds: every UDP datagram, a GRO batch, and the unix
// datagrams that are not larger (those get a Buffer of their own).
constexpr size_t kSlotSize = 65536;
// Control data per received datagram: every receive option at once takes under 200 bytes.
constexpr size_t kControlSize = 512;

// recvmmsg's buffers, reused by every socket of the environment (one JS thread).
struct ReceiveArena {
  std::vector<uint8_t> data = std::vector<uint8_t>(kMaxBatch * kSlotSize);
  uint8_t control[kMaxBatch][kControlSize];
  sockaddr_storage names[kMaxBatch];
  iovec iov[kMaxBatch];
  mmsghdr headers[kMaxBatch];

  // The first `max` headers, each over its kSlotSize slot, ready for recvmmsg. They stay
  // ready between calls: a call only restores the lengths the kernel wrote into the `used`
  // headers it filled last time (Recycle), rather than rebuilding 64 headers per read.
  mmsghdr* Prepare(int max);
  void Recycle(int used);
  // The first `max` headers over slots of `slot` bytes in `memory` (the caller's) instead.
  mmsghdr* PrepareInto(int max, uint8_t* memory, size_t slot);
  // Points the first `max` headers back at the arena's own slots, after PrepareInto.
  void Repoint(int max);

 private:
  int prepared_ = 0;
};

// Where received bytes go for the facade: a slab Buffer that successive receives fill
// back to back, each datagram a view of it, so that a receive allocates a Buffer only when
// the slab is full rather than every time. A batch larger than half a slab gets a Buffer of
// its own, so that a datagram kept by the application pins at most one slab.
class ReceiveSlab {
 public:
  static constexpr size_t kSize = 64 * 1024;

  // A Buffer with `bytes` free at `*offset`, which this call marks used; `*data` is that
  // Buffer's memory. Empty when V8 could not allocate it.
  napi_value Reserve(napi_env env, size_t bytes, size_t* offset, uint8_t** data);
  void Reset(napi_env env);

 private:
  napi_ref current_ = nullptr;
  uint8_t* current_data_ = nullptr;
  size_t used_ = kSize;
};

// sendmmsg's buffers, reused by every socket of the environment. Nothing here outlives one
// native call, and no JavaScript runs during one, so one set serves every socket and every
// copy of the facade in the thread.
struct SendArena {
  struct Message {
    size_t iov_begin = 0;
    size_t iov_end = 0;
    size_t bytes = 0;
    SocketAddress destination;
    size_t control_length = 0;
  };
  Message messages[kMaxBatch];
  std::vector<iovec> iov;
  // UTF-8 of string pieces; (iov index, offset) pairs are resolved once no more is appended.
  std::vector<char> text;
  std::vector<std::pair<size_t, size_t>> text_pieces;
  alignas(cmsghdr) uint8_t control[kMaxBatch][kMaxSendControl];
  mmsghdr headers[kMaxBatch];
  uint32_t members[kMaxBatch];

  void Clear();
  // Past one call, scratch keeps at most this much: one huge send must not pin its memory.
  static constexpr size_t kKeptBytes = 1 << 20;
  void Trim();
};

// Maps sockaddrs to JS strings kept in an array the facade reads by slot, so that a
// sender's address string is made once, not per datagram.
class AddressCache {
 public:
  static constexpr int kSlots = 1024;

  void Attach(napi_env env, napi_value array);
  void Reset(napi_env env);
  void BeginBatch() { generation_++; }
  // The slot holding `address` (an IP address, port ignored) or a unix path; -1 when it has
  // no name or the string could not be made.
  int SlotFor(napi_env env, const sockaddr* address, socklen_t length);

 private:
  struct Key {
    uint8_t family = 0;
    uint8_t size = 0;
    uint32_t scope = 0;
    uint8_t bytes[108] = {};
    bool operator==(const Key& other) const;
    // Whether `address` is this IP address (unix paths are not checked here).
    bool Names(const sockaddr* address, socklen_t length) const;
  };
  struct Entry {
    Key key;
    bool used = false;
    uint64_t generation = 0;
  };
  static bool MakeKey(const sockaddr* address, socklen_t length, Key* key);
  // SlotFor without the previous sender's shortcut.
  int Find(napi_env env, const sockaddr* address, socklen_t length);

  napi_ref array_ = nullptr;
  std::vector<Entry> entries_ = std::vector<Entry>(kSlots);
  uint64_t generation_ = 1;
  // The slot SlotFor last returned for an IP address; -1 for none.
  int last_slot_ = -1;
};

class Environment {
 public:
  static Environment* Get(napi_env env);

  explicit Environment(napi_env env);
  ~Environment();

  // Makes the shared memory and the loop (the thread backend when `await_turn_end` is a function,
  // loop.h), and remembers the facade's readiness callback; a second copy of the facade in
  // this environment gets the first one's (see addon.cc). Null, with `*why` set, on failure.
  napi_value Init(napi_env env, napi_value dispatch, uint64_t thread_id, napi_value await_turn_end, const char** why);
  bool initialized() const { return shared_ != nullptr; }

  // Records why a call failed, for the facade's error; returns -err.
  int Fail(Syscall syscall, int err) {
    status[kStatusSyscall] = syscall;
    status[kStatusErrno] = err;
    return -err;
  }

  napi_ref dispatch = nullptr;
  int32_t* meta = nullptr;
  int32_t* send_records = nullptr;
  int32_t* status = nullptr;
  double* kernel_stats = nullptr;
  AddressCache addresses;
  uint64_t thread_id = 0;
  std::unique_ptr<Loop> loop;
  std::unordered_set<NativeSocket*> sockets;

  ReceiveArena& Arena();
  ReceiveSlab slab;
  SendArena send_arena;

 private:
  static void BeginTeardown(napi_async_cleanup_hook_handle hook, void* arg);
  static void TeardownNow(void* arg);
  // Stops every socket and the loop (what closes later counted in `closing`, when not null),
  // and closes what this thread owns or was handed and never adopted.
  void Teardown(Closing* closing);
  napi_env env_;
  napi_ref shared_ = nullptr;
  std::unique_ptr<ReceiveArena> arena_;
};

}  // namespace abyss
