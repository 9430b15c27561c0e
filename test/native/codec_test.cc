// Unit tests of the pure native parts (control-message codec, option encoding) on crafted
// buffers. `codec_test --list` names the cases; `codec_test NAME` runs one and exits 0 on
// success, printing what differed otherwise. Driven by test/codec.test.ts.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "../../native/cmsg.h"
#include "../../native/options.h"

using namespace abyss;

namespace {

struct Failure {
  std::string what;
};

#define EXPECT(condition)                                                     \
  do {                                                                        \
    if (!(condition)) throw Failure{std::string(#condition) + " at line " + std::to_string(__LINE__)}; \
  } while (0)

// Lays control messages out as the kernel does: each CMSG_SPACE long.
class Control {
 public:
  template <typename T>
  Control& Add(int level, int type, const T& value, size_t size = sizeof(T)) {
    size_t offset = bytes.size();
    bytes.resize(offset + CMSG_SPACE(size));
    cmsghdr header{};
    header.cmsg_len = CMSG_LEN(size);
    header.cmsg_level = level;
    header.cmsg_type = type;
    std::memcpy(bytes.data() + offset, &header, sizeof(header));
    std::memcpy(bytes.data() + offset + CMSG_LEN(0), &value, std::min(size, sizeof(T)));
    return *this;
  }
  ReceivedAncillary Decode(size_t length = SIZE_MAX) const {
    ReceivedAncillary out;
    // An exactly sized copy, so that a read past the end is a read past an allocation.
    std::vector<uint8_t> exact(bytes.begin(), bytes.begin() + std::min(length, bytes.size()));
    DecodeAncillary(exact.data(), exact.size(), &out);
    return out;
  }
  std::vector<uint8_t> bytes;
};

in_addr V4(const char* text) {
  in_addr address;
  inet_pton(AF_INET, text, &address);
  return address;
}

in6_addr V6(const char* text) {
  in6_addr address;
  inet_pton(AF_INET6, text, &address);
  return address;
}

std::string Text(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET) inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof(text));
  if (address.ss_family == AF_INET6) inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text, sizeof(text));
  return text;
}

const OptionRow& Row(const char* name) {
  const OptionRow* row = FindOption(name);
  if (row == nullptr) throw Failure{std::string("no row ") + name};
  return *row;
}

int AsInt(const std::vector<uint8_t>& bytes) {
  int value = 0;
  EXPECT(bytes.size() == sizeof(int));
  std::memcpy(&value, bytes.data(), sizeof(int));
  return value;
}

const std::map<std::string, std::function<void()>> kCases = {
    {"decode: an empty buffer has nothing", [] {
       ReceivedAncillary out;
       DecodeAncillary(nullptr, 0, &out);
       EXPECT(out.present == 0);
     }},
    {"decode: IP_TOS of one byte and IP_TTL as int", [] {
       uint8_t tos = 0xb8;
       auto out = Control().Add(IPPROTO_IP, IP_TOS, tos).Add(IPPROTO_IP, IP_TTL, 63).Decode();
       EXPECT(out.present == (kTos | kTtl));
       EXPECT(out.tos == 0xb8);
       EXPECT(out.ttl == 63);
     }},
    {"decode: IPv4 pktinfo gives address, spec_dst and ifindex", [] {
       in_pktinfo info{};
       info.ipi_ifindex = 7;
       info.ipi_spec_dst = V4("10.0.0.1");
       info.ipi_addr = V4("10.0.0.255");
       auto out = Control().Add(IPPROTO_IP, IP_PKTINFO, info).Decode();
       EXPECT(out.present == kPktinfo);
       EXPECT(Text(out.pktinfo_address) == "10.0.0.255");
       EXPECT(out.has_spec_dst && Text(out.pktinfo_spec_dst) == "10.0.0.1");
       EXPECT(out.pktinfo_ifindex == 7);
     }},
    {"decode: IPv6 pktinfo, tclass and hop limit", [] {
       in6_pktinfo info{};
       info.ipi6_addr = V6("fe80::1");
       info.ipi6_ifindex = 3;
       auto out = Control().Add(IPPROTO_IPV6, IPV6_PKTINFO, info).Add(IPPROTO_IPV6, IPV6_TCLASS, 0x20)
                      .Add(IPPROTO_IPV6, IPV6_HOPLIMIT, 9).Decode();
       EXPECT(out.present == (kPktinfo | kTclass | kHoplimit));
       EXPECT(Text(out.pktinfo_address) == "fe80::1" && !out.has_spec_dst && out.pktinfo_ifindex == 3);
       EXPECT(out.tclass == 0x20 && out.hoplimit == 9);
     }},
    {"decode: timestamp, drop count and GRO segment size", [] {
       timespec when{1700000000, 123456789};
       uint32_t dropped = 41;
       auto out = Control().Add(SOL_SOCKET, SO_TIMESTAMPNS, when).Add(SOL_SOCKET, SO_RXQ_OVFL, dropped)
                      .Add(IPPROTO_UDP, 104, 1200).Decode();
       EXPECT(out.present == (kTimestamp | kDropped | kSegmentSize));
       EXPECT(out.timestamp_sec == 1700000000 && out.timestamp_nsec == 123456789);
       EXPECT(out.dropped == 41 && out.segment_size == 1200);
     }},
    {"decode: original destination address and port", [] {
       sockaddr_in original{};
       original.sin_family = AF_INET;
       original.sin_port = htons(5353);
       original.sin_addr = V4("192.0.2.9");
       auto out = Control().Add(IPPROTO_IP, IP_ORIGDSTADDR, original).Decode();
       EXPECT(out.present == kOrigDstAddr);
       EXPECT(Text(out.orig_dst) == "192.0.2.9");
       EXPECT(ntohs(reinterpret_cast<sockaddr_in&>(out.orig_dst).sin_port) == 5353);
     }},
    {"decode: an extended error with its offender", [] {
       struct {
         sock_extended_err error;
         sockaddr_in offender;
       } payload{};
       payload.error.ee_errno = ECONNREFUSED;
       payload.error.ee_origin = SO_EE_ORIGIN_ICMP;
       payload.error.ee_type = 3;
       payload.error.ee_code = 3;
       payload.offender.sin_family = AF_INET;
       payload.offender.sin_addr = V4("198.51.100.1");
       auto out = Control().Add(IPPROTO_IP, IP_RECVERR, payload).Decode();
       EXPECT(out.present == (kExtendedError | kErrorOffender));
       EXPECT(out.error.ee_errno == ECONNREFUSED && out.error.ee_type == 3 && out.error.ee_code == 3);
       EXPECT(Text(out.offender) == "198.51.100.1");
     }},
    {"decode: an extended error without offender", [] {
       struct {
         sock_extended_err error;
         sockaddr_in offender;
       } payload{};
       payload.error.ee_errno = EMSGSIZE;
       payload.error.ee_origin = SO_EE_ORIGIN_LOCAL;
       payload.error.ee_info = 1280;
       auto out = Control().Add(IPPROTO_IPV6, IPV6_RECVERR, payload).Decode();
       EXPECT(out.present == kExtendedError);
       EXPECT(out.error.ee_info == 1280);
     }},
    {"decode: unknown levels and types are skipped", [] {
       auto out = Control().Add(99, 1, 5).Add(IPPROTO_IP, 200, 5).Add(IPPROTO_IP, IP_TTL, 8).Decode();
       EXPECT(out.present == kTtl && out.ttl == 8);
     }},
    {"decode: a message cut by the buffer's end keeps what came before and says so", [] {
       Control control;
       control.Add(IPPROTO_IP, IP_TTL, 5).Add(IPPROTO_IP, IP_TOS, 4);
       auto out = control.Decode(control.bytes.size() - 6);
       EXPECT(out.present == (kTtl | kMalformed));
       EXPECT(out.ttl == 5);
     }},
    {"decode: a header shorter than itself stops decoding", [] {
       Control control;
       control.Add(IPPROTO_IP, IP_TTL, 5);
       cmsghdr broken{};
       broken.cmsg_len = 3;
       std::memcpy(control.bytes.data(), &broken, sizeof(broken));
       auto out = control.Decode();
       EXPECT(out.present == kMalformed);
     }},
    {"decode: trailing bytes too short for a header are reported", [] {
       Control control;
       control.Add(IPPROTO_IP, IP_TTL, 5);
       control.bytes.resize(control.bytes.size() + 5, 0);
       auto out = control.Decode();
       EXPECT(out.present == (kTtl | kMalformed));
     }},
    {"decode: a payload too short for its type is not read", [] {
       uint32_t four = 0x01020304;
       auto out = Control().Add(IPPROTO_IP, IP_PKTINFO, four).Decode();
       EXPECT(out.present == kMalformed);
     }},
    {"passed descriptors: every SCM_RIGHTS int is found, nothing else, never past the buffer", [] {
       int three[3] = {7, 8, 9};
       int one = 42;
       Control control;
       control.Add(IPPROTO_IP, IP_TTL, 63).Add(SOL_SOCKET, SCM_RIGHTS, three).Add(SOL_SOCKET, SCM_RIGHTS, one);
       std::vector<uint8_t> exact = control.bytes;
       int found[8] = {};
       EXPECT(PassedDescriptors(exact.data(), exact.size(), found, 8) == 4);
       EXPECT(found[0] == 7 && found[1] == 8 && found[2] == 9 && found[3] == 42);
       EXPECT(PassedDescriptors(exact.data(), exact.size(), found, 2) == 2);
       // Cut inside the first SCM_RIGHTS: a length running past the buffer is not trusted.
       size_t cut = CMSG_SPACE(sizeof(int)) + CMSG_LEN(sizeof(int) * 2);
       std::vector<uint8_t> prefix(exact.begin(), exact.begin() + cut);
       EXPECT(PassedDescriptors(prefix.data(), prefix.size(), found, 8) == 0);
       EXPECT(PassedDescriptors(nullptr, 0, found, 8) == 0);
     }},
    {"encode: IPv4 tos, ttl and source address decode back", [] {
       SendAncillary in;
       in.present = kSendTos | kSendTtl | kSendPktinfoAddress | kSendPktinfoIfindex;
       in.tos = 0x10;
       in.ttl = 200;
       reinterpret_cast<sockaddr_in&>(in.pktinfo_address) = sockaddr_in{AF_INET, 0, V4("127.0.0.3"), {}};
       in.pktinfo_ifindex = 1;
       uint8_t buffer[kMaxSendControl];
       size_t written = 0;
       EXPECT(EncodeAncillary(in, AF_INET, buffer, sizeof(buffer), &written) == EncodeResult::kOk);
       ReceivedAncillary out;
       DecodeAncillary(buffer, written, &out);
       EXPECT(out.present == (kTos | kTtl | kPktinfo));
       EXPECT(out.tos == 0x10 && out.ttl == 200 && out.pktinfo_ifindex == 1);
       EXPECT(Text(out.pktinfo_spec_dst) == "127.0.0.3");
     }},
    {"encode: IPv6 tclass, hop limit and source address decode back", [] {
       SendAncillary in;
       in.present = kSendTclass | kSendHoplimit | kSendPktinfoAddress;
       in.tclass = 46 << 2;
       in.hoplimit = 1;
       sockaddr_in6 source{};
       source.sin6_family = AF_INET6;
       source.sin6_addr = V6("::1");
       std::memcpy(&in.pktinfo_address, &source, sizeof(source));
       uint8_t buffer[kMaxSendControl];
       size_t written = 0;
       EXPECT(EncodeAncillary(in, AF_INET6, buffer, sizeof(buffer), &written) == EncodeResult::kOk);
       ReceivedAncillary out;
       DecodeAncillary(buffer, written, &out);
       EXPECT(out.present == (kTclass | kHoplimit | kPktinfo));
       EXPECT(out.tclass == 184 && out.hoplimit == 1 && Text(out.pktinfo_address) == "::1");
     }},
    {"encode: segment size is a u16 at SOL_UDP/UDP_SEGMENT", [] {
       SendAncillary in;
       in.present = kSendSegmentSize;
       in.segment_size = 1400;
       uint8_t buffer[kMaxSendControl];
       size_t written = 0;
       EXPECT(EncodeAncillary(in, AF_INET, buffer, sizeof(buffer), &written) == EncodeResult::kOk);
       EXPECT(written == CMSG_SPACE(sizeof(uint16_t)));
       cmsghdr header;
       std::memcpy(&header, buffer, sizeof(header));
       uint16_t size;
       std::memcpy(&size, buffer + CMSG_LEN(0), sizeof(size));
       EXPECT(header.cmsg_level == IPPROTO_UDP && header.cmsg_type == 103 && size == 1400);
     }},
    {"encode: keys of the other family, out-of-range values and a small buffer are refused", [] {
       uint8_t buffer[kMaxSendControl];
       size_t written = 99;
       SendAncillary v6_on_v4;
       v6_on_v4.present = kSendTclass;
       EXPECT(EncodeAncillary(v6_on_v4, AF_INET, buffer, sizeof(buffer), &written) == EncodeResult::kWrongFamily);
       EXPECT(written == 0);
       SendAncillary ttl;
       ttl.present = kSendTtl;
       ttl.ttl = 0;
       EXPECT(EncodeAncillary(ttl, AF_INET, buffer, sizeof(buffer), &written) == EncodeResult::kOutOfRange);
       ttl.ttl = 256;
       EXPECT(EncodeAncillary(ttl, AF_INET, buffer, sizeof(buffer), &written) == EncodeResult::kOutOfRange);
       ttl.ttl = 64;
       EXPECT(EncodeAncillary(ttl, AF_INET, buffer, CMSG_SPACE(sizeof(int)) - 1, &written) == EncodeResult::kNoRoom);
       EXPECT(EncodeAncillary(ttl, AF_UNIX, buffer, sizeof(buffer), &written) == EncodeResult::kWrongFamily);
     }},
    {"options: every boolean row encodes an int and decodes back", [] {
       for (const OptionRow& row : OptionTable()) {
         if (row.kind != ValueKind::kBool) continue;
         for (int family : {AF_INET, AF_INET6}) {
           if (!SetSite(row, family).applies()) continue;
           OptionInput input;
           input.integer = 1;
           std::vector<uint8_t> bytes;
           EXPECT(EncodeOption(row, family, input, &bytes) == OptionStatus::kOk);
           EXPECT(AsInt(bytes) == 1);
           OptionOutput output;
           EXPECT(DecodeOption(row, family, bytes.data(), bytes.size(), &output) == OptionStatus::kOk);
           EXPECT(!output.is_text && output.integer == 1);
         }
       }
     }},
    {"options: integer rows check their range", [] {
       std::vector<uint8_t> bytes;
       OptionInput input;
       input.integer = 256;
       EXPECT(EncodeOption(Row("ttl"), AF_INET, input, &bytes) == OptionStatus::kBadValue);
       input.integer = 0;
       EXPECT(EncodeOption(Row("ttl"), AF_INET, input, &bytes) == OptionStatus::kBadValue);
       input.integer = 255;
       EXPECT(EncodeOption(Row("ttl"), AF_INET, input, &bytes) == OptionStatus::kOk && AsInt(bytes) == 255);
       input.integer = -1;
       EXPECT(EncodeOption(Row("unicast_hops"), AF_INET6, input, &bytes) == OptionStatus::kOk && AsInt(bytes) == -1);
       input.integer = 0xffffffffLL;
       EXPECT(EncodeOption(Row("mark"), AF_INET, input, &bytes) == OptionStatus::kOk);
       OptionOutput output;
       EXPECT(DecodeOption(Row("mark"), AF_INET, bytes.data(), bytes.size(), &output) == OptionStatus::kOk);
       EXPECT(output.integer == 0xffffffffLL);
     }},
    {"options: IPv6 options do not apply to IPv4 sockets, nor IP ones to unix sockets", [] {
       std::vector<uint8_t> bytes;
       OptionInput input;
       input.integer = 1;
       for (const char* name : {"tclass", "recvtclass", "ipv6_v6only", "recvhoplimit", "unicast_hops"}) {
         EXPECT(EncodeOption(Row(name), AF_INET, input, &bytes) == OptionStatus::kNotForFamily);
       }
       EXPECT(EncodeOption(Row("tos"), AF_UNIX, input, &bytes) == OptionStatus::kNotForFamily);
       EXPECT(EncodeOption(Row("recbuf"), AF_UNIX, input, &bytes) == OptionStatus::kOk);
     }},
    {"options: memberships encode ip_mreq, ipv6_mreq and source requests", [] {
       std::vector<uint8_t> bytes;
       OptionInput input;
       input.text = "239.1.2.3";
       input.interface_text = "127.0.0.1";
       EXPECT(EncodeOption(Row("add_membership"), AF_INET, input, &bytes) == OptionStatus::kOk);
       ip_mreq request;
       EXPECT(bytes.size() == sizeof(request));
       std::memcpy(&request, bytes.data(), sizeof(request));
       EXPECT(request.imr_multiaddr.s_addr == V4("239.1.2.3").s_addr && request.imr_interface.s_addr == V4("127.0.0.1").s_addr);
       input.source = "10.1.1.1";
       EXPECT(EncodeOption(Row("add_source_membership"), AF_INET, input, &bytes) == OptionStatus::kOk);
       EXPECT(bytes.size() == sizeof(ip_mreq_source));
       input.text = "ff02::fb";
       input.interface_index = 1;
       EXPECT(EncodeOption(Row("add_membership"), AF_INET6, input, &bytes) == OptionStatus::kOk);
       EXPECT(bytes.size() == sizeof(ipv6_mreq));
       input.source = "fe80::2";
       EXPECT(EncodeOption(Row("add_source_membership"), AF_INET6, input, &bytes) == OptionStatus::kOk);
       EXPECT(bytes.size() == sizeof(group_source_req));
       input.text = "not-an-address";
       EXPECT(EncodeOption(Row("add_membership"), AF_INET6, input, &bytes) == OptionStatus::kBadValue);
       EXPECT(!Row("add_membership").readable && std::string(Row("add_membership").inverse) == "drop_membership");
     }},
    {"options: mtu_discover modes by number and interface names", [] {
       std::vector<uint8_t> bytes;
       OptionInput input;
       input.integer = IP_PMTUDISC_PROBE;
       EXPECT(EncodeOption(Row("mtu_discover"), AF_INET, input, &bytes) == OptionStatus::kOk && AsInt(bytes) == IP_PMTUDISC_PROBE);
       OptionOutput output;
       EXPECT(DecodeOption(Row("mtu_discover"), AF_INET, bytes.data(), bytes.size(), &output) == OptionStatus::kOk);
       EXPECT(!output.is_text && output.integer == IP_PMTUDISC_PROBE);
       input.integer = IP_PMTUDISC_OMIT + 1;
       EXPECT(EncodeOption(Row("mtu_discover"), AF_INET, input, &bytes) == OptionStatus::kBadValue);
       input.text = "lo";
       EXPECT(EncodeOption(Row("bind_to_device"), AF_INET, input, &bytes) == OptionStatus::kOk && bytes.size() == 2);
       input.text = std::string(IFNAMSIZ, 'x');
       EXPECT(EncodeOption(Row("bind_to_device"), AF_INET, input, &bytes) == OptionStatus::kBadValue);
       int value = 99;
       EXPECT(DecodeOption(Row("mtu_discover"), AF_INET, reinterpret_cast<uint8_t*>(&value), sizeof(value), &output) ==
              OptionStatus::kBadValue);
     }},
    {"options: a single byte from the kernel decodes, nothing does not", [] {
       uint8_t one = 1;
       OptionOutput output;
       EXPECT(DecodeOption(Row("multicast_loop"), AF_INET, &one, 1, &output) == OptionStatus::kOk && output.integer == 1);
       EXPECT(DecodeOption(Row("multicast_loop"), AF_INET, &one, 0, &output) == OptionStatus::kBadValue);
     }},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--list") {
    for (const auto& [name, run] : kCases) std::printf("%s\n", name.c_str());
    return 0;
  }
  if (argc != 2 || kCases.count(argv[1]) == 0) {
    std::fprintf(stderr, "usage: codec_test --list | codec_test NAME\n");
    return 2;
  }
  try {
    kCases.at(argv[1])();
  } catch (const Failure& failure) {
    std::printf("%s\n", failure.what.c_str());
    return 1;
  }
  return 0;
}
