#include "socket.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/sock_diag.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "checks.h"
#include "environment.h"
#include "options.h"
#include "registry.h"
#include "plain.h"

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

// Opens a network namespace file without blocking (a FIFO there would block open(2) for
// good) and checks it is one: setns would otherwise refuse it only after the wait.
int OpenNamespace(const std::string& path, Syscall* failed) {
  *failed = kSyscallOpen;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return -errno;
  *failed = kSyscallIoctl;
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    int err = type < 0 && errno != ENOTTY ? errno : EINVAL;
    close(fd);
    return -err;
  }
  return fd;
}

// Creates the socket inside the network namespace at `netns`, as inet's netns option does:
// this thread enters it for the socket() call only. The descriptor, or -errno.
int SocketInNamespace(int domain, const std::string& netns, Syscall* failed) {
  *failed = kSyscallOpen;
  int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) return -errno;
  int target = OpenNamespace(netns, failed);
  if (target < 0) {
    close(original);
    return target;
  }
  *failed = kSyscallSetns;
  if (setns(target, CLONE_NEWNET) != 0) {
    int err = errno;
    close(original);
    close(target);
    return -err;
  }
  *failed = kSyscallSocket;
  int fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int socket_errno = errno;
  // Staying in the other namespace would move every later socket of this thread there.
  if (setns(original, CLONE_NEWNET) != 0) abort();
  close(original);
  close(target);
  return fd < 0 ? -socket_errno : fd;
}

void Restore(int fd, const OptionRow* row, OptionSite site, std::vector<uint8_t> previous) {
  if (row != nullptr && row->doubled && previous.size() == sizeof(int)) {
    int value;
    std::memcpy(&value, previous.data(), sizeof(value));
    value /= 2;
    std::memcpy(previous.data(), &value, sizeof(value));
  }
  if (row != nullptr && row->restore.applies() &&
      setsockopt(fd, row->restore.level, row->restore.name, previous.data(), previous.size()) == 0) {
    return;
  }
  setsockopt(fd, site.level, site.name, previous.data(), previous.size());
}

// One setopts entry, encoded: where setsockopt writes it and how to undo it.
struct EncodedOption {
  const OptionRow* row = nullptr;  // null for raw
  OptionSite site;
  OptionSite read_site;
  std::vector<uint8_t> bytes;
  OptionInput input;  // kept to encode the inverse of a set-only row
};

void Invert(int fd, int family, const EncodedOption& option) {
  const OptionRow* inverse = option.row != nullptr && option.row->inverse ? FindOption(option.row->inverse) : nullptr;
  std::vector<uint8_t> bytes;
  if (inverse == nullptr || EncodeOption(*inverse, family, option.input, &bytes) != OptionStatus::kOk) return;
  OptionSite site = SetSite(*inverse, family);
  setsockopt(fd, site.level, site.name, bytes.data(), bytes.size());
}

// Applies every option; on a refusal, puts back what this call changed, newest first.
// The index of the refused entry and its errno, or -1.
int ApplyOptions(int fd, int family, const std::vector<EncodedOption>& options, int* err) {
  struct Undo {
    const EncodedOption* option;
    std::vector<uint8_t> previous;
    bool readable;
  };
  std::vector<Undo> applied;
  for (size_t index = 0; index < options.size(); index++) {
    const EncodedOption& option = options[index];
    Undo undo{&option, {}, false};
    if (option.read_site.applies()) {
      undo.previous.resize(option.row != nullptr ? ReadSize(*option.row, family) : option.bytes.size());
      socklen_t size = undo.previous.size();
      undo.readable = getsockopt(fd, option.read_site.level, option.read_site.name, undo.previous.data(), &size) == 0;
      undo.previous.resize(size);
    }
    if (setsockopt(fd, option.site.level, option.site.name, option.bytes.data(), option.bytes.size()) != 0) {
      *err = errno;
      for (auto it = applied.rbegin(); it != applied.rend(); ++it) {
        if (it->readable) {
          Restore(fd, it->option->row, it->option->site, it->previous);
        } else {
          Invert(fd, family, *it->option);
        }
      }
      return static_cast<int>(index);
    }
    applied.push_back(std::move(undo));
  }
  return -1;
}

// An interface given as a number (its index) or a name; -1 when no interface has that name.
int64_t InterfaceIndex(napi_env env, napi_value value) {
  napi_valuetype type;
  napi_typeof(env, value, &type);
  if (type == napi_number) {
    int64_t index = -1;
    napi_get_value_int64(env, value, &index);
    return index;
  }
  std::string name = StringValue(env, value);
  unsigned index = if_nametoindex(name.c_str());
  return index == 0 ? -1 : index;
}

// Fills `option` from setopts entry `entry`: [row, a, b, c] of plain values (see lib/options.ts).
// 0; ENODEV when an interface name names no interface; EINVAL when the runtime refused to
// read the entry (a thread being terminated: see RuntimeRefused).
int ReadEntry(napi_env env, napi_value entries, size_t entry, int family, EncodedOption* option) {
  napi_value slots[4];
  for (uint32_t i = 0; i < 4; i++) {
    if (!ElementOf(env, entries, static_cast<uint32_t>(entry * 4 + i), &slots[i])) return EINVAL;
  }
  int32_t row_index = -1;
  napi_get_value_int32(env, slots[0], &row_index);
  if (row_index < 0) {
    // raw: level, option, value bytes
    int32_t level = 0, name = 0;
    napi_get_value_int32(env, slots[1], &level);
    napi_get_value_int32(env, slots[2], &name);
    option->site = {level, name};
    option->read_site = option->site;
    iovec bytes{nullptr, 0};
    BytesOf(env, slots[3], &bytes);
    const auto* data = static_cast<const uint8_t*>(bytes.iov_base);
    option->bytes.assign(data, data + bytes.iov_len);
    return 0;
  }
  const OptionRow& row = OptionTable()[row_index];
  option->row = &row;
  option->site = SetSite(row, family);
  option->read_site = GetSite(row, family);
  OptionInput& input = option->input;
  switch (row.kind) {
    case ValueKind::kMembership:
    case ValueKind::kSourceMembership:
      input.text = StringValue(env, slots[1]);
      if (family == AF_INET6) {
        input.interface_index = InterfaceIndex(env, slots[2]);
        if (input.interface_index < 0) return ENODEV;
      } else {
        input.interface_text = StringValue(env, slots[2]);
      }
      if (row.kind == ValueKind::kSourceMembership) input.source = StringValue(env, slots[3]);
      return 0;
    case ValueKind::kMulticastIf:
      if (family == AF_INET6) {
        input.integer = InterfaceIndex(env, slots[1]);
        return input.integer >= 0 ? 0 : ENODEV;
      }
      input.text = StringValue(env, slots[1]);
      return 0;
    case ValueKind::kInterfaceName:
      input.text = StringValue(env, slots[1]);
      return 0;
    default:
      napi_get_value_int64(env, slots[1], &input.integer);
      return 0;
  }
}

}  // namespace

const char* const kSyscallNames[kSyscallCount] = {
    "socket", "open", "setns", "ioctl", "fcntl", "getsockopt", "setsockopt", "bind", "connect",
    "getsockname", "getpeername", "recvmsg", "sendmsg", "epoll_ctl",
};

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

// Methods and accessors are writable and configurable, as a JavaScript class's are (so that a
// test can wrap them, as test/boundary.test.ts does).
Napi::Function NativeSocket::Define(Napi::Env env) {
  return DefineClass(env, "NativeSocket",
                     {
                         InstanceAccessor<&NativeSocket::Id>("id", napi_configurable),
                         InstanceAccessor<&NativeSocket::Fd>("fd", napi_configurable),
                         InstanceAccessor<&NativeSocket::Family>("family", napi_configurable),
                         InstanceAccessor<&NativeSocket::Closed>("closed", napi_configurable),
                         InstanceAccessor<&NativeSocket::CounterView>("counters", napi_configurable),
                         InstanceAccessor<&NativeSocket::WatchCellView>("watchCells", napi_configurable),
                         InstanceMethod<&NativeSocket::Open>("open", napi_default_method),
                         InstanceMethod<&NativeSocket::OpenDescriptor>("openDescriptor", napi_default_method),
                         InstanceMethod<&NativeSocket::Adopt>("adopt", napi_default_method),
                         InstanceMethod<&NativeSocket::HandOver>("handOver", napi_default_method),
                         InstanceMethod<&NativeSocket::Reap>("reap", napi_default_method),
                         InstanceMethod<&NativeSocket::Close>("close", napi_default_method),
                         InstanceMethod<&NativeSocket::Watch>("watch", napi_default_method),
                         InstanceMethod<&NativeSocket::KeepAlive>("keepAlive", napi_default_method),
                         InstanceMethod<&NativeSocket::Coalesce>("coalesce", napi_default_method),
                         InstanceMethod<&NativeSocket::Bind>("bind", napi_default_method),
                         InstanceMethod<&NativeSocket::Connect>("connect", napi_default_method),
                         InstanceMethod<&NativeSocket::Name>("name", napi_default_method),
                         InstanceMethod<&NativeSocket::Setopts>("setopts", napi_default_method),
                         InstanceMethod<&NativeSocket::Getopt>("getopt", napi_default_method),
                         InstanceMethod<&NativeSocket::GetoptRaw>("getoptRaw", napi_default_method),
                         InstanceMethod<&NativeSocket::Stats>("stats", napi_default_method),
                         InstanceMethod<&NativeSocket::Recv>("recv", napi_default_method),
                         InstanceMethod<&NativeSocket::RecvInto>("recvInto", napi_default_method),
                         InstanceMethod<&NativeSocket::RecvError>("recvError", napi_default_method),
                         InstanceMethod<&NativeSocket::Send>("send", napi_default_method),
                         InstanceMethod<&NativeSocket::SendBatch>("sendBatch", napi_default_method),
                     });
}

// new NativeSocket(): a handle with no socket yet; open, openDescriptor or adopt gives it one.
NativeSocket::NativeSocket(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<NativeSocket>(info), watcher_(this) {
  environment_ = Environment::Get(info.Env());
  state_ = std::make_shared<SocketState>();
  state_->closed = true;
  environment_->sockets.insert(this);
}

NativeSocket::~NativeSocket() {
  if (environment_ == nullptr) return;
  environment_->sockets.erase(this);
  watcher_.Stop(nullptr);
  // Unreachable now: nobody can read it any more, so it is closed as a port dies with its owner.
  if (state_->owner.load() == environment_->thread_id) state_->Close();
}

void NativeSocket::Detach(Closing* closing) {
  watcher_.Stop(closing);
  if (state_->owner.load() == environment_->thread_id) state_->Close();
  environment_ = nullptr;
}

bool NativeSocket::Usable() const {
  return environment_ != nullptr && !state_->closed.load() && state_->owner.load() == environment_->thread_id;
}

int NativeSocket::Fail(int syscall, int err) { return environment_->Fail(static_cast<Syscall>(syscall), err); }

void NativeSocket::Dispatch(int events, int err) {
  napi_env env = Env();
  if (environment_ == nullptr) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  watch_cells_[kWatchDispatching] = 1;
  napi_value self, dispatch, arguments[2], result;
  if (napi_get_reference_value(env, _ref, &self) == napi_ok && self != nullptr &&
      napi_get_reference_value(env, environment_->dispatch, &dispatch) == napi_ok &&
      napi_create_int32(env, events, &arguments[0]) == napi_ok && napi_create_int32(env, err, &arguments[1]) == napi_ok &&
      napi_make_callback(env, nullptr, self, dispatch, 2, arguments, &result) != napi_ok) {
    // The facade's handler threw (a 'udp' listener, say): that is the process's uncaught
    // exception, as with node:dgram. A thread being terminated has no exception to report.
    bool pending = false;
    napi_value exception;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &exception) == napi_ok) {
      napi_fatal_exception(env, exception);
    }
  }
  watch_cells_[kWatchDispatching] = 0;
  // What the facade left in the cells, the callback and its microtasks done (protocol.h).
  const int watched = Usable() ? ApplyWatch() : 0;
  napi_close_handle_scope(env, scope);
  // A watch that failed (epoll_ctl: ENOMEM): the facade hears it as the socket's error,
  // once; the report's own watch failing again is not reported in turn.
  if (watched < 0 && !reporting_watch_failure_) {
    reporting_watch_failure_ = true;
    Dispatch(0, -watched);
    reporting_watch_failure_ = false;
  }
}

Napi::Value NativeSocket::Id(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(state_->id));
}

Napi::Value NativeSocket::Fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state_->closed.load() ? -1 : state_->fd);
}

Napi::Value NativeSocket::Family(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state_->family);
}

Napi::Value NativeSocket::Closed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_->closed.load());
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

// An Int32Array over the watch cells (protocol.h WatchCell); it keeps them alive while it lives.
Napi::Value NativeSocket::WatchCellView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* keep = new std::shared_ptr<int32_t[]>(watch_cells_);
  Napi::ArrayBuffer memory = Napi::ArrayBuffer::New(
      env, watch_cells_.get(), kWatchCells * sizeof(int32_t),
      [](Napi::Env, void*, std::shared_ptr<int32_t[]>* hint) { delete hint; }, keep);
  return Napi::Int32Array::New(env, kWatchCells, memory, 0);
}

// open(domain, netns): a new socket of `domain`, in the namespace at `netns` (a path) unless
// it is undefined.
Napi::Value NativeSocket::Open(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  int domain = info[0].As<Napi::Number>().Int32Value();
  int fd;
  Syscall failed = kSyscallSocket;
  if (info[1].IsUndefined()) {
    fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fd = -errno;
  } else {
    fd = SocketInNamespace(domain, StringValue(env, info[1]), &failed);
  }
  if (fd < 0) return Napi::Number::New(env, Fail(failed, -fd));
  Take(fd, domain);
  return Napi::Number::New(env, 0);
}

// openDescriptor(fd): takes an open datagram socket; its domain, or -errno.
Napi::Value NativeSocket::OpenDescriptor(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int type = 0, domain = 0;
  socklen_t size = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0) return Napi::Number::New(env, Fail(kSyscallGetsockopt, errno));
  if (type != SOCK_DGRAM) return Napi::Number::New(env, Fail(kSyscallGetsockopt, EPROTOTYPE));
  size = sizeof(domain);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) != 0) {
    return Napi::Number::New(env, Fail(kSyscallGetsockopt, errno));
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return Napi::Number::New(env, Fail(kSyscallFcntl, errno));
  Take(fd, domain);
  return Napi::Number::New(env, domain);
}

// This handle's socket is now `fd`, of `domain`, owned by this thread.
void NativeSocket::Take(int fd, int domain) {
  state_->fd = fd;
  state_->family = domain;
  state_->id = next_socket_id++;
  state_->owner = environment_->thread_id;
  state_->closed = false;
  registry::AddSocket(state_);
  Hold(referenced_);
}

// adopt(id): this handle takes the socket handed to this thread; an AdoptResult.
Napi::Value NativeSocket::Adopt(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  uint64_t id = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  std::shared_ptr<SocketState> state = registry::FindSocket(id);
  int result = kAdopted;
  if (!state) {
    result = id == 0 || id >= next_socket_id.load() ? kAdoptUnknown : kAdoptClosed;
  } else if (state->owner.load() != environment_->thread_id) {
    result = kAdoptNotHere;
  } else if (!state->adoptable.exchange(false)) {
    result = kAdoptTaken;
  } else {
    state_ = std::move(state);
    Hold(referenced_);
  }
  return Napi::Number::New(env, result);
}

// handOver(threadId, mayBeLoading): makes `threadId` the owner; this handle stops watching.
// mayBeLoading: the target is a live Worker that may not have loaded the addon yet.
// 0, or 1 when the thread is unknown or has exited (registry::HandOver).
Napi::Value NativeSocket::HandOver(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  uint64_t target = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  if (!registry::HandOver(state_.get(), target, info[1].As<Napi::Boolean>().Value())) return Napi::Number::New(env, 1);
  watcher_.Stop(nullptr);
  watch_cells_[kWatchEvents] = watch_cells_[kWatchBusy] = 0;
  Hold(false);
  return Napi::Number::New(env, 0);
}

// reap(threadId): the thread exited; close the socket if it still owns it.
void NativeSocket::Reap(const Napi::CallbackInfo& info) {
  uint64_t thread = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  if (state_->owner.load() == thread && !registry::ThreadAlive(thread)) state_->Close();
}

void NativeSocket::Close(const Napi::CallbackInfo& info) {
  if (!ABYSS_EXPECT(Usable())) return;
  watcher_.Stop(nullptr);
  watch_cells_[kWatchEvents] = watch_cells_[kWatchBusy] = 0;
  Hold(false);
  state_->Close();
}

// watch(): applies the watch cells: the events to wait for (kReadable | kWritable, 0 to
// stop) and whether the facade is busy (a pending call, active mode, a send). Busy, the
// socket keeps the loop alive unless the program unref'd it, as a libuv handle keeps a
// node:dgram socket's; otherwise the watch lingers only to save system calls. 0 or -errno.
Napi::Value NativeSocket::Watch(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ABYSS_EXPECT(Usable())) return Napi::Number::New(env, Fail(kSyscallEpollCtl, EBADF));
  int result = ApplyWatch();
  return Napi::Number::New(env, result < 0 ? Fail(kSyscallEpollCtl, -result) : 0);
}

int NativeSocket::ApplyWatch() {
  const int events = watch_cells_[kWatchEvents] & (kReadable | kWritable);
  const bool busy = watch_cells_[kWatchBusy] != 0;
  Hold(busy || referenced_);
  int result = watcher_.Watch(environment_->loop.get(), state_->fd, events);
  watcher_.KeepLoopAlive(busy && referenced_);
  return result;
}

// What may collect an open socket: only one the program unref'd with nothing pending is
// collected (and closed); a referenced one, or one something waits on, is held here.
void NativeSocket::Hold(bool strong) {
  if (strong == held_) return;
  if (strong) {
    Ref();
  } else {
    Unref();
  }
  held_ = strong;
}

// keepAlive(referenced): node:dgram's ref() (true) and unref() (false): whether the socket
// keeps the event loop alive while something waits on it, and whether it may be collected
// while nothing does.
void NativeSocket::KeepAlive(const Napi::CallbackInfo& info) {
  referenced_ = info[0].As<Napi::Boolean>().Value();
  const bool busy = watch_cells_[kWatchBusy] != 0;
  if (Usable()) Hold(busy || referenced_);
  watcher_.KeepLoopAlive(busy && referenced_);
}

// coalesce(usecs, packets): the `coalesce` option (coalesce.h); usecs 0 turns it off. Each
// handle has its own: it is applied again by the thread that adopts the socket. 0 or -errno.
Napi::Value NativeSocket::Coalesce(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ABYSS_EXPECT(Usable())) return Napi::Number::New(env, Fail(kSyscallEpollCtl, EBADF));
  const int result = watcher_.Coalesce(info[0].As<Napi::Number>().Uint32Value(), info[1].As<Napi::Number>().Uint32Value());
  return Napi::Number::New(env, result < 0 ? Fail(kSyscallEpollCtl, -result) : 0);
}

// bind(address, port): an IP literal and port, or a unix path. 0 or -errno.
Napi::Value NativeSocket::Bind(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  SocketAddress address;
  if (!ABYSS_EXPECT(Usable()) ||
      !ABYSS_EXPECT(ParseDestination(env, info[0], info[1].As<Napi::Number>().Uint32Value(), &address))) {
    return Napi::Number::New(env, Fail(kSyscallBind, EINVAL));
  }
  if (BindOwnPort(state_->fd, address) != 0) return Napi::Number::New(env, Fail(kSyscallBind, errno));
  return Napi::Number::New(env, 0);
}

// connect(address, port): as bind. 0 or -errno.
Napi::Value NativeSocket::Connect(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  SocketAddress address;
  if (!ABYSS_EXPECT(Usable()) ||
      !ABYSS_EXPECT(ParseDestination(env, info[0], info[1].As<Napi::Number>().Uint32Value(), &address))) {
    return Napi::Number::New(env, Fail(kSyscallConnect, EINVAL));
  }
  int result;
  do {
    result = connect(state_->fd, address.get(), address.length);
  } while (result != 0 && errno == EINTR);
  if (result != 0) return Napi::Number::New(env, Fail(kSyscallConnect, errno));
  return Napi::Number::New(env, 0);
}

// name(peer): [address, port] of this end (getsockname) or the peer's (getpeername); a unix
// socket's port is -1. -errno on failure.
Napi::Value NativeSocket::Name(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool peer = info[0].As<Napi::Boolean>().Value();
  std::shared_lock<std::shared_mutex> lock(state_->lifecycle);
  Syscall syscall = peer ? kSyscallGetpeername : kSyscallGetsockname;
  if (state_->closed.load()) return Napi::Number::New(env, Fail(syscall, EBADF));
  SocketAddress address;
  address.length = sizeof(address.storage);
  int result = peer ? getpeername(state_->fd, address.get(), &address.length)
                    : getsockname(state_->fd, address.get(), &address.length);
  if (result != 0) return Napi::Number::New(env, Fail(syscall, errno));
  Napi::Array name = Napi::Array::New(env, 2);
  if (address.family() == AF_UNIX) {
    std::string path = LocalPath(reinterpret_cast<const sockaddr_un*>(address.get()), address.length);
    name.Set(0u, Napi::String::New(env, path.data(), path.size()));
    name.Set(1u, Napi::Number::New(env, -1));
  } else {
    name.Set(0u, Napi::String::New(env, FormatIp(address.get())));
    name.Set(1u, Napi::Number::New(env, PortOf(address.get())));
  }
  return name;
}

// setopts(entries, count): `count` entries of four plain values each (lib/options.ts encodes
// them); all are applied or none. 0, or -errno with the refused entry in status[kStatusEntry].
Napi::Value NativeSocket::Setopts(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  napi_value entries = info[0];
  const size_t count = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  if (!ABYSS_EXPECT(Usable())) return Napi::Number::New(env, Fail(kSyscallSetsockopt, EBADF));
  std::vector<EncodedOption> encoded;
  encoded.reserve(count);
  for (size_t i = 0; i < count; i++) {
    EncodedOption& option = encoded.emplace_back();
    // An interface name may have gone since the facade looked (ENODEV); the facade checked
    // the values against the same table, so a value that does not encode is its bug.
    int err = ReadEntry(env, entries, i, state_->family, &option);
    if (err == 0 && option.row != nullptr &&
               !ABYSS_EXPECT(EncodeOption(*option.row, state_->family, option.input, &option.bytes) == OptionStatus::kOk)) {
      err = EINVAL;
    }
    if (err != 0) {
      environment_->status[kStatusEntry] = static_cast<int32_t>(i);
      return Napi::Number::New(env, Fail(kSyscallSetsockopt, err));
    }
  }
  int err = 0;
  int refused = ApplyOptions(state_->fd, state_->family, encoded, &err);
  if (refused < 0) return Napi::Number::New(env, 0);
  environment_->status[kStatusEntry] = refused;
  return Napi::Number::New(env, Fail(kSyscallSetsockopt, err));
}

// getopt(row): the option's value as the kernel has it (a number, or a string for the text
// kinds); undefined on failure, with the errno in status.
Napi::Value NativeSocket::Getopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const OptionRow& row = OptionTable()[info[0].As<Napi::Number>().Uint32Value()];
  std::shared_lock<std::shared_mutex> lock(state_->lifecycle);
  if (state_->closed.load()) {
    Fail(kSyscallGetsockopt, EBADF);
    return env.Undefined();
  }
  OptionSite site = GetSite(row, state_->family);
  std::vector<uint8_t> bytes(ReadSize(row, state_->family));
  socklen_t size = bytes.size();
  if (getsockopt(state_->fd, site.level, site.name, bytes.data(), &size) != 0) {
    Fail(kSyscallGetsockopt, errno);
    return env.Undefined();
  }
  OptionOutput output;
  if (DecodeOption(row, state_->family, bytes.data(), size, &output) != OptionStatus::kOk) {
    Fail(kSyscallGetsockopt, EPROTO);
    return env.Undefined();
  }
  if (output.is_text) return Napi::String::New(env, output.text);
  return Napi::Number::New(env, static_cast<double>(output.integer));
}

// getoptRaw(level, option, length): the bytes getsockopt returns, or -errno.
Napi::Value NativeSocket::GetoptRaw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int level = info[0].As<Napi::Number>().Int32Value();
  int option = info[1].As<Napi::Number>().Int32Value();
  std::vector<uint8_t> bytes(info[2].As<Napi::Number>().Uint32Value());
  std::shared_lock<std::shared_mutex> lock(state_->lifecycle);
  if (state_->closed.load()) return Napi::Number::New(env, Fail(kSyscallGetsockopt, EBADF));
  socklen_t size = bytes.size();
  if (getsockopt(state_->fd, level, option, bytes.data(), &size) != 0) {
    return Napi::Number::New(env, Fail(kSyscallGetsockopt, errno));
  }
  return Napi::Buffer<uint8_t>::Copy(env, bytes.data(), size);
}

// stats(): fills the shared kernel statistics (protocol.h KernelStat). 0 or -errno.
Napi::Value NativeSocket::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_lock<std::shared_mutex> lock(state_->lifecycle);
  if (state_->closed.load()) return Napi::Number::New(env, Fail(kSyscallGetsockopt, EBADF));
  uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t size = sizeof(meminfo);
  if (getsockopt(state_->fd, SOL_SOCKET, SO_MEMINFO, meminfo, &size) != 0) {
    return Napi::Number::New(env, Fail(kSyscallGetsockopt, errno));
  }
  int inq = 0, outq = 0;
  if (ioctl(state_->fd, SIOCINQ, &inq) != 0 || ioctl(state_->fd, SIOCOUTQ, &outq) != 0) {
    return Napi::Number::New(env, Fail(kSyscallIoctl, errno));
  }
  double* stats = environment_->kernel_stats;
  stats[kStatRxQueue] = inq;
  stats[kStatTxQueue] = outq;
  stats[kStatDrops] = meminfo[SK_MEMINFO_DROPS];
  stats[kStatRmemAlloc] = meminfo[SK_MEMINFO_RMEM_ALLOC];
  stats[kStatRcvbuf] = meminfo[SK_MEMINFO_RCVBUF];
  stats[kStatWmemAlloc] = meminfo[SK_MEMINFO_WMEM_ALLOC];
  stats[kStatSndbuf] = meminfo[SK_MEMINFO_SNDBUF];
  stats[kStatFwdAlloc] = meminfo[SK_MEMINFO_FWD_ALLOC];
  stats[kStatWmemQueued] = meminfo[SK_MEMINFO_WMEM_QUEUED];
  stats[kStatOptmem] = meminfo[SK_MEMINFO_OPTMEM];
  stats[kStatBacklog] = meminfo[SK_MEMINFO_BACKLOG];
  return Napi::Number::New(env, 0);
}

bool NativeSocket::ParseDestination(napi_env env, napi_value text, uint32_t port, SocketAddress* out) {
  if (state_->family == AF_UNIX) return MakeLocal(StringValue(env, text), out);
  // The same text and port as last time: the same address, without parsing it again.
  char bytes[sizeof(last_destination_text_)];
  size_t length = 0;
  if (napi_get_value_string_utf8(env, text, bytes, sizeof(bytes), &length) != napi_ok) return false;
  const bool fits = length + 1 < sizeof(bytes);
  if (fits && length == last_destination_length_ && port == last_destination_port_ &&
      std::memcmp(bytes, last_destination_text_, length) == 0) {
    *out = last_destination_;
    return true;
  }
  if (!ParseIp(fits ? std::string(bytes, length) : StringValue(env, text), static_cast<uint16_t>(port), state_->family,
               out)) {
    return false;
  }
  if (fits) {
    std::memcpy(last_destination_text_, bytes, length);
    last_destination_length_ = length;
    last_destination_port_ = port;
    last_destination_ = *out;
  }
  return true;
}

}  // namespace abyss
