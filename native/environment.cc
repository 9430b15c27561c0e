#include "environment.h"

#include <cstddef>
#include <cstring>

#include "address.h"
#include "registry.h"
#include "socket.h"

namespace abyss {

namespace {

// Poll handles still closing when the environment is torn down; the last one to close
// lets Node finish the teardown.
struct Teardown {
  size_t pending = 0;
  napi_async_cleanup_hook_handle hook = nullptr;
};

void OnTeardownPollClosed(uv_handle_t* handle) {
  auto* teardown = static_cast<Teardown*>(handle->data);
  delete reinterpret_cast<uv_poll_t*>(handle);
  if (--teardown->pending == 0) {
    napi_remove_async_cleanup_hook(teardown->hook);
    delete teardown;
  }
}

}  // namespace

Environment::Environment(Napi::Env env) {
  Napi::Array keys = Napi::Array::New(env, kMessageKeys);
  keys.Set(kKeyData, "data");
  keys.Set(kKeyAddress, "address");
  keys.Set(kKeyPort, "port");
  keys.Set(kKeyAncillary, "ancillary");
  message_keys = Napi::Persistent(keys);
  napi_get_uv_event_loop(env, &loop);
  napi_add_async_cleanup_hook(env, BeginTeardown, this, &cleanup_hook_);
}

Environment::~Environment() {
  for (NativeSocket* socket : sockets) {
    socket->Detach([](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }, nullptr);
  }
}

void Environment::BeginTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* self = static_cast<Environment*>(arg);
  auto* teardown = new Teardown;
  teardown->hook = hook;
  for (NativeSocket* socket : self->sockets) {
    if (socket->Detach(OnTeardownPollClosed, teardown)) teardown->pending++;
  }
  self->sockets.clear();
  // As a port closes when its owner dies: also what was handed here and never adopted.
  registry::RemoveThread(self->thread_id);
  for (const auto& state : registry::SocketsOwnedBy(self->thread_id)) state->Close();
  // uv_close never calls back synchronously, so the count is complete here.
  if (teardown->pending == 0) {
    napi_remove_async_cleanup_hook(hook);
    delete teardown;
  }
}

mmsghdr* ReceiveArena::Prepare(int max, size_t slot) {
  if (slot > data.size()) data.resize(slot);
  if (slot != prepared_slot_ || data.data() != prepared_data_) prepared_ = 0;
  for (int i = prepared_; i < max; i++) {
    iov[i] = {data.data() + i * slot, slot};
    msghdr& header = headers[i].msg_hdr;
    header = {};
    header.msg_name = &names[i];
    header.msg_namelen = sizeof(sockaddr_storage);
    header.msg_iov = &iov[i];
    header.msg_iovlen = 1;
    header.msg_control = control[i];
    header.msg_controllen = kControlSize;
  }
  if (max > prepared_) prepared_ = max;
  prepared_slot_ = slot;
  prepared_data_ = data.data();
  return headers;
}

void ReceiveArena::Recycle(int used) {
  for (int i = 0; i < used; i++) {
    headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    headers[i].msg_hdr.msg_controllen = kControlSize;
  }
}

ReceiveArena& Environment::Arena() {
  if (!arena_) {
    arena_ = std::make_unique<ReceiveArena>();
    arena_->data.resize(kMaxBatch * kSlotSize);
  }
  return *arena_;
}

Napi::Object ReceiveSlab::Reserve(Napi::Env env, size_t bytes, size_t* offset, uint8_t** data) {
  if (bytes > kSize / 2) {
    Napi::Buffer<uint8_t> own = Napi::Buffer<uint8_t>::New(env, bytes);
    *offset = 0;
    *data = own.Data();
    return own;
  }
  if (current_.IsEmpty() || kSize - used_ < bytes) {
    Napi::Buffer<uint8_t> slab = Napi::Buffer<uint8_t>::New(env, kSize);
    // Node hands it out uninitialised, and every view's .buffer reaches all of it.
    std::memset(slab.Data(), 0, kSize);
    current_ = Napi::Persistent<Napi::Object>(slab);
    current_data_ = slab.Data();
    used_ = 0;
  }
  *offset = used_;
  *data = current_data_;
  used_ += bytes;
  return current_.Value();
}

bool AddressCache::Key::operator==(const Key& other) const {
  return family == other.family && size == other.size && scope == other.scope &&
         std::memcmp(bytes, other.bytes, size) == 0;
}

bool AddressCache::MakeKey(const sockaddr* address, socklen_t length, Key* key) {
  key->family = static_cast<uint8_t>(address->sa_family);
  if (address->sa_family == AF_INET) {
    key->size = 4;
    std::memcpy(key->bytes, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, 4);
    return true;
  }
  if (address->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(address);
    key->size = 16;
    key->scope = sin6->sin6_scope_id;
    std::memcpy(key->bytes, &sin6->sin6_addr, 16);
    return true;
  }
  if (address->sa_family == AF_UNIX && length > offsetof(sockaddr_un, sun_path)) {
    size_t size = std::min<size_t>(length - offsetof(sockaddr_un, sun_path), sizeof(key->bytes));
    key->size = static_cast<uint8_t>(size);
    std::memcpy(key->bytes, reinterpret_cast<const sockaddr_un*>(address)->sun_path, size);
    return true;
  }
  return false;
}

int AddressCache::SlotFor(Napi::Env env, const sockaddr* address, socklen_t length) {
  Key key;
  if (!MakeKey(address, length, &key)) return -1;
  uint32_t hash = 2166136261u ^ key.family ^ (key.scope * 16777619u);
  for (size_t i = 0; i < key.size; i++) hash = (hash ^ key.bytes[i]) * 16777619u;
  // Probe past slots this batch already handed out, so no record's string is replaced
  // before the facade has read it.
  for (int probe = 0; probe < kSlots; probe++) {
    int slot = static_cast<int>((hash + probe) % kSlots);
    Entry& entry = entries_[slot];
    if (entry.used && entry.key == key) {
      entry.generation = generation_;
      return slot;
    }
    if (entry.used && entry.generation == generation_) continue;
    std::string text = address->sa_family == AF_UNIX
                           ? LocalPath(reinterpret_cast<const sockaddr_un*>(address), length)
                           : FormatIp(address);
    array_.Value().Set(static_cast<uint32_t>(slot), Napi::String::New(env, text));
    entry.key = key;
    entry.used = true;
    entry.generation = generation_;
    return slot;
  }
  return -1;
}

}  // namespace abyss
