// Socket addresses: text ⇄ sockaddr. No JavaScript here.
#pragma once
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <cstdint>
#include <string>

namespace abyss {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

// `text` is an IPv4 or IPv6 literal (IPv6 may carry "%scope", a name or an index).
// family AF_INET6 maps an IPv4 literal to ::ffff:a.b.c.d; AF_UNSPEC picks by the text.
bool ParseIp(const std::string& text, uint16_t port, int family, SocketAddress* out);

// A unix datagram path; a leading NUL names the abstract namespace, an empty one lets the
// kernel pick an abstract name. False when too long.
bool MakeLocal(const std::string& path, SocketAddress* out);

// IP text of an AF_INET/AF_INET6 address ("fe80::1%eth0" for scoped ones); "" otherwise.
std::string FormatIp(const sockaddr* address);
uint16_t PortOf(const sockaddr* address);
// The path of an AF_UNIX address of `length` bytes ("" when unnamed).
std::string LocalPath(const sockaddr_un* address, socklen_t length);

}  // namespace abyss
