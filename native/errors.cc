#include "errors.h"

#include <cerrno>
#include <cstring>

#include "environment.h"

namespace abyss {

const char* ErrnoName(int err) {
  switch (err) {
#define ABYSS_ERRNO(name, text) case name: return text;
    ABYSS_ERRNO(EPERM, "eperm") ABYSS_ERRNO(ENOENT, "enoent") ABYSS_ERRNO(ESRCH, "esrch")
    ABYSS_ERRNO(EINTR, "eintr") ABYSS_ERRNO(EIO, "eio") ABYSS_ERRNO(ENXIO, "enxio")
    ABYSS_ERRNO(E2BIG, "e2big") ABYSS_ERRNO(EBADF, "ebadf") ABYSS_ERRNO(EAGAIN, "eagain")
    ABYSS_ERRNO(ENOMEM, "enomem") ABYSS_ERRNO(EACCES, "eacces") ABYSS_ERRNO(EFAULT, "efault")
    ABYSS_ERRNO(EBUSY, "ebusy") ABYSS_ERRNO(EEXIST, "eexist") ABYSS_ERRNO(ENODEV, "enodev")
    ABYSS_ERRNO(ENOTDIR, "enotdir") ABYSS_ERRNO(EISDIR, "eisdir") ABYSS_ERRNO(EINVAL, "einval")
    ABYSS_ERRNO(ENFILE, "enfile") ABYSS_ERRNO(EMFILE, "emfile") ABYSS_ERRNO(ENOSPC, "enospc")
    ABYSS_ERRNO(EROFS, "erofs") ABYSS_ERRNO(EPIPE, "epipe") ABYSS_ERRNO(ERANGE, "erange")
    ABYSS_ERRNO(ENAMETOOLONG, "enametoolong") ABYSS_ERRNO(ENOSYS, "enosys")
    ABYSS_ERRNO(ELOOP, "eloop") ABYSS_ERRNO(ENOPROTOOPT, "enoprotoopt")
    ABYSS_ERRNO(ENONET, "enonet") ABYSS_ERRNO(EPROTO, "eproto")
    ABYSS_ERRNO(ENOTSOCK, "enotsock") ABYSS_ERRNO(EDESTADDRREQ, "edestaddrreq")
    ABYSS_ERRNO(EMSGSIZE, "emsgsize") ABYSS_ERRNO(EPROTOTYPE, "eprototype")
    ABYSS_ERRNO(EPROTONOSUPPORT, "eprotonosupport") ABYSS_ERRNO(ESOCKTNOSUPPORT, "esocktnosupport")
    ABYSS_ERRNO(EOPNOTSUPP, "eopnotsupp") ABYSS_ERRNO(EPFNOSUPPORT, "epfnosupport")
    ABYSS_ERRNO(EAFNOSUPPORT, "eafnosupport") ABYSS_ERRNO(EADDRINUSE, "eaddrinuse")
    ABYSS_ERRNO(EADDRNOTAVAIL, "eaddrnotavail") ABYSS_ERRNO(ENETDOWN, "enetdown")
    ABYSS_ERRNO(ENETUNREACH, "enetunreach") ABYSS_ERRNO(ENETRESET, "enetreset")
    ABYSS_ERRNO(ECONNABORTED, "econnaborted") ABYSS_ERRNO(ECONNRESET, "econnreset")
    ABYSS_ERRNO(ENOBUFS, "enobufs") ABYSS_ERRNO(EISCONN, "eisconn")
    ABYSS_ERRNO(ENOTCONN, "enotconn") ABYSS_ERRNO(ESHUTDOWN, "eshutdown")
    ABYSS_ERRNO(ETIMEDOUT, "etimedout") ABYSS_ERRNO(ECONNREFUSED, "econnrefused")
    ABYSS_ERRNO(EHOSTDOWN, "ehostdown") ABYSS_ERRNO(EHOSTUNREACH, "ehostunreach")
    ABYSS_ERRNO(EALREADY, "ealready") ABYSS_ERRNO(EINPROGRESS, "einprogress")
    ABYSS_ERRNO(ENOTTY, "enotty") ABYSS_ERRNO(ETXTBSY, "etxtbsy")
#undef ABYSS_ERRNO
    default:
      return "unknown";
  }
}

Napi::Error MakeError(Napi::Env env, const std::string& reason, const std::string& message,
                      const char* syscall, int err) {
  Environment* state = Environment::Get(env);
  std::vector<napi_value> args{Napi::String::New(env, reason), Napi::String::New(env, message)};
  if (syscall != nullptr) {
    args.push_back(Napi::String::New(env, syscall));
    args.push_back(Napi::Number::New(env, err));
  }
  Napi::FunctionReference* error_class = state == nullptr ? nullptr
                                        : state->error_class_in_use != nullptr ? state->error_class_in_use
                                                                               : &state->error_class;
  if (error_class == nullptr || error_class->IsEmpty()) {
    Napi::Error plain = Napi::Error::New(env, message);
    plain.Value().Set("reason", Napi::String::New(env, reason));
    return plain;
  }
  return Napi::Error(env, error_class->Value().New(args));
}

Napi::Error SysError(Napi::Env env, const std::string& operation, const char* syscall, int err) {
  std::string reason = ErrnoName(err);
  return MakeError(env, reason, operation + ": " + syscall + " failed: " + reason + " (" + std::strerror(err) + ")",
                   syscall, err);
}

Napi::Error BadArg(Napi::Env env, const std::string& operation, const std::string& what) {
  return MakeError(env, "badarg", operation + ": " + what);
}

}  // namespace abyss
