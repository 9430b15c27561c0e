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

void DeletePoll(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

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

uint32_t EpollEvents(int events) {
  uint32_t wanted = EPOLLET;
  if (events & UV_READABLE) wanted |= EPOLLIN;
  if (events & UV_WRITABLE) wanted |= EPOLLOUT;
  return wanted;
}

}  // namespace

int Watcher::StartPoll(int fd, int events, uv_poll_cb callback) {
  if (poll_ == nullptr) {
    poll_ = new uv_poll_t;
    int result = uv_poll_init(loop_, poll_, fd);
    if (result != 0) {
      delete poll_;
      poll_ = nullptr;
      return result;
    }
    poll_->data = this;
    ApplyKeepAlive();
  }
  return uv_poll_start(poll_, events, callback);
}

void Watcher::ClosePoll() {
  if (poll_ == nullptr) return;
  uv_poll_stop(poll_);
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), DeletePoll);
  poll_ = nullptr;
}

int Watcher::Watch(uv_loop_t* loop, int fd, int events) {
  // Unchanged (and not stopped by libuv meanwhile): no epoll_ctl for nothing.
  if (events == events_ && poll_ != nullptr &&
      (Watching() == 0 || uv_is_active(reinterpret_cast<uv_handle_t*>(poll_)))) {
    return 0;
  }
  loop_ = loop;
  fd_ = fd;
  events_ = events;
  // Nobody reads any more: a hold would end in a report nobody wants.
  if (holding_ && !(events & UV_READABLE)) CancelHold();
  return Apply();
}

int Watcher::Apply() {
  const int watching = Watching();
  if (edge_fd_ < 0) {
    if (watching != 0) return StartPoll(fd_, watching, OnLevel);
    if (poll_ != nullptr) uv_poll_stop(poll_);
    return 0;
  }
  // Edge-triggered, the set keeps reporting new errors even when nothing else is wanted.
  epoll_event event{EpollEvents(watching), {}};
  if (epoll_ctl(edge_fd_, EPOLL_CTL_MOD, fd_, &event) != 0) return -errno;
  return StartPoll(edge_fd_, UV_READABLE, OnEdge);
}

void Watcher::KeepLoopAlive(bool alive) {
  alive_ = alive;
  ApplyKeepAlive();
}

void Watcher::ApplyKeepAlive() {
  // A hold keeps the loop alive as the poll it stands in for does.
  for (uv_poll_t* poll : {poll_, timer_poll_}) {
    if (poll == nullptr) continue;
    if (alive_) {
      uv_ref(reinterpret_cast<uv_handle_t*>(poll));
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(poll));
    }
  }
}

int Watcher::Stop(uv_close_cb on_closed, void* data) {
  if (edge_fd_ >= 0) {
    close(edge_fd_);
    edge_fd_ = -1;
  }
  events_ = 0;
  holding_ = false;
  counting_ = false;
  int closing = 0;
  for (uv_poll_t** poll : {&poll_, &timer_poll_}) {
    if (*poll == nullptr) continue;
    uv_poll_stop(*poll);
    (*poll)->data = data;
    uv_close(reinterpret_cast<uv_handle_t*>(*poll), on_closed);
    *poll = nullptr;
    closing++;
  }
  // Stopped, the timer's poll no longer looks at its descriptor.
  if (timer_fd_ >= 0) {
    close(timer_fd_);
    timer_fd_ = -1;
  }
  return closing;
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
  if (timer_poll_ != nullptr) uv_poll_stop(timer_poll_);
  if (!holding_) return 0;
  // Turned off during a hold: what it held is reported now, on the next turn.
  CancelHold();
  return Apply();
}

bool Watcher::BeginHold() {
  if (timer_fd_ < 0) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return false;
    auto* poll = new uv_poll_t;
    if (uv_poll_init(loop_, poll, fd) != 0) {
      delete poll;
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
  // The timer's poll stays started between holds (an unarmed timerfd never wakes the loop):
  // a hold costs timerfd_settime and the socket's own epoll_ctl, not two more for the timer.
  if (timerfd_settime(timer_fd_, 0, &when, nullptr) != 0 ||
      (!uv_is_active(reinterpret_cast<uv_handle_t*>(timer_poll_)) && uv_poll_start(timer_poll_, UV_READABLE, OnHoldEnd) != 0)) {
    return false;
  }
  holding_ = true;
  counting_ = false;
  hold_started_ns_ = uv_hrtime();
  return true;
}

void Watcher::CancelHold() {
  holding_ = false;
  if (timer_fd_ < 0) return;
  itimerspec never{};
  timerfd_settime(timer_fd_, 0, &never, nullptr);
}

void Watcher::OnHoldEnd(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<Watcher*>(poll->data);
  uint64_t expirations;
  if (read(self->timer_fd_, &expirations, sizeof(expirations)) < 0 && status >= 0 && errno == EAGAIN) return;
  if (!self->holding_) return;
  self->holding_ = false;
  self->held_ns_ = uv_hrtime() - self->hold_started_ns_;
  self->read_since_hold_ = 0;
  self->counting_ = true;
  self->left_queued_ = false;
  // Watch for readability again: what the facade leaves unread is reported on the next turn.
  const int result = self->Apply();
  self->owner_->Dispatch(self->events_ & UV_READABLE, result < 0 ? -result : 0);
}

void Watcher::EnterEdge() {
  // Edge-triggered, nothing is held: the error queue's entries are what the facade must see.
  if (holding_) CancelHold();
  int edge = epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{EpollEvents(events_), {}};
  if (edge < 0 || epoll_ctl(edge, EPOLL_CTL_ADD, fd_, &event) != 0) {
    // No descriptor to spare: keep the level-triggered poll, which spins until the
    // application drains the error queue but loses nothing.
    if (edge >= 0) close(edge);
    Apply();
    return;
  }
  ClosePoll();
  edge_fd_ = edge;
  StartPoll(edge_fd_, UV_READABLE, OnEdge);
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

void Watcher::OnLevel(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<Watcher*>(poll->data);
  if (status >= 0) {
    // Readable after the facade emptied the queue: the first datagram of a quiet spell, held.
    if ((events & UV_READABLE) && self->coalesce_.enabled() && !self->holding_ && !self->left_queued_ &&
        self->BeginHold()) {
      self->Apply();
      events &= ~UV_READABLE;
      if (events == 0) return;
    }
    self->owner_->Dispatch(events, 0);
    return;
  }
  // POLLERR: libuv has stopped this poll.
  int err = TakeSocketError(self->fd_);
  if (ErrorQueueHoldsEntries(self->fd_)) {
    self->EnterEdge();
  } else {
    self->Apply();
  }
  // Whatever was watched may be ready too: let the facade look.
  self->owner_->Dispatch(self->events_, err);
}

void Watcher::OnEdge(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<Watcher*>(poll->data);
  epoll_event ready{};
  if (epoll_wait(self->edge_fd_, &ready, 1, 0) != 1) return;
  int err = 0;
  int uv_events = ((ready.events & EPOLLIN) ? UV_READABLE : 0) | ((ready.events & EPOLLOUT) ? UV_WRITABLE : 0);
  if (ready.events & EPOLLERR) {
    err = TakeSocketError(self->fd_);
    uv_events |= self->events_ & UV_READABLE;
    if (!ErrorQueueHoldsEntries(self->fd_)) self->LeaveEdge();
  }
  uv_events &= self->events_;
  if (uv_events == 0 && err == 0) return;
  self->left_queued_ = false;
  self->owner_->Dispatch(uv_events, err);
  // Still edge-triggered and watching: a batch that left datagrams behind gets its next
  // turn, as the level-triggered poll would give it.
  if (self->edge_fd_ >= 0 && self->left_queued_ && (self->events_ & UV_READABLE)) {
    epoll_event again{EpollEvents(self->events_), {}};
    epoll_ctl(self->edge_fd_, EPOLL_CTL_MOD, self->fd_, &again);
  }
}

}  // namespace abyss
