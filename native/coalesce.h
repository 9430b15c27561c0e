// The `coalesce` option's policy: how long a socket's readiness is held back before the facade
// hears of it, so that one wakeup of the JavaScript thread serves many datagrams.
//
// A hold starts when a datagram makes an idle socket readable and lasts `usecs`; the datagrams
// that arrive meanwhile are read with it, in one batch. `packets` ends a hold sooner: the
// kernel cannot wake a reader when N datagrams are queued (a UDP socket's readiness ignores
// SO_RCVLOWAT) and looking would mean a wakeup per datagram again, so the hold is shortened to
// the time `packets` datagrams took to arrive in the last hold. A steady flow is therefore
// handed over about `packets` at a time; a burst the estimate did not foresee is read a batch per
// loop turn (no hold starts while datagrams are left queued), so a hold never lets the receive
// buffer fill because the rate rose.
//
// Pure arithmetic, no system calls: readiness.cc owns the timer.
#pragma once
#include <algorithm>
#include <cstdint>

namespace abyss {

class CoalescePolicy {
 public:
  // The longest hold the option accepts: one second.
  static constexpr uint32_t kMaxMicroseconds = 1000000;

  // usecs 0: off. packets 0: only the time bounds a hold.
  void Configure(uint32_t usecs, uint32_t packets) {
    usecs_ = std::min(usecs, kMaxMicroseconds);
    packets_ = packets;
    interval_ns_ = 0;
  }
  bool enabled() const { return usecs_ > 0; }

  // How long the next hold lasts, in nanoseconds: at least one microsecond, at most the window.
  uint64_t HoldNanoseconds() const {
    const uint64_t window = static_cast<uint64_t>(usecs_) * 1000;
    // packets_ × interval_ns_ compared without multiplying: a stalled loop's interval is large.
    if (packets_ == 0 || interval_ns_ == 0 || interval_ns_ >= window / packets_) return window;
    return std::max<uint64_t>(static_cast<uint64_t>(packets_) * interval_ns_, 1000);
  }

  // A hold of `held_ns` gathered `datagrams` (everything read until the queue was empty).
  void Learn(uint64_t held_ns, uint64_t datagrams) {
    if (datagrams == 0) return;
    interval_ns_ = std::max<uint64_t>(1, held_ns / datagrams);
  }

 private:
  uint32_t usecs_ = 0;
  uint32_t packets_ = 0;
  // The time between arrivals the last hold saw; 0 before the first one.
  uint64_t interval_ns_ = 0;
};

}  // namespace abyss
