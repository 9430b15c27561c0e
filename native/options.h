// The socket option table: name → where it lives for each family and what its value is.
// The table is exported to the TypeScript layer once (addon.cc), which validates values
// against it; encoding and decoding are pure functions of a row, so they can be fuzzed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace abyss {

// How a value is shaped on both sides. The numbering is shared with lib/protocol.ts.
enum class ValueKind : int {
  kBool,              // boolean ⇄ int 0/1
  kInt,               // integer within [min, max] ⇄ int
  kInterfaceName,     // string ⇄ device name (SO_BINDTODEVICE)
  kMtuDiscover,       // one of inet's mode names (the facade maps them) ⇄ int in [min, max]
  kMulticastIf,       // IPv4: interface address ⇄ in_addr; IPv6: interface index ⇄ int
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
  // An undo writes the old value here when it applies: a buffer once forced past
  // rmem_max/wmem_max can only be put back through SO_RCVBUFFORCE/SO_SNDBUFFORCE.
  OptionSite restore{};
  // On, it makes the kernel attach control messages to received datagrams.
  bool ancillary = false;
};

const std::vector<OptionRow>& OptionTable();
const OptionRow* FindOption(const std::string& name);

// Where a row lives on a socket of `family` (AF_INET, AF_INET6, AF_UNIX).
OptionSite SetSite(const OptionRow& row, int family);
OptionSite GetSite(const OptionRow& row, int family);

// A value as the facade hands it over, checked but not yet encoded.
struct OptionInput {
  int64_t integer = 0;
  std::string text;           // interface name, IPv4 interface address, group
  std::string interface_text; // membership interface (IPv4 address) when not an index
  int64_t interface_index = -1;
  std::string source;         // source membership
};

enum class OptionStatus { kOk, kBadValue, kNotForFamily };

// Encodes `input` for `row` on a socket of `family` into the bytes setsockopt takes.
OptionStatus EncodeOption(const OptionRow& row, int family, const OptionInput& input, std::vector<uint8_t>* out);

// What getsockopt returned, shaped as the facade receives it: text for the kinds that are
// text, else an integer (booleans 0/1, mtu modes by number).
struct OptionOutput {
  bool is_text = false;
  int64_t integer = 0;
  std::string text;
};

// The size of the buffer getsockopt needs for `row` on `family`.
size_t ReadSize(const OptionRow& row, int family);
OptionStatus DecodeOption(const OptionRow& row, int family, const uint8_t* data, size_t size, OptionOutput* out);

}  // namespace abyss
