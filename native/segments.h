// Which messages of a sendBatch go out together as one UDP_SEGMENT (GSO) send: a pure
// function of their sizes, so that it can be tested and fuzzed apart from the system calls.
#pragma once
#include <cstddef>
#include <cstdint>

namespace abyss {

// The most one UDP_SEGMENT send may carry: the kernel's segment count limit, an IP
// datagram's payload limit with room for the headers, and IOV_MAX pieces.
constexpr size_t kMaxSegments = 64;
constexpr size_t kMaxSegmentedBytes = 65000;
constexpr size_t kMaxPieces = 1024;

struct SegmentCandidate {
  size_t bytes = 0;
  size_t pieces = 0;
  bool has_control = false;       // it carries ancillary data of its own
  bool same_destination = false;  // as the message before it
};

// Groups `count` messages, in order, into sends: members[g] is how many messages send g
// carries (`members` has room for `count`); returns the number of sends. Consecutive
// messages to one destination without ancillary data of their own, all of the first one's
// size but the last (which may be shorter), form one segmented send when `segmenting`.
size_t GroupSegments(const SegmentCandidate* messages, size_t count, bool segmenting, uint32_t* members);

}  // namespace abyss
