// libFuzzer: CoalescePolicy under any sequence of settings and learnt holds. A hold is off or
// lasts from one microsecond to the window, whatever the loop reported (a stall of seconds, a
// hold that gathered nothing or billions).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>

#include "../native/coalesce.h"

using namespace abyss;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  CoalescePolicy policy;
  uint32_t usecs = 0;
  while (input.remaining_bytes() > 0) {
    if (input.ConsumeIntegralInRange<int>(0, 7) == 0) {
      usecs = input.ConsumeIntegral<uint32_t>();
      policy.Configure(usecs, input.ConsumeIntegral<uint32_t>());
    } else {
      policy.Learn(input.ConsumeIntegral<uint64_t>(), input.ConsumeIntegral<uint64_t>());
    }
    const uint64_t window = static_cast<uint64_t>(usecs < CoalescePolicy::kMaxMicroseconds ? usecs : CoalescePolicy::kMaxMicroseconds) * 1000;
    if (policy.enabled() != (usecs > 0)) abort();
    const uint64_t hold = policy.HoldNanoseconds();
    if (policy.enabled() && (hold < 1000 || hold > window)) abort();
  }
  return 0;
}
