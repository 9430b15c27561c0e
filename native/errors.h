// errno → inet:posix() names, and the TransportError the facade defines.
#pragma once
#include <napi.h>
#include <string>

namespace abyss {

// Lowercase errno name as inet:posix() spells it ("eaddrinuse"); "unknown" if none.
const char* ErrnoName(int err);

// Builds a TransportError (the constructor the facade registered) for `reason`.
Napi::Error MakeError(Napi::Env env, const std::string& reason, const std::string& message,
                      const char* syscall = nullptr, int err = 0);

// A failed system call: reason is the errno name.
Napi::Error SysError(Napi::Env env, const std::string& operation, const char* syscall, int err);

Napi::Error BadArg(Napi::Env env, const std::string& operation, const std::string& what);

}  // namespace abyss
