// The binding's entry: one Environment per JS environment, the socket class, and the
// constants the facade shares with the native side.
#include <napi.h>
#include <uv.h>

#include "cmsg.h"
#include "environment.h"
#include "errors.h"
#include "registry.h"
#include "socket.h"

namespace abyss {

namespace {

// init(TransportError, dispatch, threadId): returns { meta, addresses, sendRecords } for the facade.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Environment* environment = Environment::Get(env);
  // Another copy of the facade in this environment (a second install of the package, a
  // test runner's fresh module registry) shares the first one's records and callbacks.
  if (!environment->shared.IsEmpty()) return environment->shared.Value();
  if (!info[0].IsFunction() || !info[1].IsFunction() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "init(TransportError, dispatch, threadId)");
  }
  environment->error_class = Napi::Persistent(info[0].As<Napi::Function>());
  environment->dispatch = Napi::Persistent(info[1].As<Napi::Function>());
  environment->thread_id = static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value());
  registry::AddThread(environment->thread_id);
  Napi::Int32Array meta = Napi::Int32Array::New(env, kMaxBatch * kMetaStride + 1);
  environment->meta_ref = Napi::Persistent(meta);
  environment->meta = meta.Data();
  Napi::Int32Array send_records = Napi::Int32Array::New(env, (kMaxBatch + 1) * kSendRecordStride);
  environment->send_records_ref = Napi::Persistent(send_records);
  environment->send_records = send_records.Data();
  Napi::Array addresses = Napi::Array::New(env, AddressCache::kSlots);
  // Filled, so that V8 keeps its elements packed and a slot read stays fast.
  Napi::String empty = Napi::String::New(env, "");
  for (uint32_t slot = 0; slot < AddressCache::kSlots; slot++) addresses.Set(slot, empty);
  environment->addresses.Attach(addresses);
  Napi::Object shared = Napi::Object::New(env);
  shared.Set("meta", meta);
  shared.Set("addresses", addresses);
  shared.Set("sendRecords", send_records);
  environment->shared = Napi::Persistent(shared);
  return shared;
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object constants = Napi::Object::New(env);
  auto set = [&](const char* name, int value) { constants.Set(name, value); };
  set("META_OFFSET", kMetaOffset);
  set("META_LENGTH", kMetaLength);
  set("META_FLAGS", kMetaFlags);
  set("META_PORT", kMetaPort);
  set("META_ADDRESS", kMetaAddress);
  set("META_PRESENT", kMetaPresent);
  set("META_TOS", kMetaTos);
  set("META_TTL", kMetaTtl);
  set("META_TCLASS", kMetaTclass);
  set("META_HOPLIMIT", kMetaHoplimit);
  set("META_PKT_IFINDEX", kMetaPktIfindex);
  set("META_PKT_ADDRESS", kMetaPktAddress);
  set("META_PKT_SPEC_DST", kMetaPktSpecDst);
  set("META_ORIG_DST", kMetaOrigDst);
  set("META_ORIG_DST_PORT", kMetaOrigDstPort);
  set("META_TIME_SEC_HIGH", kMetaTimeSecHigh);
  set("META_TIME_SEC_LOW", kMetaTimeSecLow);
  set("META_TIME_NSEC", kMetaTimeNsec);
  set("META_DROPPED", kMetaDropped);
  set("META_SEGMENT_SIZE", kMetaSegmentSize);
  set("META_STRIDE", kMetaStride);
  set("META_COUNT", kMaxBatch * kMetaStride);
  set("FLAG_TRUNCATED", kFlagTruncated);
  set("FLAG_CTRUNCATED", kFlagCtruncated);
  set("FLAG_LOCAL", kFlagLocal);
  set("HAS_TOS", kTos);
  set("HAS_TTL", kTtl);
  set("HAS_TCLASS", kTclass);
  set("HAS_HOPLIMIT", kHoplimit);
  set("HAS_PKTINFO", kPktinfo);
  set("HAS_ORIG_DST", kOrigDstAddr);
  set("HAS_TIMESTAMP", kTimestamp);
  set("HAS_DROPPED", kDropped);
  set("HAS_SEGMENT_SIZE", kSegmentSize);
  set("SEND_PRESENT", kSendRecordPresent);
  set("SEND_VALUES", kSendRecordValues);
  set("SEND_STRIDE", kSendRecordStride);
  set("SEND_TOS", kKeyTos);
  set("SEND_TTL", kKeyTtl);
  set("SEND_TCLASS", kKeyTclass);
  set("SEND_HOPLIMIT", kKeyHoplimit);
  set("SEND_SEGMENT_SIZE", kKeySegmentSize);
  set("SEND_PKTINFO", kKeyPktinfo);
  set("MAX_BATCH", kMaxBatch);
  set("RECV_OCT", kRecvOct);
  set("RECV_CNT", kRecvCnt);
  set("RECV_MAX", kRecvMax);
  set("RECV_AVG", kRecvAvg);
  set("RECV_DVI", kRecvDvi);
  set("READABLE", UV_READABLE);
  set("WRITABLE", UV_WRITABLE);
  return constants;
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  // The addon may be loaded more than once in one environment; all loads share its state.
  if (Environment::Get(env) == nullptr) env.SetInstanceData<Environment>(new Environment(env));
  exports.Set("NativeSocket", NativeSocket::Define(env));
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace

}  // namespace abyss

static Napi::Object RegisterModule(Napi::Env env, Napi::Object exports) { return abyss::Register(env, exports); }

NODE_API_MODULE(abyss_transport, RegisterModule)
