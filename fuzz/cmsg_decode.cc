// libFuzzer: DecodeAncillary and PassedDescriptors on arbitrary control buffers and lengths,
// cut ones included.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../native/cmsg.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exactly sized heap copy: any read past the end is a read past the allocation.
  std::vector<uint8_t> control(data, data + size);
  abyss::ReceivedAncillary out;
  abyss::DecodeAncillary(control.data(), control.size(), &out);
  // Decoding a prefix never yields a field the whole buffer does not have.
  for (size_t cut = 0; cut < size; cut += 1 + size / 8) {
    std::vector<uint8_t> prefix(data, data + cut);
    abyss::ReceivedAncillary partial;
    abyss::DecodeAncillary(prefix.data(), prefix.size(), &partial);
    if ((partial.present & ~abyss::kMalformed & ~out.present) != 0) abort();
  }
  // Descriptors: never more than the capacity, never more than the buffer could hold.
  int passed[16];
  size_t count = abyss::PassedDescriptors(control.data(), control.size(), passed, 16);
  if (count > 16 || count * sizeof(int) > size) abort();
  return 0;
}
