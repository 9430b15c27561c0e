// Reading the plain values the facade passes (protocol.h): strings and typed arrays only,
// never an object's properties, so nothing read here can run JavaScript.
#pragma once
#include <node_api.h>
#include <sys/uio.h>

#include <string>

namespace abyss {

// A string argument's UTF-8; "" for anything else.
std::string StringValue(napi_env env, napi_value value);

// A Uint8Array's memory into `*out`; false for anything else.
bool BytesOf(napi_env env, napi_value value, iovec* out);

// Element `index` of an array the facade built into `*out`. Only a runtime that refuses calls
// (a thread being terminated) makes it fail: then false, and a checked build verifies that
// this was the reason.
bool ElementOf(napi_env env, napi_value array, uint32_t index, napi_value* out);

}  // namespace abyss
