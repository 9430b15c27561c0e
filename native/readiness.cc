#include "readiness.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
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
  if (events == events_ && poll_ != nullptr && (events == 0 || uv_is_active(reinterpret_cast<uv_handle_t*>(poll_)))) {
    return 0;
  }
  loop_ = loop;
  fd_ = fd;
  events_ = events;
  if (edge_fd_ < 0) {
    if (events != 0) return StartPoll(fd, events, OnLevel);
    if (poll_ != nullptr) uv_poll_stop(poll_);
    return 0;
  }
  // Edge-triggered, the set keeps reporting new errors even when nothing else is wanted.
  epoll_event event{EpollEvents(events), {}};
  if (epoll_ctl(edge_fd_, EPOLL_CTL_MOD, fd_, &event) != 0) return -errno;
  return StartPoll(edge_fd_, UV_READABLE, OnEdge);
}

void Watcher::KeepLoopAlive(bool alive) {
  alive_ = alive;
  ApplyKeepAlive();
}

void Watcher::ApplyKeepAlive() {
  if (poll_ == nullptr) return;
  if (alive_) {
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  } else {
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
}

bool Watcher::Stop(uv_close_cb on_closed, void* data) {
  if (edge_fd_ >= 0) {
    close(edge_fd_);
    edge_fd_ = -1;
  }
  events_ = 0;
  if (poll_ == nullptr) return false;
  uv_poll_stop(poll_);
  poll_->data = data;
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), on_closed);
  poll_ = nullptr;
  return true;
}

void Watcher::EnterEdge() {
  int edge = epoll_create1(EPOLL_CLOEXEC);
  epoll_event event{EpollEvents(events_), {}};
  if (edge < 0 || epoll_ctl(edge, EPOLL_CTL_ADD, fd_, &event) != 0) {
    // No descriptor to spare: keep the level-triggered poll, which spins until the
    // application drains the error queue but loses nothing.
    if (edge >= 0) close(edge);
    StartPoll(fd_, events_, OnLevel);
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
  if (events_ != 0) StartPoll(fd_, events_, OnLevel);
}

void Watcher::ErrorQueueDrained() {
  if (edge_fd_ >= 0) LeaveEdge();
}

void Watcher::OnLevel(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<Watcher*>(poll->data);
  if (status >= 0) {
    self->owner_->Dispatch(events, 0);
    return;
  }
  // POLLERR: libuv has stopped this poll.
  int err = TakeSocketError(self->fd_);
  if (ErrorQueueHoldsEntries(self->fd_)) {
    self->EnterEdge();
  } else {
    self->StartPoll(self->fd_, self->events_, OnLevel);
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
