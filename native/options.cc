#include "options.h"

#include <arpa/inet.h>
#include <linux/in6.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <cstring>

namespace abyss {

namespace {

constexpr OptionSite kNone{};
constexpr OptionSite Sock(int name) { return OptionSite{SOL_SOCKET, name}; }
constexpr OptionSite Ip(int name) { return OptionSite{IPPROTO_IP, name}; }
constexpr OptionSite Ip6(int name) { return OptionSite{IPPROTO_IPV6, name}; }
constexpr OptionSite Udp(int name) { return OptionSite{SOL_UDP, name}; }

OptionRow Row(const char* name, ValueKind kind, OptionSite inet, OptionSite inet6, OptionSite local,
              int64_t min = 0, int64_t max = 0) {
  OptionRow row{name, kind, inet, inet6, local, min, max};
  return row;
}

OptionRow Flag(const char* name, OptionSite inet, OptionSite inet6, OptionSite local = kNone) {
  return Row(name, ValueKind::kBool, inet, inet6, local);
}

OptionRow Number(const char* name, OptionSite inet, OptionSite inet6, OptionSite local, int64_t min, int64_t max) {
  return Row(name, ValueKind::kInt, inet, inet6, local, min, max);
}

OptionRow SetOnly(OptionRow row, const char* inverse) {
  row.readable = false;
  row.inverse = inverse;
  return row;
}

OptionRow Doubled(OptionRow row) {
  row.doubled = true;
  return row;
}

OptionRow Ancillary(OptionRow row) {
  row.ancillary = true;
  return row;
}

OptionRow RestoredThrough(OptionRow row, OptionSite restore) {
  row.restore = restore;
  return row;
}

OptionRow ReadAs(OptionRow row, OptionSite inet, OptionSite inet6, OptionSite local) {
  row.read_inet = inet;
  row.read_inet6 = inet6;
  row.read_local = local;
  return row;
}

constexpr int64_t kIntMax = 0x7fffffff;

std::vector<OptionRow> BuildTable() {
  return {
      // SOL_SOCKET options a unix socket has too, as gen_udp finds when it asks the kernel.
      Flag("broadcast", Sock(SO_BROADCAST), Sock(SO_BROADCAST), Sock(SO_BROADCAST)),
      RestoredThrough(Doubled(Number("recbuf", Sock(SO_RCVBUF), Sock(SO_RCVBUF), Sock(SO_RCVBUF), 1, kIntMax / 2)),
                      Sock(SO_RCVBUFFORCE)),
      RestoredThrough(Doubled(Number("sndbuf", Sock(SO_SNDBUF), Sock(SO_SNDBUF), Sock(SO_SNDBUF), 1, kIntMax / 2)),
                      Sock(SO_SNDBUFFORCE)),
      Flag("reuseaddr", Sock(SO_REUSEADDR), Sock(SO_REUSEADDR), Sock(SO_REUSEADDR)),
      Flag("reuseport", Sock(SO_REUSEPORT), Sock(SO_REUSEPORT), Sock(SO_REUSEPORT)),
      // Linux's SO_REUSEPORT already balances the load, as inet documents.
      Flag("reuseport_lb", Sock(SO_REUSEPORT), Sock(SO_REUSEPORT), Sock(SO_REUSEPORT)),
      Number("priority", Sock(SO_PRIORITY), Sock(SO_PRIORITY), Sock(SO_PRIORITY), 0, kIntMax),
      Number("tos", Ip(IP_TOS), Ip(IP_TOS), kNone, 0, 255),
      Number("tclass", kNone, Ip6(IPV6_TCLASS), kNone, -1, 255),
      Number("ttl", Ip(IP_TTL), Ip(IP_TTL), kNone, 1, 255),
      Ancillary(Flag("recvtos", Ip(IP_RECVTOS), Ip(IP_RECVTOS))),
      Ancillary(Flag("recvtclass", kNone, Ip6(IPV6_RECVTCLASS))),
      Ancillary(Flag("recvttl", Ip(IP_RECVTTL), Ip(IP_RECVTTL))),
      Flag("dontroute", Sock(SO_DONTROUTE), Sock(SO_DONTROUTE), Sock(SO_DONTROUTE)),
      Row("multicast_if", ValueKind::kMulticastIf, Ip(IP_MULTICAST_IF), Ip6(IPV6_MULTICAST_IF), kNone, 0, kIntMax),
      Flag("multicast_loop", Ip(IP_MULTICAST_LOOP), Ip6(IPV6_MULTICAST_LOOP)),
      // Off, a socket bound to the wildcard gets only the groups it joined itself (Linux's
      // default, on, delivers every group any socket of the host joined on that port).
      Flag("multicast_all", Ip(IP_MULTICAST_ALL), Ip6(IPV6_MULTICAST_ALL)),
      Number("multicast_ttl", Ip(IP_MULTICAST_TTL), Ip6(IPV6_MULTICAST_HOPS), kNone, 0, 255),
      SetOnly(Row("add_membership", ValueKind::kMembership, Ip(IP_ADD_MEMBERSHIP), Ip6(IPV6_ADD_MEMBERSHIP), kNone),
              "drop_membership"),
      SetOnly(Row("drop_membership", ValueKind::kMembership, Ip(IP_DROP_MEMBERSHIP), Ip6(IPV6_DROP_MEMBERSHIP), kNone),
              "add_membership"),
      SetOnly(Row("add_source_membership", ValueKind::kSourceMembership, Ip(IP_ADD_SOURCE_MEMBERSHIP),
                  Ip6(MCAST_JOIN_SOURCE_GROUP), kNone),
              "drop_source_membership"),
      SetOnly(Row("drop_source_membership", ValueKind::kSourceMembership, Ip(IP_DROP_SOURCE_MEMBERSHIP),
                  Ip6(MCAST_LEAVE_SOURCE_GROUP), kNone),
              "add_source_membership"),
      Flag("ipv6_v6only", kNone, Ip6(IPV6_V6ONLY)),
      Row("bind_to_device", ValueKind::kInterfaceName, Sock(SO_BINDTODEVICE), Sock(SO_BINDTODEVICE), kNone),
      Ancillary(Flag("pktinfo", Ip(IP_PKTINFO), Ip6(IPV6_RECVPKTINFO))),
      Ancillary(Flag("recvorigdstaddr", Ip(IP_RECVORIGDSTADDR), Ip6(IPV6_RECVORIGDSTADDR))),
      Ancillary(Flag("timestamp", Sock(SO_TIMESTAMPNS), Sock(SO_TIMESTAMPNS), Sock(SO_TIMESTAMPNS))),
      Ancillary(Flag("rxq_ovfl", Sock(SO_RXQ_OVFL), Sock(SO_RXQ_OVFL), Sock(SO_RXQ_OVFL))),
      Ancillary(Flag("gro", Udp(UDP_GRO), Udp(UDP_GRO))),
      Number("segment", Udp(UDP_SEGMENT), Udp(UDP_SEGMENT), kNone, 0, 65535),
      Flag("recverr", Ip(IP_RECVERR), Ip6(IPV6_RECVERR)),
      // IP_PMTUDISC_DONT (0) to IP_PMTUDISC_OMIT (5), the same numbers for IPv6.
      Row("mtu_discover", ValueKind::kMtuDiscover, Ip(IP_MTU_DISCOVER), Ip6(IPV6_MTU_DISCOVER), kNone, 0, 5),
      Flag("freebind", Ip(IP_FREEBIND), Ip6(IPV6_FREEBIND)),
      Flag("transparent", Ip(IP_TRANSPARENT), Ip6(IPV6_TRANSPARENT)),
      Number("mark", Sock(SO_MARK), Sock(SO_MARK), Sock(SO_MARK), 0, 0xffffffffLL),
      Number("busy_poll", Sock(SO_BUSY_POLL), Sock(SO_BUSY_POLL), kNone, 0, kIntMax),
      Number("incoming_cpu", Sock(SO_INCOMING_CPU), Sock(SO_INCOMING_CPU), Sock(SO_INCOMING_CPU), -1, kIntMax),
      RestoredThrough(
          Doubled(ReadAs(Number("rcvbufforce", Sock(SO_RCVBUFFORCE), Sock(SO_RCVBUFFORCE), Sock(SO_RCVBUFFORCE), 1, kIntMax / 2),
                         Sock(SO_RCVBUF), Sock(SO_RCVBUF), Sock(SO_RCVBUF))),
          Sock(SO_RCVBUFFORCE)),
      RestoredThrough(
          Doubled(ReadAs(Number("sndbufforce", Sock(SO_SNDBUFFORCE), Sock(SO_SNDBUFFORCE), Sock(SO_SNDBUFFORCE), 1, kIntMax / 2),
                         Sock(SO_SNDBUF), Sock(SO_SNDBUF), Sock(SO_SNDBUF))),
          Sock(SO_SNDBUFFORCE)),
      Ancillary(Flag("recvhoplimit", kNone, Ip6(IPV6_RECVHOPLIMIT))),
      Number("unicast_hops", kNone, Ip6(IPV6_UNICAST_HOPS), kNone, -1, 255),
      Number("multicast_hops", kNone, Ip6(IPV6_MULTICAST_HOPS), kNone, -1, 255),
  };
}

template <typename T>
void PutBytes(const T& value, std::vector<uint8_t>* out) {
  out->resize(sizeof(T));
  std::memcpy(out->data(), &value, sizeof(T));
}

bool ParseV4(const std::string& text, in_addr* out) { return inet_pton(AF_INET, text.c_str(), out) == 1; }
bool ParseV6(const std::string& text, in6_addr* out) { return inet_pton(AF_INET6, text.c_str(), out) == 1; }

OptionStatus EncodeMembership(const OptionRow& row, int family, const OptionInput& input,
                              std::vector<uint8_t>* out) {
  const bool with_source = row.kind == ValueKind::kSourceMembership;
  if (family == AF_INET) {
    in_addr group, interface, source;
    if (!ParseV4(input.text, &group) || !ParseV4(input.interface_text, &interface)) return OptionStatus::kBadValue;
    if (!with_source) {
      PutBytes(ip_mreq{group, interface}, out);
      return OptionStatus::kOk;
    }
    if (!ParseV4(input.source, &source)) return OptionStatus::kBadValue;
    ip_mreq_source request{};
    request.imr_multiaddr = group;
    request.imr_interface = interface;
    request.imr_sourceaddr = source;
    PutBytes(request, out);
    return OptionStatus::kOk;
  }
  in6_addr group6;
  if (!ParseV6(input.text, &group6) || input.interface_index < 0 || input.interface_index > kIntMax) {
    return OptionStatus::kBadValue;
  }
  if (!with_source) {
    ipv6_mreq request{};
    request.ipv6mr_multiaddr = group6;
    request.ipv6mr_interface = static_cast<int>(input.interface_index);
    PutBytes(request, out);
    return OptionStatus::kOk;
  }
  in6_addr source6;
  if (!ParseV6(input.source, &source6)) return OptionStatus::kBadValue;
  group_source_req request{};
  request.gsr_interface = static_cast<uint32_t>(input.interface_index);
  auto* group_address = reinterpret_cast<sockaddr_in6*>(&request.gsr_group);
  group_address->sin6_family = AF_INET6;
  group_address->sin6_addr = group6;
  auto* source_address = reinterpret_cast<sockaddr_in6*>(&request.gsr_source);
  source_address->sin6_family = AF_INET6;
  source_address->sin6_addr = source6;
  PutBytes(request, out);
  return OptionStatus::kOk;
}

}  // namespace

const std::vector<OptionRow>& OptionTable() {
  static const std::vector<OptionRow> table = BuildTable();
  return table;
}

const OptionRow* FindOption(const std::string& name) {
  for (const OptionRow& row : OptionTable()) {
    if (name == row.name) return &row;
  }
  return nullptr;
}

OptionSite SetSite(const OptionRow& row, int family) {
  switch (family) {
    case AF_INET: return row.inet;
    case AF_INET6: return row.inet6;
    case AF_UNIX: return row.local;
    default: return kNone;
  }
}

OptionSite GetSite(const OptionRow& row, int family) {
  if (!row.readable) return kNone;
  OptionSite read = family == AF_INET ? row.read_inet : family == AF_INET6 ? row.read_inet6 : row.read_local;
  return read.applies() ? read : SetSite(row, family);
}

OptionStatus EncodeOption(const OptionRow& row, int family, const OptionInput& input, std::vector<uint8_t>* out) {
  out->clear();
  if (!SetSite(row, family).applies()) return OptionStatus::kNotForFamily;
  switch (row.kind) {
    case ValueKind::kBool:
      PutBytes(static_cast<int>(input.integer != 0), out);
      return OptionStatus::kOk;
    case ValueKind::kInt:
    case ValueKind::kMtuDiscover:
      if (input.integer < row.min || input.integer > row.max) return OptionStatus::kBadValue;
      PutBytes(static_cast<int>(static_cast<uint32_t>(input.integer)), out);
      return OptionStatus::kOk;
    case ValueKind::kInterfaceName:
      if (input.text.size() >= IFNAMSIZ || input.text.find('\0') != std::string::npos) return OptionStatus::kBadValue;
      out->assign(input.text.begin(), input.text.end());
      return OptionStatus::kOk;
    case ValueKind::kMulticastIf:
      if (family == AF_INET) {
        in_addr interface;
        if (!ParseV4(input.text, &interface)) return OptionStatus::kBadValue;
        PutBytes(interface, out);
        return OptionStatus::kOk;
      }
      if (input.integer < 0 || input.integer > row.max) return OptionStatus::kBadValue;
      PutBytes(static_cast<int>(input.integer), out);
      return OptionStatus::kOk;
    case ValueKind::kMembership:
    case ValueKind::kSourceMembership:
      return EncodeMembership(row, family, input, out);
  }
  return OptionStatus::kBadValue;
}

size_t ReadSize(const OptionRow& row, int family) {
  if (row.kind == ValueKind::kInterfaceName) return IFNAMSIZ;
  if (row.kind == ValueKind::kMulticastIf && family == AF_INET) return sizeof(in_addr);
  return sizeof(int);
}

OptionStatus DecodeOption(const OptionRow& row, int family, const uint8_t* data, size_t size, OptionOutput* out) {
  *out = OptionOutput{};
  if (row.kind == ValueKind::kInterfaceName) {
    out->is_text = true;
    if (size > 0) out->text.assign(reinterpret_cast<const char*>(data), strnlen(reinterpret_cast<const char*>(data), size));
    return OptionStatus::kOk;
  }
  if (row.kind == ValueKind::kMulticastIf && family == AF_INET) {
    if (size < sizeof(in_addr)) return OptionStatus::kBadValue;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, data, text, sizeof(text));
    out->is_text = true;
    out->text = text;
    return OptionStatus::kOk;
  }
  // Some IPv4 options answer with a single byte when asked for less than an int.
  int value = 0;
  if (size >= sizeof(int)) {
    std::memcpy(&value, data, sizeof(int));
  } else if (size >= 1) {
    value = data[0];
  } else {
    return OptionStatus::kBadValue;
  }
  switch (row.kind) {
    case ValueKind::kBool:
      out->integer = value != 0;
      return OptionStatus::kOk;
    case ValueKind::kMtuDiscover:
      if (value < row.min || value > row.max) return OptionStatus::kBadValue;
      out->integer = value;
      return OptionStatus::kOk;
    default:
      out->integer = row.max > kIntMax ? static_cast<int64_t>(static_cast<uint32_t>(value)) : value;
      return OptionStatus::kOk;
  }
}

}  // namespace abyss
