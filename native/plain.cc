#include "plain.h"

#include "checks.h"

namespace abyss {

std::string StringValue(napi_env env, napi_value value) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) return {};
  std::string text(length, '\0');
  napi_get_value_string_utf8(env, value, text.data(), length + 1, &length);
  text.resize(length);
  return text;
}

bool BytesOf(napi_env env, napi_value value, iovec* out) {
  bool typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_is_typedarray(env, value, &typed) != napi_ok || !typed ||
      napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    return false;
  }
  *out = {data, length};
  return true;
}

bool ElementOf(napi_env env, napi_value array, uint32_t index, napi_value* out) {
  if (napi_get_element(env, array, index, out) == napi_ok) return true;
  // Read at once: any N-API call that succeeds clears the last error.
  ABYSS_EXPECT(RuntimeRefused(env));
  return false;
}

}  // namespace abyss
