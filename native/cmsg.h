// Control messages (ancillary data) of recvmsg/sendmsg: pure encode and decode,
// no system calls, so that both can be tested on crafted buffers and fuzzed.
#pragma once
#include <time.h>
#include <linux/errqueue.h>
#include <sys/socket.h>
#include <cstddef>
#include <cstdint>

namespace abyss {

enum ReceivedField : uint32_t {
  kTos = 1u << 0,
  kTtl = 1u << 1,
  kTclass = 1u << 2,
  kHoplimit = 1u << 3,
  kPktinfo = 1u << 4,
  kOrigDstAddr = 1u << 5,
  kTimestamp = 1u << 6,
  kDropped = 1u << 7,
  kSegmentSize = 1u << 8,
  kExtendedError = 1u << 9,
  kErrorOffender = 1u << 10,
  // A control message was cut short or malformed: what was decoded before it stands.
  kMalformed = 1u << 11,
};

struct ReceivedAncillary {
  uint32_t present = 0;
  int tos = 0;
  int ttl = 0;
  int tclass = 0;
  int hoplimit = 0;
  sockaddr_storage pktinfo_address{};   // the datagram's destination (port 0)
  sockaddr_storage pktinfo_spec_dst{};  // IPv4 only
  bool has_spec_dst = false;
  uint32_t pktinfo_ifindex = 0;
  sockaddr_storage orig_dst{};
  int64_t timestamp_sec = 0;
  int64_t timestamp_nsec = 0;
  uint32_t dropped = 0;
  int segment_size = 0;
  sock_extended_err error{};
  sockaddr_storage offender{};
};

// Decodes `length` bytes of control data as the kernel lays them out.
// Never reads outside [control, control + length).
void DecodeAncillary(const uint8_t* control, size_t length, ReceivedAncillary* out);

// The descriptors a unix peer passed (SCM_RIGHTS) in `length` bytes of control data, at
// most `capacity` of them, into `out`; returns how many. recvmsg has opened them in this
// process, and nothing in the contract takes them: the caller closes them.
size_t PassedDescriptors(const uint8_t* control, size_t length, int* out, size_t capacity);

enum SendField : uint32_t {
  kSendTos = 1u << 0,
  kSendTtl = 1u << 1,
  kSendTclass = 1u << 2,
  kSendHoplimit = 1u << 3,
  kSendPktinfoAddress = 1u << 4,
  kSendPktinfoIfindex = 1u << 5,
  kSendSegmentSize = 1u << 6,
};

struct SendAncillary {
  uint32_t present = 0;
  int tos = 0;
  int ttl = 0;
  int tclass = 0;
  int hoplimit = 0;
  sockaddr_storage pktinfo_address{};  // AF_INET or AF_INET6
  uint32_t pktinfo_ifindex = 0;
  int segment_size = 0;
};

enum class EncodeResult { kOk, kNoRoom, kWrongFamily, kOutOfRange };

// The most a SendAncillary can encode to.
constexpr size_t kMaxSendControl = 256;

// Encodes for a socket of `family` (AF_INET or AF_INET6) into `buffer`;
// `*written` is the control length to put in msg_controllen.
EncodeResult EncodeAncillary(const SendAncillary& in, int family, uint8_t* buffer, size_t capacity,
                             size_t* written);

}  // namespace abyss
