#include "socket.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/sock_diag.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "cmsg.h"
#include "environment.h"
#include "errors.h"
#include "options.h"
#include "registry.h"
#include "values.h"

namespace abyss {

namespace {

std::atomic<uint64_t> next_socket_id{1};

// With SO_REUSEADDR or SO_REUSEPORT on, Linux may answer a bind(2) to port 0 with a port that
// another reusing socket already holds, and that socket then takes some of this one's datagrams.
// Port 0 asks for a port of its own: bind with both flags off, then put them back.
int BindOwnPort(int fd, const SocketAddress& address) {
  if (address.family() == AF_UNIX || PortOf(address.get()) != 0) return bind(fd, address.get(), address.length);
  constexpr std::array<int, 2> kReuseFlags{SO_REUSEADDR, SO_REUSEPORT};
  std::array<int, 2> was_on{};
  for (size_t i = 0; i < kReuseFlags.size(); i++) {
    socklen_t size = sizeof(was_on[i]);
    if (getsockopt(fd, SOL_SOCKET, kReuseFlags[i], &was_on[i], &size) != 0) return -1;
  }
  const int off = 0;
  int result = 0;
  for (size_t i = 0; i < kReuseFlags.size() && result == 0; i++) {
    if (was_on[i]) result = setsockopt(fd, SOL_SOCKET, kReuseFlags[i], &off, sizeof(off));
  }
  if (result == 0) result = bind(fd, address.get(), address.length);
  int error = result == 0 ? 0 : errno;
  for (size_t i = 0; i < kReuseFlags.size(); i++) {
    if (was_on[i] && setsockopt(fd, SOL_SOCKET, kReuseFlags[i], &was_on[i], sizeof(was_on[i])) != 0 && error == 0) {
      result = -1;
      error = errno;
    }
  }
  errno = error;
  return result;
}

void DeletePoll(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

int DomainOf(const std::string& family) {
  if (family == "inet") return AF_INET;
  if (family == "inet6") return AF_INET6;
  if (family == "local") return AF_UNIX;
  return -1;
}

const char* FamilyName(int family) {
  switch (family) {
    case AF_INET: return "inet";
    case AF_INET6: return "inet6";
    case AF_UNIX: return "local";
    default: return "unspec";
  }
}

// Creates the socket inside the network namespace at `netns`, as inet's netns option does:
// this thread enters it for the socket() call only.
int SocketInNamespace(Napi::Env env, int domain, const std::string& netns) {
  int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) throw SysError(env, "listen", "open", errno);
  int target = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(original);
    throw SysError(env, "listen", "open", err);
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    int err = errno;
    close(original);
    close(target);
    throw SysError(env, "listen", "setns", err);
  }
  int fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int socket_errno = errno;
  // Staying in the other namespace would move every later socket of this thread there.
  if (setns(original, CLONE_NEWNET) != 0) abort();
  close(original);
  close(target);
  if (fd < 0) throw SysError(env, "listen", "socket", socket_errno);
  return fd;
}

// Any unix peer may pass descriptors (SCM_RIGHTS) with a datagram, and recvmsg opens them
// in this process. Nothing in the contract takes them: they are closed, not leaked.
void ClosePassedDescriptors(const msghdr& header) {
  int passed[kControlSize / sizeof(int)];
  size_t count = PassedDescriptors(static_cast<const uint8_t*>(header.msg_control), header.msg_controllen, passed,
                                   std::size(passed));
  for (size_t i = 0; i < count; i++) close(passed[i]);
}

int AdoptDescriptor(Napi::Env env, int fd, int* family) {
  int type = 0;
  socklen_t size = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0) throw SysError(env, "listen", "getsockopt", errno);
  if (type != SOCK_DGRAM) throw MakeError(env, "einval", "listen: fd " + std::to_string(fd) + " is not a datagram socket");
  size = sizeof(*family);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, family, &size) != 0) throw SysError(env, "listen", "getsockopt", errno);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw SysError(env, "listen", "fcntl", errno);
  return fd;
}

Napi::Object SocketInfoOf(Napi::Env env, const sockaddr* address, socklen_t length) {
  Napi::Object info = Napi::Object::New(env);
  if (address->sa_family == AF_UNIX) {
    info.Set("local", LocalPath(reinterpret_cast<const sockaddr_un*>(address), length));
    return info;
  }
  info.Set("address", FormatIp(address));
  info.Set("family", address->sa_family == AF_INET6 ? "IPv6" : "IPv4");
  info.Set("port", PortOf(address));
  return info;
}

void Restore(int fd, const EncodedOption& option, std::vector<uint8_t> previous) {
  if (option.row != nullptr && option.row->doubled && previous.size() == sizeof(int)) {
    int value;
    std::memcpy(&value, previous.data(), sizeof(value));
    value /= 2;
    std::memcpy(previous.data(), &value, sizeof(value));
  }
  setsockopt(fd, option.site.level, option.site.name, previous.data(), previous.size());
}

void Invert(int fd, int family, const EncodedOption& option) {
  const OptionRow* inverse = option.row != nullptr && option.row->inverse ? FindOption(option.row->inverse) : nullptr;
  std::vector<uint8_t> bytes;
  if (inverse == nullptr || EncodeOption(*inverse, family, option.input, &bytes) != OptionStatus::kOk) return;
  OptionSite site = SetSite(*inverse, family);
  setsockopt(fd, site.level, site.name, bytes.data(), bytes.size());
}

// Applies every option; on a refusal, puts back what this call changed, newest first.
void ApplyOptions(Napi::Env env, int fd, int family, const std::vector<EncodedOption>& options,
                  const std::string& operation) {
  struct Undo {
    const EncodedOption* option;
    std::vector<uint8_t> previous;
    bool readable;
  };
  std::vector<Undo> applied;
  for (const EncodedOption& option : options) {
    Undo undo{&option, {}, false};
    if (option.read_site.applies()) {
      undo.previous.resize(option.row != nullptr ? ReadSize(*option.row, family) : option.bytes.size());
      socklen_t size = undo.previous.size();
      undo.readable = getsockopt(fd, option.read_site.level, option.read_site.name, undo.previous.data(), &size) == 0;
      undo.previous.resize(size);
    }
    if (setsockopt(fd, option.site.level, option.site.name, option.bytes.data(), option.bytes.size()) != 0) {
      int err = errno;
      for (auto it = applied.rbegin(); it != applied.rend(); ++it) {
        if (it->readable) {
          Restore(fd, *it->option, it->previous);
        } else {
          Invert(fd, family, *it->option);
        }
      }
      throw MakeError(env, ErrnoName(err),
                      operation + ": setsockopt " + option.name + " = " + option.shown + " failed: " + ErrnoName(err) +
                          " (" + std::strerror(err) + ")",
                      "setsockopt", err);
    }
    applied.push_back(std::move(undo));
  }
}

constexpr size_t kMaxRawLength = 4096;

Napi::Value ReadOptionValue(Napi::Env env, int fd, int family, const Napi::CallbackInfo& info) {
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name == "raw") {
    int64_t level = info[1].As<Napi::Number>().Int64Value();
    int64_t option = info[2].As<Napi::Number>().Int64Value();
    int64_t length = info[3].As<Napi::Number>().Int64Value();
    if (level < 0 || level > INT32_MAX || option < 0 || option > INT32_MAX || length < 0 ||
        length > static_cast<int64_t>(kMaxRawLength)) {
      throw BadArg(env, "getopts", "raw takes { level, option, length } with length at most 4096");
    }
    std::vector<uint8_t> bytes(static_cast<size_t>(length));
    socklen_t size = bytes.size();
    if (getsockopt(fd, static_cast<int>(level), static_cast<int>(option), bytes.data(), &size) != 0) {
      throw SysError(env, "getopts", "getsockopt", errno);
    }
    return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), size);
  }
  const OptionRow* row = FindOption(name);
  if (row == nullptr) throw BadArg(env, "getopts", "unknown option '" + name + "'");
  OptionSite site = GetSite(*row, family);
  if (!site.applies()) {
    throw MakeError(env, "einval",
                    "getopts: option '" + name + (row->readable ? "' does not apply to " + std::string(FamilyName(family)) + " sockets"
                                                                : "' can only be set"));
  }
  std::vector<uint8_t> bytes(ReadSize(*row, family));
  socklen_t size = bytes.size();
  if (getsockopt(fd, site.level, site.name, bytes.data(), &size) != 0) {
    int err = errno;
    throw MakeError(env, ErrnoName(err), "getopts: getsockopt " + name + " failed: " + ErrnoName(err), "getsockopt", err);
  }
  return OptionValueToJs(env, *row, family, bytes.data(), size);
}

}  // namespace

void Counters::CountSent(uint64_t length) {
  double size = static_cast<double>(length);
  double count = values[kSendCnt] + 1;
  values[kSendAvg] += (size - values[kSendAvg]) / count;
  if (size > values[kSendMax]) values[kSendMax] = size;
  values[kSendOct] += size;
  values[kSendCnt] = count;
}

void SocketState::Close() {
  {
    std::unique_lock<std::shared_mutex> lock(lifecycle);
    if (closed.exchange(true)) return;
    close(fd);
  }
  registry::RemoveSocket(id);
}

SocketState::~SocketState() {
  if (!closed.load() && fd >= 0) close(fd);
}

NativeSocket::ErrorRealm::ErrorRealm(NativeSocket* socket)
    : environment_(socket->environment_),
      saved_(environment_ != nullptr ? environment_->error_class_in_use : nullptr) {
  if (environment_ != nullptr && !socket->error_class_.IsEmpty()) environment_->error_class_in_use = &socket->error_class_;
}

NativeSocket::ErrorRealm::~ErrorRealm() {
  if (environment_ != nullptr) environment_->error_class_in_use = saved_;
}

Napi::Function NativeSocket::Define(Napi::Env env) {
  return DefineClass(env, "NativeSocket",
                     {
                         InstanceAccessor<&NativeSocket::Id>("id"),
                         InstanceAccessor<&NativeSocket::Fd>("fd"),
                         InstanceAccessor<&NativeSocket::Family>("family"),
                         InstanceAccessor<&NativeSocket::Closed>("closed"),
                         InstanceAccessor<&NativeSocket::CounterView>("counters"),
                         InstanceMethod<&NativeSocket::Bind>("bind"),
                         InstanceMethod<&NativeSocket::Connect>("connect"),
                         InstanceMethod<&NativeSocket::Sockname>("sockname"),
                         InstanceMethod<&NativeSocket::Peername>("peername"),
                         InstanceMethod<&NativeSocket::Setopts>("setopts"),
                         InstanceMethod<&NativeSocket::Getopt>("getopt"),
                         InstanceMethod<&NativeSocket::Recv>("recv"),
                         InstanceMethod<&NativeSocket::RecvError>("recvError"),
                         InstanceMethod<&NativeSocket::Send>("send"),
                         InstanceMethod<&NativeSocket::SendBatch>("sendBatch"),
                         InstanceMethod<&NativeSocket::Watch>("watch"),
                         InstanceMethod<&NativeSocket::Close>("close"),
                         InstanceMethod<&NativeSocket::Stats>("stats"),
                         InstanceMethod<&NativeSocket::HandOver>("handOver"),
                         InstanceMethod<&NativeSocket::Reap>("reap"),
                     });
}

// new NativeSocket(family: 'inet' | 'inet6' | 'local', fd?, netns?, adopt?: id, TransportError)
NativeSocket::NativeSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSocket>(info) {
  Napi::Env env = info.Env();
  environment_ = Environment::Get(env);
  if (info[4].IsFunction()) error_class_ = Napi::Persistent(info[4].As<Napi::Function>());
  ErrorRealm realm(this);
  if (info[3].IsNumber()) {
    Adopt(env, static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value()));
    environment_->sockets.insert(this);
    return;
  }
  auto state = std::make_shared<SocketState>();
  int domain = info[0].IsString() ? DomainOf(info[0].As<Napi::String>().Utf8Value()) : -1;
  if (domain < 0) throw BadArg(env, "listen", "family must be 'inet', 'inet6' or 'local'");
  if (info[1].IsNumber()) {
    state->fd = AdoptDescriptor(env, info[1].As<Napi::Number>().Int32Value(), &domain);
  } else if (info[2].IsString()) {
    state->fd = SocketInNamespace(env, domain, info[2].As<Napi::String>().Utf8Value());
  } else {
    state->fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (state->fd < 0) throw SysError(env, "listen", "socket", errno);
  }
  state->family = domain;
  state->id = next_socket_id++;
  state->owner = environment_->thread_id;
  registry::AddSocket(state);
  state_ = std::move(state);
  environment_->sockets.insert(this);
}

void NativeSocket::Adopt(Napi::Env env, uint64_t id) {
  state_ = registry::FindSocket(id);
  if (!state_ && (id == 0 || id >= next_socket_id.load())) throw BadArg(env, "adopt", "no socket has that ref");
  if (!state_) throw MakeError(env, "closed", "adopt: the socket is closed");
  if (state_->owner.load() != environment_->thread_id) {
    throw MakeError(env, "not_owner", "adopt: the socket was not handed to this thread");
  }
  if (!state_->adoptable.exchange(false)) {
    throw BadArg(env, "adopt", "the socket was already adopted by this thread");
  }
}

NativeSocket::~NativeSocket() {
  if (environment_ == nullptr) return;
  environment_->sockets.erase(this);
  StopWatching(DeletePoll, nullptr);
  // Unreachable now: nobody can read it any more, so it is closed as a port dies with its owner.
  if (state_ && state_->owner.load() == environment_->thread_id) state_->Close();
}

bool NativeSocket::Detach(uv_close_cb on_closed, void* closed_data) {
  bool closing = StopWatching(on_closed, closed_data);
  if (state_->owner.load() == environment_->thread_id) state_->Close();
  environment_ = nullptr;
  return closing;
}

bool NativeSocket::StopWatching(uv_close_cb on_closed, void* closed_data) {
  if (poll_ == nullptr) return false;
  uv_poll_stop(poll_);
  poll_->data = closed_data;
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), on_closed);
  poll_ = nullptr;
  watched_ = 0;
  return true;
}

void NativeSocket::RequireOpen(Napi::Env env, const char* operation) const {
  if (state_->closed.load()) throw MakeError(env, "closed", std::string(operation) + ": socket is closed");
}

void NativeSocket::RequireOwner(Napi::Env env, const char* operation) const {
  RequireOpen(env, operation);
  if (environment_ == nullptr || state_->owner.load() != environment_->thread_id) {
    throw MakeError(env, "not_owner", std::string(operation) + ": this thread does not own the socket");
  }
}

Napi::Value NativeSocket::Id(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(state_->id));
}

Napi::Value NativeSocket::Fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state_->closed.load() ? -1 : state_->fd);
}

Napi::Value NativeSocket::Family(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), FamilyName(state_->family));
}

// A Float64Array over the socket's counters; it keeps the socket state alive while it lives.
Napi::Value NativeSocket::CounterView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* keep = new std::shared_ptr<SocketState>(state_);
  Napi::ArrayBuffer memory = Napi::ArrayBuffer::New(
      env, state_->counters.values, sizeof(state_->counters.values),
      [](Napi::Env, void*, std::shared_ptr<SocketState>* hint) { delete hint; }, keep);
  return Napi::Float64Array::New(env, kCounterCount, memory, 0);
}

Napi::Value NativeSocket::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_->closed.load());
}

SocketAddress NativeSocket::ParseDestination(Napi::Env env, Napi::Value address, Napi::Value port,
                                             const char* operation) {
  SocketAddress destination;
  if (address.IsObject() && !address.IsArray()) {
    Napi::Value path = address.As<Napi::Object>().Get("local");
    if (!path.IsString()) throw BadArg(env, operation, "address must be an IP string or { local: path }");
    if (state_->family != AF_UNIX) throw MakeError(env, "eafnosupport", std::string(operation) + ": a unix address on an IP socket");
    std::string text = path.As<Napi::String>().Utf8Value();
    // Abstract names (a leading NUL) may hold NULs; a filesystem path may not.
    if (!text.empty() && text[0] != '\0' && text.find('\0') != std::string::npos) {
      throw BadArg(env, operation, "a unix path with a NUL byte inside");
    }
    if (!MakeLocal(text, &destination)) {
      throw MakeError(env, "enametoolong", std::string(operation) + ": unix path too long: " + Show(path));
    }
    return destination;
  }
  if (!address.IsString()) throw BadArg(env, operation, "address must be an IP string or { local: path }");
  double number = port.IsNumber() ? port.As<Napi::Number>().DoubleValue() : -1;
  if (!(number >= 0 && number <= 65535 && std::floor(number) == number)) {
    throw BadArg(env, operation, "port must be an integer from 0 to 65535, got " + Show(port));
  }
  if (state_->family == AF_UNIX) throw MakeError(env, "eafnosupport", std::string(operation) + ": an IP address on a unix socket");
  // A server answers the same peers again and again: keep the last parse.
  char text[sizeof(last_destination_text_)];
  size_t length = 0;
  napi_get_value_string_latin1(env, address, text, sizeof(text), &length);
  uint16_t port_number = static_cast<uint16_t>(number);
  if (length + 1 < sizeof(text) && length == last_destination_length_ && port_number == last_destination_port_ &&
      std::memcmp(text, last_destination_text_, length) == 0) {
    return last_destination_;
  }
  if (!ParseIp(address.As<Napi::String>().Utf8Value(), port_number, state_->family, &destination)) {
    throw BadArg(env, operation, "not an IP address of this socket's family: " + Show(address));
  }
  if (length + 1 < sizeof(text)) {
    std::memcpy(last_destination_text_, text, length);
    last_destination_length_ = length;
    last_destination_port_ = port_number;
    last_destination_ = destination;
  }
  return destination;
}

// bind(address: string | { local }, port, operation)
void NativeSocket::Bind(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  const std::string operation = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "listen";
  RequireOwner(env, operation.c_str());
  SocketAddress address = ParseDestination(env, info[0], info[1], operation.c_str());
  if (BindOwnPort(state_->fd, address) != 0) throw SysError(env, operation, "bind", errno);
}

void NativeSocket::Connect(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  RequireOwner(env, "connect");
  SocketAddress address = ParseDestination(env, info[0], info[1], "connect");
  int result;
  do {
    result = connect(state_->fd, address.get(), address.length);
  } while (result != 0 && errno == EINTR);
  if (result != 0) throw SysError(env, "connect", "connect", errno);
}

// One end of the socket: getsockname or getpeername.
Napi::Value NativeSocket::EndName(Napi::Env env, const char* operation, const char* syscall,
                                  int (*name)(int, sockaddr*, socklen_t*)) {
  ErrorRealm realm(this);
  std::shared_lock<std::shared_mutex> lock(state_->lifecycle);
  RequireOpen(env, operation);
  SocketAddress address;
  address.length = sizeof(address.storage);
  if (name(state_->fd, address.get(), &address.length) != 0) throw SysError(env, operation, syscall, errno);
  return SocketInfoOf(env, address.get(), address.length);
}

Napi::Value NativeSocket::Sockname(const Napi::CallbackInfo& info) {
  return EndName(info.Env(), "sockname", "getsockname", getsockname);
}

Napi::Value NativeSocket::Peername(const Napi::CallbackInfo& info) {
  return EndName(info.Env(), "peername", "getpeername", getpeername);
}

// setopts(names: string[], values: unknown[], operation): every value is checked and encoded before
// the first setsockopt; a kernel refusal undoes what this call already applied.
void NativeSocket::Setopts(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  const std::string operation = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "setopts";
  RequireOwner(env, operation.c_str());
  Napi::Array names = info[0].As<Napi::Array>();
  Napi::Array values = info[1].As<Napi::Array>();
  std::vector<EncodedOption> encoded;
  encoded.reserve(names.Length());
  for (uint32_t i = 0; i < names.Length(); i++) {
    encoded.push_back(
        EncodeOptionValue(env, state_->family, names.Get(i).As<Napi::String>().Utf8Value(), values.Get(i), operation));
  }
  // A getter read above may have closed the socket (its descriptor number may be reused
  // already) or handed it to another thread.
  RequireOwner(env, operation.c_str());
  ApplyOptions(env, state_->fd, state_->family, encoded, operation);
}

// getopt(name) or getopt('raw', level, option, length)
Napi::Value NativeSocket::Getopt(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  std::shared_lock<std::shared_mutex> lock(state_->lifecycle);
  RequireOpen(env, "getopts");
  return ReadOptionValue(env, state_->fd, state_->family, info);
}

// recv(max): reads up to `max` datagrams in one recvmmsg. Returns undefined when none is
// waiting, else the Buffer holding them back to back, described by the metadata records.
Napi::Value NativeSocket::Recv(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  RequireOwner(env, "recv");
  Environment& environment = *environment_;
  ReceiveArena& arena = environment.Arena();
  int max = info[0].As<Napi::Number>().Int32Value();
  if (max < 1) max = 1;
  if (max > kMaxBatch) max = kMaxBatch;

  size_t slot = kSlotSize;
  if (state_->family == AF_UNIX) {
    // A unix datagram may be larger than a slot: size the one slot by the queue's head.
    int next = 0;
    if (ioctl(state_->fd, SIOCINQ, &next) == 0 && static_cast<size_t>(next) > slot) slot = next;
    max = 1;
  }
  mmsghdr* headers = arena.Prepare(max, slot);
  int count;
  do {
    count = recvmmsg(state_->fd, headers, max, MSG_TRUNC | MSG_CMSG_CLOEXEC, nullptr);
  } while (count < 0 && errno == EINTR);
  if (count < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Undefined();
    throw SysError(env, "recv", "recvmsg", errno);
  }
  // However this call ends, the headers it used are made ready again.
  struct RecycleOnExit {
    ReceiveArena& arena;
    int used;
    ~RecycleOnExit() { arena.Recycle(used); }
  } recycle{arena, count};

  size_t total = 0;
  for (int i = 0; i < count; i++) total += std::min<size_t>(arena.headers[i].msg_len, slot);
  size_t offset = 0;
  uint8_t* data = nullptr;
  Napi::Object bytes = environment.slab.Reserve(env, total, &offset, &data);
  environment.addresses.BeginBatch();
  for (int i = 0; i < count; i++) {
    const msghdr& header = arena.headers[i].msg_hdr;
    size_t length = std::min<size_t>(arena.headers[i].msg_len, slot);
    std::memcpy(data + offset, arena.iov[i].iov_base, length);
    int32_t* record = environment.meta + i * kMetaStride;
    record[kMetaOffset] = static_cast<int32_t>(offset);
    record[kMetaLength] = static_cast<int32_t>(length);
    int flags = 0;
    if (header.msg_flags & MSG_TRUNC) flags |= kFlagTruncated;
    const auto* sender = reinterpret_cast<const sockaddr*>(header.msg_name);
    if (state_->family == AF_UNIX) {
      flags |= kFlagLocal;
      record[kMetaPort] = 0;
      record[kMetaAddress] = environment.addresses.SlotFor(env, sender, header.msg_namelen);
    } else {
      record[kMetaPort] = PortOf(sender);
      record[kMetaAddress] = environment.addresses.SlotFor(env, sender, header.msg_namelen);
    }
    ReceivedAncillary ancillary;
    if (header.msg_controllen > 0) {
      DecodeAncillary(static_cast<const uint8_t*>(header.msg_control), header.msg_controllen, &ancillary);
      if (state_->family == AF_UNIX) ClosePassedDescriptors(header);
    }
    if ((header.msg_flags & MSG_CTRUNC) || (ancillary.present & kMalformed)) flags |= kFlagCtruncated;
    record[kMetaFlags] = flags;
    WriteAncillaryRecord(env, ancillary, record);
    offset += length;
  }
  environment.meta[kMaxBatch * kMetaStride] = count;
  return bytes;
}

// recvError(): one entry of the error queue (MSG_ERRQUEUE), or undefined when it is empty.
Napi::Value NativeSocket::RecvError(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  RequireOwner(env, "recv");
  ReceiveArena& arena = environment_->Arena();
  sockaddr_storage name{};
  iovec iov{arena.data.data(), kSlotSize};
  msghdr header{};
  header.msg_name = &name;
  header.msg_namelen = sizeof(name);
  header.msg_iov = &iov;
  header.msg_iovlen = 1;
  header.msg_control = arena.control[0];
  header.msg_controllen = kControlSize;
  ssize_t length;
  do {
    length = recvmsg(state_->fd, &header, MSG_ERRQUEUE | MSG_DONTWAIT);
  } while (length < 0 && errno == EINTR);
  if (length < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Undefined();
    throw SysError(env, "recv", "recvmsg", errno);
  }
  ReceivedAncillary ancillary;
  DecodeAncillary(arena.control[0], header.msg_controllen, &ancillary);
  return ErrorQueueEntry(env, ancillary, reinterpret_cast<const sockaddr*>(&name), header.msg_namelen,
                         arena.data.data(), static_cast<size_t>(length), (header.msg_flags & MSG_TRUNC) != 0);
}

// send(data, address?, port?, ancillary?): bytes sent, or -1 when the send buffer is full.
Napi::Value NativeSocket::Send(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  RequireOwner(env, "send");
  Environment& environment = *environment_;
  // First everything that may run JavaScript (getters), then the buffers' addresses: a
  // getter could otherwise detach a buffer already gathered.
  iovec single;
  const bool whole = AsBytes(env, info[0], &single);
  std::vector<Piece>& pieces = environment.send_arena.pieces;
  pieces.clear();
  if (!whole) CollectPieces(env, info[0], &pieces);
  msghdr header{};
  SocketAddress destination;
  if (!info[1].IsUndefined()) {
    destination = ParseDestination(env, info[1], info[2], "send");
    header.msg_name = destination.get();
    header.msg_namelen = destination.length;
  }
  alignas(cmsghdr) uint8_t control[kMaxSendControl];
  if (info[3].IsObject()) {
    header.msg_controllen =
        EncodeSendAncillary(env, environment.send_records, info[3].As<Napi::Object>(), state_->family, control);
    if (header.msg_controllen > 0) header.msg_control = control;
  }
  GatheredData gathered;
  if (whole) {
    AsBytes(env, info[0], &single);  // again: a getter above may have detached it
    header.msg_iov = &single;
    header.msg_iovlen = 1;
  } else {
    GatherPieces(env, pieces.data(), pieces.size(), &gathered, &environment.send_text);
    header.msg_iov = gathered.iov.data();
    header.msg_iovlen = gathered.iov.size();
  }
  // A getter read above may have closed the socket (its descriptor number may be reused
  // already) or handed it to another thread.
  RequireOwner(env, "send");
  ssize_t sent;
  do {
    sent = sendmsg(state_->fd, &header, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    throw SysError(env, "send", "sendmsg", errno);
  }
  state_->counters.CountSent(static_cast<uint64_t>(sent));
  return Napi::Number::New(env, static_cast<double>(sent));
}

namespace {

// The most one UDP_SEGMENT send may carry: the kernel's segment count limit, and an IP
// datagram's payload limit with room for the headers.
constexpr size_t kMaxSegments = 64;
constexpr size_t kMaxSegmentedBytes = 65000;

bool SameDestination(const SendArena::Message& a, const SendArena::Message& b) {
  return a.destination.length == b.destination.length &&
         std::memcmp(&a.destination.storage, &b.destination.storage, a.destination.length) == 0;
}

}  // namespace

// sendBatch(messages, start): sends messages[start..], at most kMaxBatch, with one sendmmsg;
// returns how many went out, or -1 when the send buffer is full before the first.
// Consecutive messages to one destination that share a size (the last may be shorter) go
// out as one UDP_SEGMENT (GSO) send: the peer still gets one datagram per message.
Napi::Value NativeSocket::SendBatch(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  RequireOwner(env, "sendBatch");
  Napi::Array messages = info[0].As<Napi::Array>();
  uint32_t start = info[1].As<Napi::Number>().Uint32Value();
  uint32_t count = std::min<uint32_t>(messages.Length() - std::min(start, messages.Length()), kMaxBatch);
  if (count == 0) return Napi::Number::New(env, 0);

  Environment& environment = *environment_;
  SendArena& arena = environment.send_arena;
  arena.gathered.iov.clear();
  arena.gathered.text_pieces.clear();
  environment.send_text.clear();
  Napi::Array keys = environment.message_keys.Value();
  Napi::Value data_key = keys.Get(Environment::kKeyData);
  Napi::Value address_key = keys.Get(Environment::kKeyAddress);
  Napi::Value port_key = keys.Get(Environment::kKeyPort);
  Napi::Value ancillary_key = keys.Get(Environment::kKeyAncillary);
  // First everything that may run JavaScript (getters), then the buffers' addresses: a
  // getter could otherwise detach a buffer already gathered.
  std::vector<Piece>& pieces = arena.pieces;
  pieces.clear();
  for (uint32_t i = 0; i < count; i++) {
    Napi::Object message = messages.Get(start + i).As<Napi::Object>();
    SendArena::Message& parsed = arena.messages[i];
    parsed.pieces_begin = pieces.size();
    CollectPieces(env, message.Get(data_key), &pieces);
    parsed.pieces_end = pieces.size();
    parsed.destination = SocketAddress{};
    Napi::Value address = message.Get(address_key);
    if (!address.IsUndefined()) parsed.destination = ParseDestination(env, address, message.Get(port_key), "sendBatch");
    parsed.control_length = 0;
    Napi::Value ancillary = message.Get(ancillary_key);
    if (ancillary.IsObject()) {
      parsed.control_length = EncodeSendAncillary(env, environment.send_records + i * kSendRecordStride,
                                                  ancillary.As<Napi::Object>(), state_->family, arena.control[i]);
    }
  }
  for (uint32_t i = 0; i < count; i++) {
    SendArena::Message& parsed = arena.messages[i];
    parsed.iov_begin = arena.gathered.iov.size();
    size_t bytes_before = arena.gathered.bytes;
    GatherPieces(env, pieces.data() + parsed.pieces_begin, parsed.pieces_end - parsed.pieces_begin, &arena.gathered,
                 &environment.send_text, /*keep_text=*/true);
    parsed.iov_end = arena.gathered.iov.size();
    parsed.bytes = arena.gathered.bytes - bytes_before;
  }
  ResolveText(&arena.gathered, environment.send_text);
  // A getter read above may have closed the socket (its descriptor number may be reused
  // already) or handed it to another thread.
  RequireOwner(env, "sendBatch");

  for (;;) {
    // Group messages into headers; members[h] is how many messages header h carries.
    uint32_t headers = 0;
    for (uint32_t i = 0; i < count;) {
      const SendArena::Message& first = arena.messages[i];
      uint32_t end = i + 1;
      if (gso_ && state_->family != AF_UNIX && first.control_length == 0 && first.bytes > 0) {
        size_t total = first.bytes;
        while (end < count && end - i < kMaxSegments) {
          const SendArena::Message& next = arena.messages[end];
          if (next.control_length != 0 || next.bytes == 0 || next.bytes > first.bytes ||
              total + next.bytes > kMaxSegmentedBytes || !SameDestination(first, next) ||
              arena.messages[end - 1].bytes != first.bytes) {
            break;
          }
          total += next.bytes;
          end++;
        }
      }
      msghdr& header = arena.headers[headers].msg_hdr;
      header = {};
      if (first.destination.length > 0) {
        header.msg_name = const_cast<sockaddr*>(first.destination.get());
        header.msg_namelen = first.destination.length;
      }
      header.msg_iov = arena.gathered.iov.data() + first.iov_begin;
      header.msg_iovlen = arena.messages[end - 1].iov_end - first.iov_begin;
      if (first.control_length > 0) {
        header.msg_control = arena.control[i];
        header.msg_controllen = first.control_length;
      } else if (end - i > 1) {
        SendAncillary segmented;
        segmented.present = kSendSegmentSize;
        segmented.segment_size = static_cast<int>(first.bytes);
        size_t written = 0;
        EncodeAncillary(segmented, state_->family, arena.control[i], kMaxSendControl, &written);
        header.msg_control = arena.control[i];
        header.msg_controllen = written;
      }
      arena.members[headers++] = end - i;
      i = end;
    }
    int sent;
    do {
      sent = sendmmsg(state_->fd, arena.headers, headers, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return Napi::Number::New(env, -1);
      // A path that cannot segment: send one datagram per message from now on.
      if (arena.members[0] > 1 && (err == EIO || err == EINVAL || err == EOPNOTSUPP)) {
        gso_ = false;
        continue;
      }
      throw SysError(env, "sendBatch", "sendmmsg", err);
    }
    uint32_t messages_sent = 0;
    for (int h = 0; h < sent; h++) {
      for (uint32_t m = 0; m < arena.members[h]; m++) {
        state_->counters.CountSent(arena.messages[messages_sent + m].bytes);
      }
      messages_sent += arena.members[h];
    }
    return Napi::Number::New(env, messages_sent);
  }
}

// watch(events): UV_READABLE | UV_WRITABLE to wait for, 0 to stop.
void NativeSocket::Watch(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  int events = info[0].As<Napi::Number>().Int32Value() & (UV_READABLE | UV_WRITABLE);
  if (events == watched_) return;
  if (events == 0) {
    uv_poll_stop(poll_);
    watched_ = 0;
    return;
  }
  RequireOwner(env, "recv");
  if (poll_ == nullptr) {
    poll_ = new uv_poll_t;
    int result = uv_poll_init(environment_->loop, poll_, state_->fd);
    if (result != 0) {
      delete poll_;
      poll_ = nullptr;
      throw SysError(env, "recv", "epoll_ctl", -result);
    }
    poll_->data = this;
  }
  int result = uv_poll_start(poll_, events, OnReady);
  if (result != 0) throw SysError(env, "recv", "epoll_ctl", -result);
  watched_ = events;
}

void NativeSocket::OnReady(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<NativeSocket*>(poll->data);
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  Napi::Object object = self->Value();
  if (object.IsEmpty() || self->environment_ == nullptr) return;
  try {
    self->environment_->dispatch.MakeCallback(object, {Napi::Number::New(env, status < 0 ? 0 : events),
                                                       Napi::Number::New(env, status < 0 ? -status : 0)});
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env, error.Value());
  }
}

void NativeSocket::Close(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  if (state_->closed.load()) return;
  RequireOwner(env, "close");
  StopWatching(DeletePoll, nullptr);
  state_->Close();
}

// handOver(threadId, mayBeLoading): makes `threadId` the owner; this handle stops watching.
// mayBeLoading: the target is a live Worker that may not have loaded the addon yet.
void NativeSocket::HandOver(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  RequireOwner(env, "controllingProcess");
  uint64_t target = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  if (!info[1].ToBoolean().Value() && !registry::ThreadAlive(target)) {
    throw BadArg(env, "controllingProcess", "thread " + std::to_string(target) + " is unknown or has exited");
  }
  StopWatching(DeletePoll, nullptr);
  state_->adoptable = true;
  state_->owner = target;
}

// reap(threadId): the thread exited; close the socket if it still owns it.
void NativeSocket::Reap(const Napi::CallbackInfo& info) {
  uint64_t thread = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  if (state_->owner.load() == thread && !registry::ThreadAlive(thread)) state_->Close();
}

Napi::Value NativeSocket::Stats(const Napi::CallbackInfo& info) {
  ErrorRealm realm(this);
  Napi::Env env = info.Env();
  std::shared_lock<std::shared_mutex> lock(state_->lifecycle);
  RequireOpen(env, "getstat");
  const double* c = state_->counters.values;
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("recv_oct", c[kRecvOct]);
  stats.Set("recv_cnt", c[kRecvCnt]);
  stats.Set("recv_max", c[kRecvMax]);
  // inet reports the running mean and mean deviation truncated to integers.
  stats.Set("recv_avg", std::trunc(c[kRecvAvg]));
  stats.Set("recv_dvi", std::trunc(std::fabs(c[kRecvDvi])));
  stats.Set("send_oct", c[kSendOct]);
  stats.Set("send_cnt", c[kSendCnt]);
  stats.Set("send_max", c[kSendMax]);
  stats.Set("send_avg", std::trunc(c[kSendAvg]));

  uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t size = sizeof(meminfo);
  if (getsockopt(state_->fd, SOL_SOCKET, SO_MEMINFO, meminfo, &size) != 0) {
    throw SysError(env, "getstat", "getsockopt", errno);
  }
  int inq = 0, outq = 0;
  if (ioctl(state_->fd, SIOCINQ, &inq) != 0) throw SysError(env, "getstat", "ioctl", errno);
  if (ioctl(state_->fd, SIOCOUTQ, &outq) != 0) throw SysError(env, "getstat", "ioctl", errno);
  Napi::Object kernel = Napi::Object::New(env);
  kernel.Set("rx_queue", inq);
  kernel.Set("tx_queue", outq);
  kernel.Set("drops", meminfo[SK_MEMINFO_DROPS]);
  kernel.Set("rmem_alloc", meminfo[SK_MEMINFO_RMEM_ALLOC]);
  kernel.Set("rcvbuf", meminfo[SK_MEMINFO_RCVBUF]);
  kernel.Set("wmem_alloc", meminfo[SK_MEMINFO_WMEM_ALLOC]);
  kernel.Set("sndbuf", meminfo[SK_MEMINFO_SNDBUF]);
  kernel.Set("fwd_alloc", meminfo[SK_MEMINFO_FWD_ALLOC]);
  kernel.Set("wmem_queued", meminfo[SK_MEMINFO_WMEM_QUEUED]);
  kernel.Set("optmem", meminfo[SK_MEMINFO_OPTMEM]);
  kernel.Set("backlog", meminfo[SK_MEMINFO_BACKLOG]);
  stats.Set("kernel", kernel);
  return stats;
}

}  // namespace abyss
