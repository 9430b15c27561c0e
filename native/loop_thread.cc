// The thread backend (loop.h): for runtimes whose addons get no working libuv.
//
// One thread per environment waits in epoll_wait. Every watch is registered EPOLLONESHOT
// under an id of its own, so a descriptor is reported once and then rests until the JS
// thread arms it again: at most one report per watch is ever in flight, and a flood cannot
// queue more. The thread collects reports under a mutex and, when the batch was empty, asks
// the JS thread to take it through a napi_threadsafe_function (nonblocking: the thread never
// waits for JavaScript).
//
// Turns. The runtime may run many hand-overs back to back (Node's thread-safe functions run
// up to 1000 queued calls in one go), so a hand-over is not a turn of the loop. After one,
// the facade is asked for the end of the turn (its `awaitTurnEnd`: a setImmediate, which runs
// once the loop has polled for I/O, where libuv's backend counts turns with a uv_check; the
// facade also asks after a read of its own), and a watch reported in this turn is armed
// again only then. So each socket is read at most
// once per turn, and timers and other I/O get theirs however fast datagrams come. Armed
// again, a watch reports at once what was left unread: level-triggered, as uv_poll.
//
// A report names a watch by id, never by pointer: a watch closed while its report was on
// the way is simply not found.
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "loop.h"

namespace abyss {

namespace {

// The id of the eventfd that stops the thread; watches count from 1.
constexpr uint64_t kStopId = 0;

class ThreadLoop;

class ThreadPoll : public Poll {
 public:
  ThreadPoll(ThreadLoop* loop, int fd, uint64_t id) : loop_(loop), fd_(fd), id_(id) {}

  int Start(int events, Callback callback) override;
  void Stop() override;
  bool Active() const override { return active_; }
  void KeepLoopAlive(bool alive) override;
  void Close(Closing* closing) override;

 private:
  friend class ThreadLoop;
  // Registers the descriptor for `epoll_events`; 0 or -errno.
  int Register(uint32_t epoll_events);
  // Arms the descriptor for events_ (EPOLLONESHOT), or at the end of the turn when it was
  // reported in this one; 0 or -errno.
  int Arm();
  void SetActive(bool active);
  // Whether this watch keeps the loop alive now.
  bool Alive() const { return active_ && alive_; }

  ThreadLoop* loop_;
  int fd_;
  uint64_t id_;
  int events_ = 0;
  Callback callback_ = nullptr;
  bool active_ = false;
  bool alive_ = true;
  bool registered_ = false;
  // Armed and not yet reported: another arm would be a system call for nothing.
  bool armed_ = false;
  // Reported in this turn; and to be armed when it ends.
  bool reported_ = false;
  bool arm_at_turn_end_ = false;
  // The arm at the end of the turn failed with this -errno, told at the next hand-over.
  int arm_error_ = 0;
};

class ThreadLoop : public Loop {
 public:
  ThreadLoop(int32_t* turns) : turns_(turns) {}
  ~ThreadLoop() override { Close(nullptr); }

  bool Begin(napi_env env, napi_value await_turn_end);
  Poll* Watch(int fd) override;
  void TurnEnded() override;
  void Close(Closing* closing) override;
  bool ClosesLater() const override { return false; }

 private:
  friend class ThreadPoll;
  void Run();
  static void Deliver(napi_env env, napi_value unused, void* context, void* data);
  // Asks the facade to call TurnEnded at the end of this turn (it asks once per turn).
  void AwaitTurnEnd(napi_env env);
  // Asks for a hand-over (Deliver), unless one is on its way.
  void RequestDelivery();
  // A watch's keep-alive changed by `delta` (+1, -1): the thread-safe function keeps the loop
  // alive while any does.
  void CountAlive(int delta);

  int32_t* turns_;
  napi_env env_ = nullptr;
  napi_threadsafe_function deliver_ = nullptr;
  napi_ref await_turn_end_ = nullptr;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  // pthread rather than std::thread: libstdc++'s thread start calls pthread_create at glibc
  // 2.34's version, above the prebuilds' floor (native/compat pins the calls made here).
  pthread_t thread_{};
  bool thread_started_ = false;

  std::mutex mutex_;
  std::vector<epoll_event> reports_;
  // A hand-over is on its way to the JS thread: the thread adds to reports_ without asking again.
  bool requested_ = false;

  // JS thread only.
  std::unordered_map<uint64_t, ThreadPoll*> polls_;
  uint64_t next_id_ = 1;
  size_t alive_ = 0;
  // The memory of the last batch taken, given back to reports_ at the next hand-over.
  std::vector<epoll_event> spare_;
  // The watches reported in this turn.
  std::vector<uint64_t> reported_;
  // The watches whose arm at the end of the turn failed (ThreadPoll::arm_error_).
  std::vector<uint64_t> failed_;
};

int ThreadPoll::Register(uint32_t epoll_events) {
  epoll_event event{epoll_events, {}};
  event.data.u64 = id_;
  if (epoll_ctl(loop_->epoll_fd_, registered_ ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd_, &event) != 0) return -errno;
  registered_ = true;
  return 0;
}

int ThreadPoll::Arm() {
  if (reported_) {
    arm_at_turn_end_ = true;
    return 0;
  }
  const int result = Register(EpollEvents(events_, EPOLLONESHOT));
  if (result == 0) armed_ = true;
  return result;
}

int ThreadPoll::Start(int events, Callback callback) {
  callback_ = callback;
  if (events_ != events || !active_ || !armed_) {
    events_ = events;
    // Armed again, or told at once that it cannot be: an earlier failure is old news.
    arm_error_ = 0;
    const int result = Arm();
    if (result != 0) return result;
  }
  SetActive(true);
  return 0;
}

void ThreadPoll::Stop() {
  SetActive(false);
  arm_at_turn_end_ = false;
  arm_error_ = 0;
  if (!armed_) return;
  // Registered with nothing wanted: only an error could still be reported, and it is ignored.
  Register(EPOLLONESHOT);
  armed_ = false;
}

void ThreadPoll::SetActive(bool active) {
  const bool was = Alive();
  active_ = active;
  if (Alive() != was) loop_->CountAlive(Alive() ? 1 : -1);
}

void ThreadPoll::KeepLoopAlive(bool alive) {
  const bool was = Alive();
  alive_ = alive;
  if (Alive() != was) loop_->CountAlive(Alive() ? 1 : -1);
}

// Freed at once, so there is nothing to count in `closing`.
void ThreadPoll::Close(Closing* closing) {
  SetActive(false);
  if (registered_) epoll_ctl(loop_->epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
  loop_->polls_.erase(id_);
  delete this;
}

bool ThreadLoop::Begin(napi_env env, napi_value await_turn_end) {
  env_ = env;
  if (napi_create_reference(env, await_turn_end, 1, &await_turn_end_) != napi_ok) return false;
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || stop_fd_ < 0) return false;
  epoll_event stop{EPOLLIN, {}};
  stop.data.u64 = kStopId;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &stop) != 0) return false;
  napi_value name;
  if (napi_create_string_utf8(env, "abyss-transport readiness", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, this, Deliver, &deliver_) !=
          napi_ok) {
    deliver_ = nullptr;
    return false;
  }
  // Only a started, referenced watch keeps the loop alive (CountAlive).
  napi_unref_threadsafe_function(env, deliver_);
  auto run = [](void* self) -> void* {
    static_cast<ThreadLoop*>(self)->Run();
    return nullptr;
  };
  // Started with the signals sent to the process blocked (a thread inherits its creator's
  // mask), so that they go to the runtime's threads, which handle them, never to this one.
  // A fault's own signal stays open: blocked, it would kill the process with no report.
  sigset_t all, previous;
  sigfillset(&all);
  for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) sigdelset(&all, fault);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  thread_started_ = pthread_create(&thread_, nullptr, run, this) == 0;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return thread_started_;
}

void ThreadLoop::Run() {
  epoll_event ready[64];
  for (;;) {
    const int count = epoll_wait(epoll_fd_, ready, 64, -1);
    if (count < 0) {
      // EINTR: a debugger's stop; any other error cannot heal, and the loop's watches go
      // quiet rather than spin.
      if (errno == EINTR) continue;
      return;
    }
    bool stop = false;
    bool request = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int i = 0; i < count; i++) {
        if (ready[i].data.u64 == kStopId) {
          stop = true;
        } else {
          reports_.push_back(ready[i]);
        }
      }
      if (!stop && !reports_.empty() && !requested_) request = requested_ = true;
    }
    if (stop) return;
    if (request) napi_call_threadsafe_function(deliver_, nullptr, napi_tsfn_nonblocking);
  }
}

void ThreadLoop::RequestDelivery() {
  bool request = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!requested_) request = requested_ = true;
  }
  if (request) napi_call_threadsafe_function(deliver_, nullptr, napi_tsfn_nonblocking);
}

void ThreadLoop::Deliver(napi_env env, napi_value unused, void* context, void* data) {
  // Null env: the function is being torn down, and nothing may be called.
  if (env == nullptr) return;
  auto* self = static_cast<ThreadLoop*>(context);
  std::vector<epoll_event> taken;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    taken.swap(self->reports_);
    self->reports_.swap(self->spare_);
    self->requested_ = false;
  }
  // A callback may close or restart any watch (a socket's close, a read), so each failure
  // and each report looks its watch up.
  std::vector<uint64_t> failed;
  failed.swap(self->failed_);
  for (uint64_t id : failed) {
    auto found = self->polls_.find(id);
    if (found == self->polls_.end()) continue;
    ThreadPoll* poll = found->second;
    const int status = poll->arm_error_;
    poll->arm_error_ = 0;
    if (status == 0 || !poll->active_) continue;
    // Not watched any more: the callback hears it as an error that stopped the watch.
    poll->SetActive(false);
    poll->callback_(poll, status, 0);
  }
  for (const epoll_event& report : taken) {
    // Read by value: epoll_event is packed on x86-64, and a reference to its u64 is misaligned.
    const uint64_t id = report.data.u64;
    const uint32_t ready = report.events;
    auto found = self->polls_.find(id);
    if (found == self->polls_.end()) continue;
    ThreadPoll* poll = found->second;
    poll->armed_ = false;
    if (!poll->reported_) {
      poll->reported_ = true;
      self->reported_.push_back(poll->id_);
    }
    if (!poll->active_) continue;
    int status = 0;
    int events = 0;
    if (ready & EPOLLERR) {
      // As uv_poll: an error stops the watch, and the callback starts it again if it wants.
      poll->SetActive(false);
      status = -EBADF;
    } else {
      events = ReadyEvents(ready);
      if (ready & EPOLLHUP) events |= poll->events_;
      events &= poll->events_;
    }
    if (status == 0 && events == 0) {
      poll->Arm();
      continue;
    }
    poll->callback_(poll, status, events);
    if (self->polls_.find(id) == self->polls_.end()) continue;
    if (poll->active_ && !poll->armed_) poll->Arm();
  }
  taken.clear();
  self->spare_.swap(taken);
  if (!self->reported_.empty()) self->AwaitTurnEnd(env);
}

void ThreadLoop::AwaitTurnEnd(napi_env env) {
  napi_value await_turn_end, global, result;
  if (napi_get_reference_value(env, await_turn_end_, &await_turn_end) == napi_ok && napi_get_global(env, &global) == napi_ok &&
      napi_call_function(env, global, await_turn_end, 0, nullptr, &result) == napi_ok) {
    return;
  }
  // The runtime refused the call (a thread being terminated): end the turn now rather than
  // leave watches unarmed.
  bool pending = false;
  napi_value exception;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &exception);
  TurnEnded();
}

void ThreadLoop::TurnEnded() {
  (*turns_)++;
  std::vector<uint64_t> reported;
  reported.swap(reported_);
  for (uint64_t id : reported) {
    auto found = polls_.find(id);
    if (found == polls_.end()) continue;
    ThreadPoll* poll = found->second;
    poll->reported_ = false;
    if (!poll->arm_at_turn_end_) continue;
    poll->arm_at_turn_end_ = false;
    if (!poll->active_ || poll->armed_) continue;
    // A failure is told at the next hand-over, not here: this is the facade's call, and a
    // callback may run JavaScript. Until then the watch counts as started, so the loop stays
    // alive to tell it.
    const int result = poll->Arm();
    if (result != 0 && poll->arm_error_ == 0) {
      poll->arm_error_ = result;
      failed_.push_back(id);
    }
  }
  reported.clear();
  if (reported_.empty()) reported_.swap(reported);
  if (!failed_.empty()) RequestDelivery();
}

Poll* ThreadLoop::Watch(int fd) {
  auto* poll = new ThreadPoll(this, fd, next_id_++);
  polls_.emplace(poll->id_, poll);
  return poll;
}

void ThreadLoop::CountAlive(int delta) {
  const size_t before = alive_;
  alive_ += delta;
  if (deliver_ == nullptr) return;
  if (before == 0 && alive_ > 0) napi_ref_threadsafe_function(env_, deliver_);
  if (before > 0 && alive_ == 0) napi_unref_threadsafe_function(env_, deliver_);
}

void ThreadLoop::Close(Closing* closing) {
  if (thread_started_) {
    const uint64_t one = 1;
    // The thread only ever waits in epoll_wait (its calls into N-API never block), so it
    // sees this and returns (an eventfd write fails only when its counter would overflow).
    (void)!write(stop_fd_, &one, sizeof(one));
    pthread_join(thread_, nullptr);
    thread_started_ = false;
  }
  if (deliver_ != nullptr) {
    napi_release_threadsafe_function(deliver_, napi_tsfn_abort);
    deliver_ = nullptr;
  }
  if (await_turn_end_ != nullptr) {
    napi_delete_reference(env_, await_turn_end_);
    await_turn_end_ = nullptr;
  }
  for (int* fd : {&epoll_fd_, &stop_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

}  // namespace

std::unique_ptr<Loop> MakeThreadLoop(napi_env env, int32_t* turns, napi_value await_turn_end) {
  auto loop = std::make_unique<ThreadLoop>(turns);
  if (!loop->Begin(env, await_turn_end)) return nullptr;
  return loop;
}

}  // namespace abyss
