// libFuzzer: GroupSegments on fuzzed batches. Every message goes out exactly once, in order,
// and every segmented send is one the kernel takes and the peer splits back into the same
// datagrams: one destination, no ancillary data of its own, all of the first one's size but
// the last, within the segment, byte and piece limits.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <vector>

#include "../native/segments.h"

using namespace abyss;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const bool segmenting = input.ConsumeBool();
  const size_t count = input.ConsumeIntegralInRange<size_t>(0, 64);
  std::vector<SegmentCandidate> messages(count);
  for (SegmentCandidate& message : messages) {
    // Mostly a few sizes, so that runs of equal ones are common.
    message.bytes = input.ConsumeBool() ? input.ConsumeIntegralInRange<size_t>(0, 3) * 700
                                        : input.ConsumeIntegralInRange<size_t>(0, 70000);
    message.pieces = input.ConsumeIntegralInRange<size_t>(1, 1024);
    message.has_control = input.ConsumeIntegralInRange<int>(0, 7) == 0;
    message.same_destination = input.ConsumeIntegralInRange<int>(0, 7) != 0;
  }
  std::vector<uint32_t> members(count + 1, 0xdeadbeef);
  const size_t sends = GroupSegments(messages.data(), count, segmenting, members.data());
  if (sends > count || members[count] != 0xdeadbeef) abort();
  size_t first = 0;
  for (size_t send = 0; send < sends; send++) {
    const size_t n = members[send];
    if (n == 0 || first + n > count) abort();
    if (n > 1) {
      const SegmentCandidate& lead = messages[first];
      size_t bytes = 0, pieces = 0;
      if (!segmenting || n > kMaxSegments || lead.has_control || lead.bytes == 0) abort();
      for (size_t m = first; m < first + n; m++) {
        const SegmentCandidate& message = messages[m];
        if (message.has_control || message.bytes == 0 || message.bytes > lead.bytes) abort();
        if (m > first && !message.same_destination) abort();
        if (m + 1 < first + n && message.bytes != lead.bytes) abort();
        bytes += message.bytes;
        pieces += message.pieces;
      }
      if (bytes > kMaxSegmentedBytes || pieces > kMaxPieces) abort();
    }
    first += n;
  }
  if (first != count) abort();
  return 0;
}
