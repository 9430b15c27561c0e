#include "cmsg.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <cstring>

namespace abyss {

namespace {

template <typename T>
bool ReadAs(const uint8_t* data, size_t size, T* out) {
  if (size < sizeof(T)) return false;
  std::memcpy(out, data, sizeof(T));
  return true;
}

// IP_TOS arrives as one byte, IP_TTL and the IPv6 ones as an int.
bool ReadSmallInt(const uint8_t* data, size_t size, int* out) {
  if (size >= sizeof(int)) return ReadAs(data, size, out);
  if (size >= 1) {
    *out = data[0];
    return true;
  }
  return false;
}

void StoreV4(const in_addr& address, sockaddr_storage* out) {
  auto* sin = reinterpret_cast<sockaddr_in*>(out);
  std::memset(out, 0, sizeof(*out));
  sin->sin_family = AF_INET;
  sin->sin_addr = address;
}

void StoreV6(const in6_addr& address, uint32_t scope, sockaddr_storage* out) {
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  std::memset(out, 0, sizeof(*out));
  sin6->sin6_family = AF_INET6;
  sin6->sin6_addr = address;
  sin6->sin6_scope_id = scope;
}

bool ReadSockaddr(const uint8_t* data, size_t size, sockaddr_storage* out) {
  sa_family_t family;
  if (!ReadAs(data, size, &family)) return false;
  size_t needed = family == AF_INET ? sizeof(sockaddr_in) : family == AF_INET6 ? sizeof(sockaddr_in6) : 0;
  if (needed == 0 || size < needed) return false;
  std::memset(out, 0, sizeof(*out));
  std::memcpy(out, data, needed);
  return true;
}

bool DecodeExtendedError(const uint8_t* data, size_t size, ReceivedAncillary* out) {
  if (!ReadAs(data, size, &out->error)) return false;
  out->present |= kExtendedError;
  // SO_EE_OFFENDER: the sockaddr that follows the structure.
  if (ReadSockaddr(data + sizeof(sock_extended_err), size - sizeof(sock_extended_err), &out->offender) &&
      out->offender.ss_family != AF_UNSPEC) {
    out->present |= kErrorOffender;
  }
  return true;
}

bool DecodeOne(int level, int type, const uint8_t* data, size_t size, ReceivedAncillary* out) {
  switch (level) {
    case SOL_SOCKET:
      if (type == SO_TIMESTAMPNS) {
        struct timespec ts;
        if (!ReadAs(data, size, &ts)) return false;
        out->timestamp_sec = ts.tv_sec;
        out->timestamp_nsec = ts.tv_nsec;
        out->present |= kTimestamp;
      } else if (type == SO_RXQ_OVFL) {
        if (!ReadAs(data, size, &out->dropped)) return false;
        out->present |= kDropped;
      }
      return true;
    case IPPROTO_IP:
      if (type == IP_TOS) {
        if (!ReadSmallInt(data, size, &out->tos)) return false;
        out->tos &= 0xff;
        out->present |= kTos;
      } else if (type == IP_TTL) {
        if (!ReadSmallInt(data, size, &out->ttl)) return false;
        out->present |= kTtl;
      } else if (type == IP_PKTINFO) {
        in_pktinfo info;
        if (!ReadAs(data, size, &info)) return false;
        StoreV4(info.ipi_addr, &out->pktinfo_address);
        StoreV4(info.ipi_spec_dst, &out->pktinfo_spec_dst);
        out->has_spec_dst = true;
        out->pktinfo_ifindex = static_cast<uint32_t>(info.ipi_ifindex);
        out->present |= kPktinfo;
      } else if (type == IP_ORIGDSTADDR) {
        if (!ReadSockaddr(data, size, &out->orig_dst)) return false;
        out->present |= kOrigDstAddr;
      } else if (type == IP_RECVERR) {
        return DecodeExtendedError(data, size, out);
      }
      return true;
    case IPPROTO_IPV6:
      if (type == IPV6_TCLASS) {
        if (!ReadSmallInt(data, size, &out->tclass)) return false;
        out->present |= kTclass;
      } else if (type == IPV6_HOPLIMIT) {
        if (!ReadSmallInt(data, size, &out->hoplimit)) return false;
        out->present |= kHoplimit;
      } else if (type == IPV6_PKTINFO) {
        in6_pktinfo info;
        if (!ReadAs(data, size, &info)) return false;
        StoreV6(info.ipi6_addr, 0, &out->pktinfo_address);
        out->has_spec_dst = false;
        out->pktinfo_ifindex = info.ipi6_ifindex;
        out->present |= kPktinfo;
      } else if (type == IPV6_ORIGDSTADDR) {
        if (!ReadSockaddr(data, size, &out->orig_dst)) return false;
        out->present |= kOrigDstAddr;
      } else if (type == IPV6_RECVERR) {
        return DecodeExtendedError(data, size, out);
      }
      return true;
    case IPPROTO_UDP:
      if (type == UDP_GRO) {
        if (!ReadSmallInt(data, size, &out->segment_size)) return false;
        out->present |= kSegmentSize;
      }
      return true;
    default:
      return true;
  }
}

constexpr size_t Align(size_t length) { return (length + sizeof(size_t) - 1) & ~(sizeof(size_t) - 1); }

// Calls visit(level, type, data, size) for each control message; false when the buffer is
// cut or malformed (the messages before the fault were visited).
template <typename Visit>
bool ForEachMessage(const uint8_t* control, size_t length, Visit visit) {
  const size_t header = Align(sizeof(cmsghdr));
  size_t offset = 0;
  while (offset + sizeof(cmsghdr) <= length) {
    cmsghdr message;
    std::memcpy(&message, control + offset, sizeof(message));
    if (message.cmsg_len < header || message.cmsg_len > length - offset) return false;
    visit(message.cmsg_level, message.cmsg_type, control + offset + header, message.cmsg_len - header);
    size_t step = Align(message.cmsg_len);
    if (step > length - offset) return true;
    offset += step;
  }
  // Bytes left over that cannot hold a header: the buffer was cut.
  return offset == length;
}

}  // namespace

void DecodeAncillary(const uint8_t* control, size_t length, ReceivedAncillary* out) {
  bool whole = ForEachMessage(control, length, [out](int level, int type, const uint8_t* data, size_t size) {
    if (!DecodeOne(level, type, data, size, out)) out->present |= kMalformed;
  });
  if (!whole) out->present |= kMalformed;
}

size_t PassedDescriptors(const uint8_t* control, size_t length, int* out, size_t capacity) {
  size_t count = 0;
  ForEachMessage(control, length, [&](int level, int type, const uint8_t* data, size_t size) {
    if (level != SOL_SOCKET || type != SCM_RIGHTS) return;
    for (size_t at = 0; at + sizeof(int) <= size && count < capacity; at += sizeof(int)) {
      std::memcpy(&out[count++], data + at, sizeof(int));
    }
  });
  return count;
}

namespace {

class ControlWriter {
 public:
  ControlWriter(uint8_t* buffer, size_t capacity) : buffer_(buffer), capacity_(capacity) {}

  template <typename T>
  bool Put(int level, int type, const T& value) {
    size_t space = CMSG_SPACE(sizeof(T));
    if (space > capacity_ - used_) return false;
    std::memset(buffer_ + used_, 0, space);
    cmsghdr message{};
    message.cmsg_len = CMSG_LEN(sizeof(T));
    message.cmsg_level = level;
    message.cmsg_type = type;
    std::memcpy(buffer_ + used_, &message, sizeof(message));
    std::memcpy(buffer_ + used_ + CMSG_LEN(0), &value, sizeof(T));
    used_ += space;
    return true;
  }

  size_t used() const { return used_; }

 private:
  uint8_t* buffer_;
  size_t capacity_;
  size_t used_ = 0;
};

bool InRange(int value, int low, int high) { return value >= low && value <= high; }

}  // namespace

EncodeResult EncodeAncillary(const SendAncillary& in, int family, uint8_t* buffer, size_t capacity,
                             size_t* written) {
  *written = 0;
  const bool v6 = family == AF_INET6;
  if (!v6 && family != AF_INET) return in.present == 0 ? EncodeResult::kOk : EncodeResult::kWrongFamily;
  if ((in.present & (kSendTclass | kSendHoplimit)) && !v6) return EncodeResult::kWrongFamily;
  if ((in.present & (kSendTos | kSendTtl)) && v6) return EncodeResult::kWrongFamily;
  if ((in.present & kSendTos) && !InRange(in.tos, 0, 255)) return EncodeResult::kOutOfRange;
  if ((in.present & kSendTtl) && !InRange(in.ttl, 1, 255)) return EncodeResult::kOutOfRange;
  if ((in.present & kSendTclass) && !InRange(in.tclass, -1, 255)) return EncodeResult::kOutOfRange;
  if ((in.present & kSendHoplimit) && !InRange(in.hoplimit, -1, 255)) return EncodeResult::kOutOfRange;
  if ((in.present & kSendSegmentSize) && !InRange(in.segment_size, 1, 65535)) return EncodeResult::kOutOfRange;
  if ((in.present & kSendPktinfoAddress) && in.pktinfo_address.ss_family != family) {
    return EncodeResult::kWrongFamily;
  }

  ControlWriter writer(buffer, capacity);
  bool ok = true;
  if (in.present & kSendTos) ok = ok && writer.Put(IPPROTO_IP, IP_TOS, in.tos);
  if (in.present & kSendTtl) ok = ok && writer.Put(IPPROTO_IP, IP_TTL, in.ttl);
  if (in.present & kSendTclass) ok = ok && writer.Put(IPPROTO_IPV6, IPV6_TCLASS, in.tclass);
  if (in.present & kSendHoplimit) ok = ok && writer.Put(IPPROTO_IPV6, IPV6_HOPLIMIT, in.hoplimit);
  if (in.present & (kSendPktinfoAddress | kSendPktinfoIfindex)) {
    if (v6) {
      in6_pktinfo info{};
      if (in.present & kSendPktinfoAddress) {
        info.ipi6_addr = reinterpret_cast<const sockaddr_in6*>(&in.pktinfo_address)->sin6_addr;
      }
      info.ipi6_ifindex = in.pktinfo_ifindex;
      ok = ok && writer.Put(IPPROTO_IPV6, IPV6_PKTINFO, info);
    } else {
      in_pktinfo info{};
      if (in.present & kSendPktinfoAddress) {
        // The source address to use is ipi_spec_dst; ipi_addr is ignored on send.
        info.ipi_spec_dst = reinterpret_cast<const sockaddr_in*>(&in.pktinfo_address)->sin_addr;
      }
      info.ipi_ifindex = static_cast<int>(in.pktinfo_ifindex);
      ok = ok && writer.Put(IPPROTO_IP, IP_PKTINFO, info);
    }
  }
  if (in.present & kSendSegmentSize) {
    uint16_t size = static_cast<uint16_t>(in.segment_size);
    ok = ok && writer.Put(IPPROTO_UDP, UDP_SEGMENT, size);
  }
  if (!ok) return EncodeResult::kNoRoom;
  *written = writer.used();
  return EncodeResult::kOk;
}

}  // namespace abyss
