// The facade's promises to the native side (protocol.h): arguments checked, the socket open
// and owned by the calling thread. A broken one is a bug in the facade, never the user's: a
// checked build (ABYSS_CHECKED, which .ci/sanitize.sh and debug builds define) stops at once
// and names it; a release build answers the call with an error (EBADF, EINVAL) instead of
// touching anything.
#pragma once
#include <node_api.h>

#include <cstdio>
#include <cstdlib>

namespace abyss {

inline bool Expect(bool condition, const char* what, const char* file, int line) {
#ifdef ABYSS_CHECKED
  if (!condition) {
    std::fprintf(stderr, "abyss-transport: the facade broke a precondition: %s (%s:%d)\n", what, file, line);
    std::abort();
  }
#else
  (void)what;
  (void)file;
  (void)line;
#endif
  return condition;
}

// Whether the N-API call that just failed was refused rather than given bad values: while a
// worker is being terminated, every call that could run JavaScript (reading an array element)
// answers napi_pending_exception. Reading the facade's arguments fails then through no bug.
inline bool RuntimeRefused(napi_env env) {
  const napi_extended_error_info* info = nullptr;
  return napi_get_last_error_info(env, &info) == napi_ok && info->error_code == napi_pending_exception;
}

}  // namespace abyss

// True when `condition` holds; stops a checked build when it does not.
#define ABYSS_EXPECT(condition) ::abyss::Expect((condition), #condition, __FILE__, __LINE__)
