#include "address.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace abyss {

namespace {

bool ParseScope(const std::string& scope, uint32_t* index) {
  if (scope.empty()) return false;
  char* end = nullptr;
  unsigned long number = std::strtoul(scope.c_str(), &end, 10);
  if (*end == '\0' && number <= UINT32_MAX) {
    *index = static_cast<uint32_t>(number);
    return true;
  }
  *index = if_nametoindex(scope.c_str());
  return *index != 0;
}

}  // namespace

bool ParseIp(const std::string& text, uint16_t port, int family, SocketAddress* out) {
  *out = SocketAddress{};
  if (text.size() >= INET6_ADDRSTRLEN + IF_NAMESIZE || text.find('\0') != std::string::npos) return false;
  in_addr v4{};
  if (family != AF_INET6 && inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out->storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr = v4;
    out->length = sizeof(sockaddr_in);
    return true;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out->storage);
  if (family == AF_INET6 && inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    sin6->sin6_addr.s6_addr[10] = 0xff;
    sin6->sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&sin6->sin6_addr.s6_addr[12], &v4, 4);
    out->length = sizeof(sockaddr_in6);
    return true;
  }
  if (family == AF_INET) return false;
  std::string host = text;
  uint32_t scope = 0;
  size_t percent = text.find('%');
  if (percent != std::string::npos) {
    host = text.substr(0, percent);
    if (!ParseScope(text.substr(percent + 1), &scope)) return false;
  }
  if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) return false;
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  sin6->sin6_scope_id = scope;
  out->length = sizeof(sockaddr_in6);
  return true;
}

bool MakeLocal(const std::string& path, SocketAddress* out) {
  *out = SocketAddress{};
  auto* sun = reinterpret_cast<sockaddr_un*>(&out->storage);
  bool abstract = !path.empty() && path[0] == '\0';
  // A filesystem path needs its terminating NUL inside sun_path; an abstract name does not.
  if (path.size() > sizeof(sun->sun_path) - (abstract ? 0 : 1)) return false;
  if (!abstract && path.find('\0') != std::string::npos) return false;
  sun->sun_family = AF_UNIX;
  std::memcpy(sun->sun_path, path.data(), path.size());
  // An empty path asks the kernel to pick an abstract name (autobind).
  out->length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract || path.empty() ? 0 : 1));
  return true;
}

std::string FormatIp(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  if (address->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
    return text;
  }
  if (address->sa_family != AF_INET6) return "";
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(address);
  inet_ntop(AF_INET6, &sin6->sin6_addr, text, INET6_ADDRSTRLEN);
  std::string result = text;
  if (sin6->sin6_scope_id != 0) {
    char name[IF_NAMESIZE];
    result += '%';
    result += if_indextoname(sin6->sin6_scope_id, name) != nullptr ? std::string(name)
                                                                   : std::to_string(sin6->sin6_scope_id);
  }
  return result;
}

uint16_t PortOf(const sockaddr* address) {
  if (address->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port);
  if (address->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(address)->sin6_port);
  return 0;
}

std::string LocalPath(const sockaddr_un* address, socklen_t length) {
  size_t offset = offsetof(sockaddr_un, sun_path);
  if (length <= offset) return "";
  size_t size = length - offset;
  if (size > sizeof(address->sun_path)) size = sizeof(address->sun_path);
  if (address->sun_path[0] == '\0') return std::string(address->sun_path, size);
  return std::string(address->sun_path, strnlen(address->sun_path, size));
}

}  // namespace abyss
