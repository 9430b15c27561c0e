#include "segments.h"

namespace abyss {

namespace {

bool CanLead(const SegmentCandidate& message) { return !message.has_control && message.bytes > 0; }

}  // namespace

size_t GroupSegments(const SegmentCandidate* messages, size_t count, bool segmenting, uint32_t* members) {
  size_t sends = 0;
  for (size_t first = 0; first < count;) {
    size_t end = first + 1;
    if (segmenting && CanLead(messages[first])) {
      const size_t size = messages[first].bytes;
      size_t total = size;
      size_t pieces = messages[first].pieces;
      while (end < count && end - first < kMaxSegments) {
        const SegmentCandidate& next = messages[end];
        // Only the last segment may be shorter: once one is, the send is complete.
        if (!CanLead(next) || !next.same_destination || next.bytes > size || messages[end - 1].bytes != size ||
            total + next.bytes > kMaxSegmentedBytes || pieces + next.pieces > kMaxPieces) {
          break;
        }
        total += next.bytes;
        pieces += next.pieces;
        end++;
      }
    }
    members[sends++] = static_cast<uint32_t>(end - first);
    first = end;
  }
  return sends;
}

}  // namespace abyss
