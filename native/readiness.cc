#include "readiness.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>

#include "socket.h"

namespace abyss {

namespace {

// Reads and clears the socket's pending error (sk_err); 0 when there is none.
int TakeSocketError(int fd) {
  int err = 0;
  socklen_t size = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size) != 0) return errno;
  return err;
}

// With no pending error left, POLLERR means entries wait in the error queue. (MSG_PEEK does
// not peek the error queue: a recvmsg there would take an entry.)
bool ErrorQueueHoldsEntries(int fd) {
  pollfd query{fd, 0, 0};
  return poll(&query, 1, 0) == 1 && (query.revents & POLLERR) != 0;
}

}  // namespace

int Watcher::StartPoll(int fd, int events, Poll::Callback callback) {
  if (poll_ == nullptr) {
    poll_ = loop_->Watch(fd);
    if (poll_ == nullptr) return -errno;
    poll_->data = this;
    ApplyKeepAlive();
  }
  return poll_->Start(events, callback);
}

void Watcher::ClosePoll() {
  if (poll_ == nullptr) return;
  poll_->Close(nullptr);
  poll_ = nullptr;
}

int Watcher::Watch(Loop* loop, int fd, int events) {
  // Unchanged (and not stopped by an error meanwhile): no epoll_ctl for nothing.
  if (events == events_ && poll_ != nullptr && (Watching() == 0 || poll_->Active())) {
    return 0;
  }
  loop_ = loop;
  fd_ = fd;
  events_ = events;
  // Nobody reads any more: a hold would end in a report nobody wants.
  if (holding_ && !(events & kReadable)) CancelHold();
  return Apply();
}

int Watcher::Apply() {
  const int watching = Watching();
  if (edge_fd_ < 0) {
    if (watching != 0) return StartPoll(fd_, watching, OnLevel);
    if (poll_ != nullptr) poll_->Stop();
    return 0;
  }
  // Edge-triggered, the set keeps reporting new errors even when nothing else is wanted.
  epoll_event event{EpollEvents(watching, EPOLLET), {}};
  if (epoll_ctl(edge_fd_, EPOLL_CTL_MOD, fd_, &event) != 0) return -errno;
  return StartPoll(edge_fd_, kReadable, OnEdge);
}

void Watcher::KeepLoopAlive(bool alive) {
  alive_ = alive;
  ApplyKeepAlive();
}

void Watcher::ApplyKeepAlive() {
  // A hold keeps the loop alive as the poll it stands in for does.
  for (Poll* poll : {poll_, timer_poll_}) {
    if (poll != nullptr) poll->KeepLoopAlive(alive_);
  }
}

void Watcher::Stop(Closing* closing) {
  events_ = 0;
  holding_ = false;
  counting_ = false;
  for (Poll** poll : {&poll_, &timer_poll_}) {
    if (*poll == nullptr) continue;
    (*poll)->Close(closing);
    *poll = nullptr;
  }
  // Closed, the watches no longer look at their descriptors.
  for (int* fd : {&edge_fd_, &timer_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

void Watcher::Received(int count, bool left_queued) {
  left_queued_ = left_queued;
  if (!counting_) return;
  read_since_hold_ += static_cast<uint64_t>(count);
  if (left_queued) return;
  coalesce_.Learn(held_ns_, read_since_hold_);
  counting_ = false;
}

int Watcher::Coalesce(uint32_t usecs, uint32_t packets) {
  coalesce_.Configure(usecs, packets);
  counting_ = false;
  if (coalesce_.enabled()) return 0;
  if (timer_poll_ != nullptr) timer_poll_->Stop();
  if (!holding_) return 0;
  // Turned off during a hold: what it held is reported now, on the next turn.
  CancelHold();
  return Apply();
}

bool Watcher::BeginHold() {
  if (timer_fd_ < 0) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return false;
    Poll* poll = loop_->Watch(fd);
    if (poll == nullptr) {
      close(fd);
      return false;
    }
    poll->data = this;
    timer_fd_ = fd;
    timer_poll_ = poll;
    ApplyKeepAlive();
  }
  const uint64_t hold = coalesce_.HoldNanoseconds();
  itimerspec when{};
  when.it_value.tv_sec = static_cast<time_t>(hold / 1000000000);
  when.it_value.tv_nsec = static_cast<long>(hold % 1000000000);
  // The timer's watch stays started between holds (an unarmed timerfd never wakes the loop):
  // a hold costs timerfd_settime and the socket's own epoll_ctl, not two more for the timer.
  if (timerfd_settime(timer_fd_, 0, &when, nullptr) != 0 ||
      (!timer_poll_->Active() && timer_poll_->Start(kReadable, OnHoldEnd) != 0)) {
    return false;
  }
  holding_ = true;
  counting_ = false;
  hold_started_ns_ = MonotonicNanoseconds();
  return true;
}

void Watcher::CancelHold() {
  holding_ = false;
  if (timer_fd_ < 0) return;
  itimerspec never{};
  timerfd_settime(timer_fd_, 0, &never, nullptr);
}

void Watcher::OnHoldEnd(Poll* poll, int status, int events) {
  auto* self = static_cast<Watcher*>(poll->data);
  uint64_t expirations;
  if (read(self->timer_fd_, &expirations, sizeof(expirations)) < 0 && status >= 0 && errno == EAGAIN) return;
  if (!self->holding_) return;
  self->holding_ = false;
  self->held_ns_ = MonotonicNanoseconds() - self->hold_started_ns_;
  self->read_since_hold_ = 0;
  self->counting_ = true;
  self->left_queued_ = false;
  // Watch for readability again: what the facade leaves unread is reported on the next turn.
  const int result = self->Apply();
  self->owner_->Dispatch(self->events_ & kReadable, result < 0 ? -result : 0);
}

void Watcher::EnterEdge() {
  // Edge-triggered, nothing is held: the error queue's entries are what the facade must see.
  if (holding_) CancelHold();
  int edge = epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{EpollEvents(events_, EPOLLET), {}};
  if (edge < 0 || epoll_ctl(edge, EPOLL_CTL_ADD, fd_, &event) != 0) {
    // No descriptor to spare: keep the level-triggered poll, which spins until the
    // application drains the error queue but loses nothing.
    if (edge >= 0) close(edge);
    Apply();
    return;
  }
  ClosePoll();
  edge_fd_ = edge;
  StartPoll(edge_fd_, kReadable, OnEdge);
}

void Watcher::LeaveEdge() {
  ClosePoll();
  close(edge_fd_);
  edge_fd_ = -1;
  Apply();
}

void Watcher::ErrorQueueDrained() {
  if (edge_fd_ >= 0) LeaveEdge();
}

void Watcher::OnLevel(Poll* poll, int status, int events) {
  auto* self = static_cast<Watcher*>(poll->data);
  if (status >= 0) {
    // Readable after the facade emptied the queue: the first datagram of a quiet spell, held.
    if ((events & kReadable) && self->coalesce_.enabled() && !self->holding_ && !self->left_queued_ &&
        self->BeginHold()) {
      self->Apply();
      events &= ~kReadable;
      if (events == 0) return;
    }
    self->owner_->Dispatch(events, 0);
    return;
  }
  // POLLERR: the watch has stopped.
  int err = TakeSocketError(self->fd_);
  if (ErrorQueueHoldsEntries(self->fd_)) {
    self->EnterEdge();
  } else {
    self->Apply();
  }
  // Whatever was watched may be ready too: let the facade look.
  self->owner_->Dispatch(self->events_, err);
}

void Watcher::OnEdge(Poll* poll, int status, int events) {
  auto* self = static_cast<Watcher*>(poll->data);
  epoll_event ready{};
  if (epoll_wait(self->edge_fd_, &ready, 1, 0) != 1) return;
  int err = 0;
  int reported = ReadyEvents(ready.events);
  if (ready.events & EPOLLERR) {
    err = TakeSocketError(self->fd_);
    reported |= self->events_ & kReadable;
    if (!ErrorQueueHoldsEntries(self->fd_)) self->LeaveEdge();
  }
  reported &= self->events_;
  if (reported == 0 && err == 0) return;
  // Left queued unless a read says otherwise: the facade may not read at all (it already
  // read in this turn), and the edge must not be lost.
  self->left_queued_ = true;
  self->owner_->Dispatch(reported, err);
  // Still edge-triggered and watching: what the facade left unread (a batch that left
  // datagrams behind, or no read) gets its next turn, as the level-triggered watch gives it.
  if (self->edge_fd_ >= 0 && self->left_queued_ && (self->events_ & kReadable)) {
    epoll_event again{EpollEvents(self->events_, EPOLLET), {}};
    epoll_ctl(self->edge_fd_, EPOLL_CTL_MOD, self->fd_, &again);
  }
}

}  // namespace abyss
