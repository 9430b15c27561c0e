// libFuzzer: address text ⇄ sockaddr on arbitrary strings; what parses formats and parses back.
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "../native/address.h"

using namespace abyss;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
  const int family = families[input.ConsumeIntegralInRange<int>(0, 2)];
  const uint16_t port = input.ConsumeIntegral<uint16_t>();
  std::string text = input.ConsumeRandomLengthString(128);
  SocketAddress parsed;
  if (ParseIp(text, port, family, &parsed)) {
    if (PortOf(parsed.get()) != port) abort();
    std::string formatted = FormatIp(parsed.get());
    SocketAddress again;
    if (!ParseIp(formatted, port, parsed.family(), &again)) abort();
    if (again.length != parsed.length || std::memcmp(&again.storage, &parsed.storage, parsed.length) != 0) abort();
  }
  std::string path = input.ConsumeRemainingBytesAsString();
  SocketAddress local;
  if (MakeLocal(path, &local)) {
    std::string back = LocalPath(reinterpret_cast<const sockaddr_un*>(local.get()), local.length);
    if (!path.empty() && back != path) abort();
  }
  return 0;
}
