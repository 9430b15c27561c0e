// How a thread's sockets hear readiness: the runtime's event loop seen through two calls,
// a descriptor watch (Poll) and a turn counter (Loop), with one backend per kind of runtime.
//
// - LibuvLoop (loop_libuv.cc): Node. Each watch is a uv_poll on the thread's libuv loop and
//   a uv_check counts the turns. Nothing between the kernel and the callback but libuv.
// - ThreadLoop (loop_thread.cc): runtimes whose addons get no working libuv (Bun panics in
//   uv_poll_init; Deno's emulation reports a poll once and may call back after uv_close).
//   One thread per environment waits in epoll_wait and hands what is ready to the JS thread
//   through a napi_threadsafe_function, the one cross-thread call every N-API runtime has;
//   the facade marks the end of a turn with a setImmediate. It costs a thread hop per
//   wakeup, so Node keeps libuv.
//
// Both give a watch libuv's uv_poll semantics, which readiness.cc is written against: level-
// triggered (what is left unread is reported again on the next turn), a callback with a
// negative status when the descriptor reports an error (POLLERR), after which the watch has
// stopped and must be started again, and a reference that keeps the loop alive while the
// watch is started.
#pragma once
#include <napi.h>
#include <sys/epoll.h>
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace abyss {

// What a watch waits for; the same values as libuv's UV_READABLE and UV_WRITABLE, and the
// facade's READABLE and WRITABLE.
constexpr int kReadable = 1;
constexpr int kWritable = 2;

// The epoll events for watching `events`, with `mode` (EPOLLET, EPOLLONESHOT) added.
inline uint32_t EpollEvents(int events, uint32_t mode) {
  return mode | ((events & kReadable) ? EPOLLIN : 0u) | ((events & kWritable) ? EPOLLOUT : 0u);
}

// What an epoll report says is ready, in kReadable and kWritable.
inline int ReadyEvents(uint32_t epoll_events) {
  return ((epoll_events & EPOLLIN) ? kReadable : 0) | ((epoll_events & EPOLLOUT) ? kWritable : 0);
}

// Handles still closing: `done(data)` runs once the last one has closed and whoever started
// closing them has released its own count (Closing starts at 1), whether the runtime calls
// back later (libuv) or within the call (the thread backend).
struct Closing {
  size_t pending = 1;
  void (*done)(void* data) = nullptr;
  void* data = nullptr;
  void Add() { pending++; }
  void Release() {
    if (--pending > 0) return;
    if (done != nullptr) done(data);
    delete this;
  }
};

class Poll {
 public:
  // `status` < 0: the descriptor reported an error and the watch has stopped.
  using Callback = void (*)(Poll* poll, int status, int events);
  virtual ~Poll() = default;

  // Starts watching for `events`, or changes what is watched; 0 or -errno.
  virtual int Start(int events, Callback callback) = 0;
  virtual void Stop() = 0;
  virtual bool Active() const = 0;
  // Whether this watch, while started, keeps the loop (and the process) alive.
  virtual void KeepLoopAlive(bool alive) = 0;
  // Stops, and frees the watch once the runtime is done with it; counted in `closing` when
  // not null. Nothing is called back after this.
  virtual void Close(Closing* closing) = 0;

  void* data = nullptr;
};

class Loop {
 public:
  virtual ~Loop() = default;
  // A watch on `fd`, stopped; null (errno set) when the runtime refused it.
  virtual Poll* Watch(int fd) = 0;
  // The facade's answer to the thread backend's `awaitTurnEnd` (loop_thread.cc): a turn ended.
  virtual void TurnEnded() = 0;
  // Stops counting turns and waiting. Every Poll must have been closed before.
  virtual void Close(Closing* closing) = 0;
  // Whether the environment's teardown must wait for handles to close (napi's async cleanup
  // hook) or may finish within a plain cleanup hook.
  virtual bool ClosesLater() const = 0;
};

// The backends, counting the loop's turns into `*turns`; null when the runtime refused what
// they need. The thread backend asks for the end of a turn by calling `await_turn_end`, a function
// of the facade's that calls TurnEnded once the runtime has polled for I/O (setImmediate).
std::unique_ptr<Loop> MakeLibuvLoop(napi_env env, int32_t* turns);
std::unique_ptr<Loop> MakeThreadLoop(napi_env env, int32_t* turns, napi_value await_turn_end);

// Monotonic nanoseconds, for holds (libuv's uv_hrtime, which the thread backend lacks).
inline uint64_t MonotonicNanoseconds() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace abyss
