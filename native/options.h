// The socket option table: name → where it lives for each family and what its value is.
// Encoding and decoding of values are pure functions of a row, so they can be fuzzed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace abyss {

enum class ValueKind {
  kBool,              // boolean ⇄ int 0/1
  kInt,               // integer within [min, max] ⇄ int
  kInterfaceName,     // string ⇄ device name (SO_BINDTODEVICE)
  kMtuDiscover,       // 'dont' | 'want' | 'do' | 'probe' | 'interface' | 'omit' ⇄ int
  kMulticastIf,       // IPv4: interface address string ⇄ in_addr; IPv6: ifindex ⇄ int
  kMembership,        // [group, interface]: IPv4 ip_mreq, IPv6 ipv6_mreq (set only)
  kSourceMembership,  // [group, interface, source]: ip_mreq_source / group_source_req (set only)
};

struct OptionSite {
  int level = -1;  // -1: the option does not apply to this family
  int name = 0;
  bool applies() const { return level >= 0; }
};

struct OptionRow {
  const char* name;
  ValueKind kind;
  OptionSite inet;
  OptionSite inet6;
  OptionSite local;
  int64_t min = 0;
  int64_t max = 0;
  // Where getopts reads it back when that differs from where it is set
  // (rcvbufforce is read as SO_RCVBUF); level -1 with `readable` false: set only.
  bool readable = true;
  OptionSite read_inet{};
  OptionSite read_inet6{};
  OptionSite read_local{};
  // Undoes a set-only option when a later one of the same setopts fails.
  const char* inverse = nullptr;
  // The kernel reports twice what was set (SO_RCVBUF and friends): an undo writes half.
  bool doubled = false;
};

const OptionRow* FindOption(const std::string& name);
const std::vector<OptionRow>& OptionTable();

// Where a row lives on a socket of `family` (AF_INET, AF_INET6, AF_UNIX).
OptionSite SetSite(const OptionRow& row, int family);
OptionSite GetSite(const OptionRow& row, int family);

// A value as the facade hands it over, shape-checked but not yet encoded.
struct OptionInput {
  int64_t integer = 0;
  std::string text;           // interface name, mtu mode, IPv4 interface address, group
  std::string interface_text; // membership interface (IPv4 address) when not an index
  int64_t interface_index = -1;
  std::string source;         // source membership
};

enum class OptionStatus { kOk, kBadValue, kNotForFamily };

// Encodes `input` for `row` on a socket of `family` into the bytes setsockopt takes.
OptionStatus EncodeOption(const OptionRow& row, int family, const OptionInput& input, std::vector<uint8_t>* out);

// What getsockopt returned, shaped as the facade shows it.
struct OptionOutput {
  enum class Type { kBool, kInt, kText } type = Type::kInt;
  int64_t integer = 0;
  std::string text;
};

// The size of the buffer getsockopt needs for `row` on `family`.
size_t ReadSize(const OptionRow& row, int family);
OptionStatus DecodeOption(const OptionRow& row, int family, const uint8_t* data, size_t size, OptionOutput* out);

}  // namespace abyss
