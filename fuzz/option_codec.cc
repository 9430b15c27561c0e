// libFuzzer: EncodeOption over every row and family with fuzzed inputs, DecodeOption on
// arbitrary bytes; integers and booleans survive a round trip.
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/socket.h>

#include <cstdlib>
#include <vector>

#include "../native/options.h"

using namespace abyss;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const auto& table = OptionTable();
  const OptionRow& row = table[input.ConsumeIntegralInRange<size_t>(0, table.size() - 1)];
  const int families[] = {AF_INET, AF_INET6, AF_UNIX};
  const int family = families[input.ConsumeIntegralInRange<int>(0, 2)];

  OptionInput value;
  value.integer = input.ConsumeIntegral<int64_t>();
  value.interface_index = input.ConsumeIntegral<int64_t>();
  value.text = input.ConsumeRandomLengthString(64);
  value.interface_text = input.ConsumeRandomLengthString(64);
  value.source = input.ConsumeRandomLengthString(64);
  std::vector<uint8_t> encoded;
  OptionStatus status = EncodeOption(row, family, value, &encoded);
  if (status == OptionStatus::kOk && row.readable && encoded.size() == sizeof(int) &&
      (row.kind == ValueKind::kInt || row.kind == ValueKind::kBool)) {
    OptionOutput output;
    if (DecodeOption(row, family, encoded.data(), encoded.size(), &output) != OptionStatus::kOk) abort();
    int64_t expected = row.kind == ValueKind::kBool ? (value.integer != 0) : value.integer;
    if (output.integer != expected) abort();
  }

  std::vector<uint8_t> raw = input.ConsumeRemainingBytes<uint8_t>();
  OptionOutput output;
  DecodeOption(row, family, raw.data(), raw.size(), &output);
  return 0;
}
