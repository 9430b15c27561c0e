// The libuv backend (loop.h): Node's own loop, a uv_poll per watch, a uv_check per turn.
#include <uv.h>

#include <cerrno>

#include "loop.h"

namespace abyss {

namespace {

static_assert(kReadable == static_cast<int>(UV_READABLE) && kWritable == static_cast<int>(UV_WRITABLE), "the facade's event bits are libuv's");

class LibuvPoll : public Poll {
 public:
  explicit LibuvPoll(uv_loop_t* loop) : loop_(loop) { handle_.data = this; }

  int Init(int fd) { return uv_poll_init(loop_, &handle_, fd); }

  int Start(int events, Callback callback) override {
    callback_ = callback;
    return uv_poll_start(&handle_, events, OnReady);
  }
  void Stop() override { uv_poll_stop(&handle_); }
  bool Active() const override { return uv_is_active(reinterpret_cast<const uv_handle_t*>(&handle_)) != 0; }
  void KeepLoopAlive(bool alive) override {
    if (alive) {
      uv_ref(reinterpret_cast<uv_handle_t*>(&handle_));
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(&handle_));
    }
  }
  void Close(Closing* closing) override {
    uv_poll_stop(&handle_);
    closing_ = closing;
    if (closing_ != nullptr) closing_->Add();
    uv_close(reinterpret_cast<uv_handle_t*>(&handle_), OnClosed);
  }

 private:
  static void OnReady(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<LibuvPoll*>(handle->data);
    self->callback_(self, status, events);
  }
  static void OnClosed(uv_handle_t* handle) {
    auto* self = static_cast<LibuvPoll*>(handle->data);
    Closing* closing = self->closing_;
    delete self;
    if (closing != nullptr) closing->Release();
  }

  uv_loop_t* loop_;
  uv_poll_t handle_;
  Callback callback_ = nullptr;
  Closing* closing_ = nullptr;
};

class LibuvLoop : public Loop {
 public:
  LibuvLoop(uv_loop_t* loop, int32_t* turns) : loop_(loop), turns_(turns) {}

  bool Begin() {
    check_ = new uv_check_t;
    if (uv_check_init(loop_, check_) != 0) {
      delete check_;
      check_ = nullptr;
      return false;
    }
    check_->data = this;
    uv_check_start(check_, CountTurn);
    // It never keeps the loop alive by itself.
    uv_unref(reinterpret_cast<uv_handle_t*>(check_));
    return true;
  }

  Poll* Watch(int fd) override {
    auto* poll = new LibuvPoll(loop_);
    const int result = poll->Init(fd);
    if (result != 0) {
      delete poll;
      errno = -result;
      return nullptr;
    }
    return poll;
  }

  void Close(Closing* closing) override {
    if (check_ == nullptr) return;
    uv_check_stop(check_);
    check_->data = closing;
    if (closing != nullptr) closing->Add();
    uv_close(reinterpret_cast<uv_handle_t*>(check_), OnCheckClosed);
    check_ = nullptr;
  }

  // The uv_check counts turns itself.
  void TurnEnded() override {}
  bool ClosesLater() const override { return true; }

  ~LibuvLoop() override { Close(nullptr); }

 private:
  static void CountTurn(uv_check_t* check) { (*static_cast<LibuvLoop*>(check->data)->turns_)++; }
  static void OnCheckClosed(uv_handle_t* handle) {
    auto* closing = static_cast<Closing*>(handle->data);
    delete reinterpret_cast<uv_check_t*>(handle);
    if (closing != nullptr) closing->Release();
  }

  uv_loop_t* loop_;
  int32_t* turns_;
  uv_check_t* check_ = nullptr;
};

}  // namespace

std::unique_ptr<Loop> MakeLibuvLoop(napi_env env, int32_t* turns) {
  uv_loop_t* uv = nullptr;
  if (napi_get_uv_event_loop(env, &uv) != napi_ok || uv == nullptr) return nullptr;
  auto loop = std::make_unique<LibuvLoop>(uv, turns);
  if (!loop->Begin()) return nullptr;
  return loop;
}

}  // namespace abyss
