#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into fuzz/bin.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p bin
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
clang++ "${flags[@]}" cmsg_decode.cc ../native/cmsg.cc -o bin/cmsg_decode
clang++ "${flags[@]}" send_encode.cc ../native/cmsg.cc -o bin/send_encode
clang++ "${flags[@]}" option_codec.cc ../native/options.cc -o bin/option_codec
clang++ "${flags[@]}" address_parse.cc ../native/address.cc -o bin/address_parse
clang++ "${flags[@]}" segments.cc ../native/segments.cc -o bin/segments
clang++ "${flags[@]}" coalesce.cc -o bin/coalesce
