// Readiness of one socket on its thread's loop (loop.h: libuv's, or the thread backend's,
// both with uv_poll's semantics).
//
// Normally a level-triggered watch on the socket: whatever the facade leaves unread is
// reported again on the next turn of the loop, so the facade can read one batch per turn and
// still never lose a wakeup.
//
// A pending socket error (POLLERR: an ICMP error on a connected socket, or on any socket with
// IP_RECVERR) stops the watch, which calls back with a status. The error is read
// (SO_ERROR, which clears it), handed to the facade, and the poll restarts. With IP_RECVERR,
// though, POLLERR stays raised for as long as the error queue holds entries, and a
// level-triggered watch would report it on every turn: a CPU spinning while the application
// has not drained the queue. While the queue is not empty the socket is therefore watched
// through an epoll set of its own in edge-triggered mode, whose descriptor the loop watches:
// only something new (a datagram, an error, room to send) wakes it. When a read leaves
// datagrams queued, the set is re-armed (EPOLL_CTL_MOD looks at readiness again), as the
// level-triggered watch would have reported them. Once the queue is empty, back to level.
//
// With the `coalesce` option (coalesce.h), readability that finds the socket idle is not
// reported at once: the watch stops waiting for it and a timerfd, watched on the same loop (a
// microsecond timer, which libuv's millisecond timers are not), reports it when the hold ends.
// While the error queue holds entries (edge-triggered) nothing is held.
#pragma once
#include <cstdint>

#include "coalesce.h"
#include "loop.h"

namespace abyss {

class NativeSocket;

class Watcher {
 public:
  explicit Watcher(NativeSocket* owner) : owner_(owner) {}

  // Watches `fd` for `events` (kReadable | kWritable; 0 stops); 0 or -errno.
  int Watch(Loop* loop, int fd, int events);
  // Whether this watch keeps the loop alive (the facade waits for something).
  void KeepLoopAlive(bool alive);
  // A read took `count` datagrams; `left_queued`: it stopped with more in the kernel.
  void Received(int count, bool left_queued);
  // The error queue was found empty: back to the level-triggered poll.
  void ErrorQueueDrained();
  // The `coalesce` option (usecs 0: off). 0 or -errno.
  int Coalesce(uint32_t usecs, uint32_t packets);
  // Stops watching; the watches closing are counted in `closing` when it is not null.
  void Stop(Closing* closing);

 private:
  static void OnLevel(Poll* poll, int status, int events);
  static void OnEdge(Poll* poll, int status, int events);
  static void OnHoldEnd(Poll* poll, int status, int events);
  // A watch on `fd`, started for `events` with `callback`; 0 or -errno.
  int StartPoll(int fd, int events, Poll::Callback callback);
  // Starts or stops the poll for what is watched now (Watching()); 0 or -errno.
  int Apply();
  // events_ less readability while a hold lasts.
  int Watching() const { return holding_ ? events_ & ~kReadable : events_; }
  void ClosePoll();
  void EnterEdge();
  void LeaveEdge();
  void ApplyKeepAlive();
  // Starts a hold; false when the timer could not be had (then nothing is held).
  bool BeginHold();
  // Disarms the timer; the hold ends without a report.
  void CancelHold();

  NativeSocket* owner_;
  Loop* loop_ = nullptr;
  int fd_ = -1;
  Poll* poll_ = nullptr;
  // The edge-triggered epoll set while the error queue is not empty; -1 otherwise.
  int edge_fd_ = -1;
  int events_ = 0;
  bool alive_ = false;
  bool left_queued_ = false;

  CoalescePolicy coalesce_;
  // The timerfd that ends a hold, and its watch on the loop; created by the first hold.
  int timer_fd_ = -1;
  Poll* timer_poll_ = nullptr;
  bool holding_ = false;
  uint64_t hold_started_ns_ = 0;
  // After a hold: how long it lasted, and the datagrams read since, until the queue is empty.
  bool counting_ = false;
  uint64_t held_ns_ = 0;
  uint64_t read_since_hold_ = 0;
};

}  // namespace abyss
