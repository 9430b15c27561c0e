// The binding's entry: one Environment per JS environment, the socket class, the option
// table, and the constants of the boundary (protocol.h) that lib/protocol.ts checks against
// its own copy.
#include <napi.h>
#include <net/if.h>

#include "cmsg.h"
#include "environment.h"
#include "loop.h"
#include "options.h"
#include "protocol.h"
#include "registry.h"
#include "socket.h"

namespace abyss {

namespace {

// init(dispatch, threadId, awaitTurnEnd): the shared memory (protocol.h) for the facade, and the
// loop (loop.h): the thread backend when awaitTurnEnd is a function (undefined: libuv). Another
// copy of the facade in this environment (a second install of the package, a test runner's
// fresh module registry) gets the first one's, and readiness goes to the first one's dispatch.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Environment* environment = Environment::Get(env);
  const char* why = "";
  napi_value shared = environment->Init(env, info[0], static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()),
                                        info[2], &why);
  if (shared == nullptr) throw Napi::Error::New(env, std::string("abyss-transport: ") + why);
  return Napi::Value(env, shared);
}

// turnEnded(): the thread backend's turn ended (loop_thread.cc); the facade's setImmediate
// after awaitTurnEnd.
void TurnEnded(const Napi::CallbackInfo& info) {
  Environment* environment = Environment::Get(info.Env());
  if (environment->loop) environment->loop->TurnEnded();
}

// ownsDescriptor(fd): whether a socket of this package has `fd` open.
Napi::Value OwnsDescriptor(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), registry::HasDescriptor(info[0].As<Napi::Number>().Int32Value()));
}

// interfaceIndex(name): the index of the network interface `name`, 0 when there is none.
Napi::Value InterfaceIndex(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>().Utf8Value();
  return Napi::Number::New(info.Env(), name.size() < IF_NAMESIZE ? if_nametoindex(name.c_str()) : 0);
}

Napi::Value Site(Napi::Env env, OptionSite site) {
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, site.level);
  pair.Set(1u, site.name);
  return pair;
}

// One entry per row: { name, kind, inet, inet6, local (each [level, name], level -1 where it
// does not apply), min, max, readable, ancillary, inverse }.
Napi::Array Options(Napi::Env env) {
  const auto& table = OptionTable();
  Napi::Array rows = Napi::Array::New(env, table.size());
  for (uint32_t i = 0; i < table.size(); i++) {
    const OptionRow& row = table[i];
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", row.name);
    entry.Set("kind", static_cast<int>(row.kind));
    entry.Set("inet", Site(env, row.inet));
    entry.Set("inet6", Site(env, row.inet6));
    entry.Set("local", Site(env, row.local));
    entry.Set("min", static_cast<double>(row.min));
    entry.Set("max", static_cast<double>(row.max));
    entry.Set("readable", row.readable);
    entry.Set("ancillary", row.ancillary);
    entry.Set("inverse", row.inverse != nullptr ? Napi::Value(Napi::String::New(env, row.inverse)) : env.Null());
    rows.Set(i, entry);
  }
  return rows;
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object constants = Napi::Object::New(env);
  auto set = [&](const char* name, int value) { constants.Set(name, value); };
#define ABYSS_EXPORT_CONSTANT(name, value) set(#name, static_cast<int>(value));
  ABYSS_PROTOCOL_CONSTANTS(ABYSS_EXPORT_CONSTANT)
#undef ABYSS_EXPORT_CONSTANT
  set("HAS_TOS", kTos);
  set("HAS_TTL", kTtl);
  set("HAS_TCLASS", kTclass);
  set("HAS_HOPLIMIT", kHoplimit);
  set("HAS_PKTINFO", kPktinfo);
  set("HAS_ORIG_DST", kOrigDstAddr);
  set("HAS_TIMESTAMP", kTimestamp);
  set("HAS_DROPPED", kDropped);
  set("HAS_SEGMENT_SIZE", kSegmentSize);
  set("SEND_TOS", kSendTos);
  set("SEND_TTL", kSendTtl);
  set("SEND_TCLASS", kSendTclass);
  set("SEND_HOPLIMIT", kSendHoplimit);
  set("SEND_PKTINFO_ADDRESS", kSendPktinfoAddress);
  set("SEND_PKTINFO_IFINDEX", kSendPktinfoIfindex);
  set("SEND_SEGMENT_SIZE", kSendSegmentSize);
  set("RECV_OCT", kRecvOct);
  set("RECV_CNT", kRecvCnt);
  set("RECV_MAX", kRecvMax);
  set("RECV_AVG", kRecvAvg);
  set("RECV_DVI", kRecvDvi);
  set("SEND_OCT", kSendOct);
  set("SEND_CNT", kSendCnt);
  set("SEND_MAX", kSendMax);
  set("SEND_AVG", kSendAvg);
  set("COUNTER_COUNT", kCounterCount);
  set("READABLE", kReadable);
  set("WRITABLE", kWritable);
  set("AF_INET", AF_INET);
  set("AF_INET6", AF_INET6);
  set("AF_UNIX", AF_UNIX);
  set("KIND_BOOL", static_cast<int>(ValueKind::kBool));
  set("KIND_INT", static_cast<int>(ValueKind::kInt));
  set("KIND_INTERFACE_NAME", static_cast<int>(ValueKind::kInterfaceName));
  set("KIND_MTU_DISCOVER", static_cast<int>(ValueKind::kMtuDiscover));
  set("KIND_MULTICAST_IF", static_cast<int>(ValueKind::kMulticastIf));
  set("KIND_MEMBERSHIP", static_cast<int>(ValueKind::kMembership));
  set("KIND_SOURCE_MEMBERSHIP", static_cast<int>(ValueKind::kSourceMembership));
  Napi::Array syscalls = Napi::Array::New(env, kSyscallCount);
  for (uint32_t i = 0; i < kSyscallCount; i++) syscalls.Set(i, kSyscallNames[i]);
  constants.Set("SYSCALLS", syscalls);
  constants.Set("OPTIONS", Options(env));
  return constants;
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  // The addon may be loaded more than once in one environment; all loads share its state.
  if (Environment::Get(env) == nullptr) {
    env.SetInstanceData<Environment>(new Environment(env));
  }
  exports.Set("NativeSocket", NativeSocket::Define(env));
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("turnEnded", Napi::Function::New(env, TurnEnded, "turnEnded"));
  exports.Set("ownsDescriptor", Napi::Function::New(env, OwnsDescriptor, "ownsDescriptor"));
  exports.Set("interfaceIndex", Napi::Function::New(env, InterfaceIndex, "interfaceIndex"));
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace

}  // namespace abyss

static Napi::Object RegisterModule(Napi::Env env, Napi::Object exports) { return abyss::Register(env, exports); }

NODE_API_MODULE(abyss_transport, RegisterModule)
