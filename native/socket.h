// A datagram socket: the kernel socket shared across threads (SocketState) and one
// thread's handle on it (NativeSocket), whose methods make the system calls. Every method
// takes plain data the facade has already checked (protocol.h) and returns failures as data.
#pragma once
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>

#include "address.h"
#include "protocol.h"
#include "readiness.h"
#include "segments.h"

namespace abyss {

class Environment;

// inet's getstat counters, kept per kernel socket so they survive a hand-over. The facade
// counts what recv delivers straight into this memory (a Float64Array over it); the native
// side counts sends. Only the owner writes; an aligned double is read whole on x86-64 and arm64.
enum Counter : int {
  kRecvOct, kRecvCnt, kRecvMax, kRecvAvg, kRecvDvi,
  kSendOct, kSendCnt, kSendMax, kSendAvg,
  kCounterCount,
};

struct Counters {
  alignas(8) double values[kCounterCount] = {};
  void CountSent(uint64_t length);
};

// The kernel socket, shared by every environment that holds a handle to it.
struct SocketState {
  int fd = -1;
  int family = AF_UNSPEC;
  uint64_t id = 0;
  std::atomic<uint64_t> owner{0};
  std::atomic<bool> closed{false};
  // Handed to `owner` by controllingProcess and not yet adopted there.
  std::atomic<bool> adoptable{false};
  // Closing takes it exclusively; another thread's read-only calls share it.
  std::shared_mutex lifecycle;
  Counters counters;

  // Closes the descriptor once, whichever thread asks, and forgets the socket.
  void Close();
  ~SocketState();
};

class NativeSocket : public Napi::ObjectWrap<NativeSocket> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativeSocket(const Napi::CallbackInfo& info);
  ~NativeSocket() override;

  // The environment is going away: stop watching (the watches closing counted in `closing`
  // when it is not null), close what this thread owns.
  void Detach(Closing* closing);
  // The descriptor is ready (or failed, `err`): hands it to the facade's readiness callback.
  void Dispatch(int events, int err);

 private:
  Napi::Value Id(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Family(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value CounterView(const Napi::CallbackInfo& info);
  Napi::Value WatchCellView(const Napi::CallbackInfo& info);

  // Applies what the watch cells ask (protocol.h WatchCell); 0 or -errno.
  int ApplyWatch();
  // Holds the handle strongly (its facade object cannot be collected), or lets go.
  void Hold(bool strong);

  // Lifecycle and ownership (socket.cc).
  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value OpenDescriptor(const Napi::CallbackInfo& info);
  void Take(int fd, int domain);
  Napi::Value Adopt(const Napi::CallbackInfo& info);
  Napi::Value HandOver(const Napi::CallbackInfo& info);
  void Reap(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  Napi::Value Watch(const Napi::CallbackInfo& info);
  void KeepAlive(const Napi::CallbackInfo& info);
  Napi::Value Coalesce(const Napi::CallbackInfo& info);

  // Addresses, options and statistics (socket.cc).
  Napi::Value Bind(const Napi::CallbackInfo& info);
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value Setopts(const Napi::CallbackInfo& info);
  Napi::Value Getopt(const Napi::CallbackInfo& info);
  Napi::Value GetoptRaw(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  // Receiving (receive.cc).
  Napi::Value Recv(const Napi::CallbackInfo& info);
  Napi::Value RecvInto(const Napi::CallbackInfo& info);
  Napi::Value RecvError(const Napi::CallbackInfo& info);
  int ReceiveLocal(napi_env env, int max, napi_value* bytes);

  // Sending (send.cc).
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value SendBatch(const Napi::CallbackInfo& info);
  struct BatchArguments {
    napi_value pieces;
    uint32_t first_piece;
    napi_value texts;
    uint32_t first_message;
    uint32_t count;
  };
  bool GatherBatch(napi_env env, const BatchArguments& batch, SegmentCandidate* candidates);
  // The destination of a send: an IP literal and port, or a unix path (port ignored).
  bool ParseDestination(napi_env env, napi_value text, uint32_t port, SocketAddress* out);

  // Owned by this thread and open: what every changing call assumes (the facade checks it).
  bool Usable() const;
  int Fail(int syscall, int err);

  std::shared_ptr<SocketState> state_;
  Environment* environment_ = nullptr;
  Watcher watcher_;
  // What the facade wants watched (protocol.h WatchCell), shared with it as an Int32Array.
  std::shared_ptr<int32_t[]> watch_cells_{new int32_t[kWatchCells]{}};
  // Held strongly (Hold): while the program has not unref'd it, or something waits on it.
  bool held_ = false;
  // Dispatch is reporting a failed watch (see Dispatch).
  bool reporting_watch_failure_ = false;
  // The program has not unref'd the socket: waiting keeps the loop alive, and it is not collected.
  bool referenced_ = true;
  // UDP_SEGMENT works on this socket's path until the kernel says otherwise.
  bool gso_ = true;
  // A server answers the same peers again and again: the last destination parsed.
  SocketAddress last_destination_;
  char last_destination_text_[64] = {};
  size_t last_destination_length_ = SIZE_MAX;
  uint32_t last_destination_port_ = 0;
};

}  // namespace abyss
