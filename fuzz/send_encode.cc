// libFuzzer: EncodeAncillary with fuzzed fields and capacities; what it encodes decodes back.
#include <fuzzer/FuzzedDataProvider.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "../native/cmsg.h"

using namespace abyss;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  SendAncillary in;
  in.present = input.ConsumeIntegral<uint32_t>() & 0x7f;
  in.tos = input.ConsumeIntegralInRange<int>(-300, 300);
  in.ttl = input.ConsumeIntegralInRange<int>(-300, 300);
  in.tclass = input.ConsumeIntegralInRange<int>(-300, 300);
  in.hoplimit = input.ConsumeIntegralInRange<int>(-300, 300);
  in.segment_size = input.ConsumeIntegralInRange<int>(-10, 70000);
  in.pktinfo_ifindex = input.ConsumeIntegral<uint32_t>();
  const int families[] = {AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC};
  const int family = families[input.ConsumeIntegralInRange<int>(0, 3)];
  in.pktinfo_address.ss_family = families[input.ConsumeIntegralInRange<int>(0, 3)];
  std::vector<uint8_t> address_bytes = input.ConsumeBytes<uint8_t>(16);
  if (in.pktinfo_address.ss_family == AF_INET && address_bytes.size() >= 4) {
    std::memcpy(&reinterpret_cast<sockaddr_in*>(&in.pktinfo_address)->sin_addr, address_bytes.data(), 4);
  } else if (in.pktinfo_address.ss_family == AF_INET6 && address_bytes.size() >= 16) {
    std::memcpy(&reinterpret_cast<sockaddr_in6*>(&in.pktinfo_address)->sin6_addr, address_bytes.data(), 16);
  }
  const size_t capacity = input.ConsumeIntegralInRange<size_t>(0, kMaxSendControl);
  std::vector<uint8_t> buffer(capacity);
  size_t written = 12345;
  EncodeResult result = EncodeAncillary(in, family, buffer.data(), buffer.size(), &written);
  if (result != EncodeResult::kOk) {
    if (written != 0) abort();
    return 0;
  }
  if (written > capacity) abort();
  ReceivedAncillary out;
  DecodeAncillary(buffer.data(), written, &out);
  if (out.present & kMalformed) abort();
  if ((in.present & kSendTos) && !((out.present & kTos) && out.tos == in.tos)) abort();
  if ((in.present & kSendTtl) && !((out.present & kTtl) && out.ttl == in.ttl)) abort();
  if ((in.present & kSendTclass) && !((out.present & kTclass) && out.tclass == in.tclass)) abort();
  if ((in.present & kSendHoplimit) && !((out.present & kHoplimit) && out.hoplimit == in.hoplimit)) abort();
  if ((in.present & (kSendPktinfoAddress | kSendPktinfoIfindex)) &&
      !((out.present & kPktinfo) && out.pktinfo_ifindex == in.pktinfo_ifindex)) {
    abort();
  }
  return 0;
}
