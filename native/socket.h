// A datagram socket: descriptor lifecycle, the system calls, and readiness on the
// libuv loop of the environment that uses it.
#pragma once
#include <napi.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "address.h"

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
  NativeSocket(const Napi::CallbackInfo& info);
  ~NativeSocket() override;

  // The environment is going away: stop watching, close what this thread owns.
  // `on_closed` gets the poll handle with `data` set to `closed_data`.
  // True when a poll handle is closing and `on_closed` will be called.
  bool Detach(uv_close_cb on_closed, void* closed_data);

 private:
  Napi::Value Id(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Family(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);
  Napi::Value CounterView(const Napi::CallbackInfo& info);
  void Bind(const Napi::CallbackInfo& info);
  void Connect(const Napi::CallbackInfo& info);
  Napi::Value Sockname(const Napi::CallbackInfo& info);
  Napi::Value Peername(const Napi::CallbackInfo& info);
  Napi::Value EndName(Napi::Env env, const char* operation, const char* syscall, int (*name)(int, sockaddr*, socklen_t*));
  void Setopts(const Napi::CallbackInfo& info);
  Napi::Value Getopt(const Napi::CallbackInfo& info);
  Napi::Value Recv(const Napi::CallbackInfo& info);
  Napi::Value RecvError(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value SendBatch(const Napi::CallbackInfo& info);
  void Watch(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  void HandOver(const Napi::CallbackInfo& info);
  void Reap(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  void Adopt(Napi::Env env, uint64_t id);
  // Errors made while it lives are of the TransportError class of the facade copy (and so
  // the realm) that made this socket.
  class ErrorRealm {
   public:
    explicit ErrorRealm(NativeSocket* socket);
    ~ErrorRealm();

   private:
    Environment* environment_;
    Napi::FunctionReference* saved_;
  };

  // Throws `closed` or `not_owner` unless this thread may change the socket.
  void RequireOwner(Napi::Env env, const char* operation) const;
  void RequireOpen(Napi::Env env, const char* operation) const;
  SocketAddress ParseDestination(Napi::Env env, Napi::Value address, Napi::Value port, const char* operation);
  bool StopWatching(uv_close_cb on_closed, void* closed_data);
  static void OnReady(uv_poll_t* poll, int status, int events);

  std::shared_ptr<SocketState> state_;
  Environment* environment_ = nullptr;
  Napi::FunctionReference error_class_;
  uv_poll_t* poll_ = nullptr;
  int watched_ = 0;
  // UDP_SEGMENT works on this socket's path until the kernel says otherwise.
  bool gso_ = true;
  SocketAddress last_destination_;
  char last_destination_text_[64] = {};
  size_t last_destination_length_ = SIZE_MAX;
  uint16_t last_destination_port_ = 0;
};

}  // namespace abyss
