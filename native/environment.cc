#include "environment.h"

#include <cstddef>
#include <cstring>

#include "registry.h"
#include "socket.h"

namespace abyss {

namespace {

// A typed array of `length` elements over fresh memory, kept alive by `*keep` (a reference
// held by the environment's shared object).
template <typename T>
napi_value NewTypedArray(napi_env env, napi_typedarray_type type, size_t length, T** data) {
  void* memory = nullptr;
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, length * sizeof(T), &memory, &buffer) != napi_ok ||
      napi_create_typedarray(env, type, length, buffer, 0, &array) != napi_ok) {
    return nullptr;
  }
  std::memset(memory, 0, length * sizeof(T));
  *data = static_cast<T*>(memory);
  return array;
}

}  // namespace

Environment* Environment::Get(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<Environment*>(data);
}

Environment::Environment(napi_env env) : env_(env) {}

Environment::~Environment() {
  // Torn down without the cleanup hook having run (a runtime that never calls it).
  for (NativeSocket* socket : sockets) socket->Detach(nullptr);
  loop.reset();
  if (shared_ != nullptr) napi_delete_reference(env_, shared_);
  if (dispatch != nullptr) napi_delete_reference(env_, dispatch);
  addresses.Reset(env_);
  slab.Reset(env_);
}

napi_value Environment::Init(napi_env env, napi_value dispatch_function, uint64_t thread, napi_value await_turn_end,
                             const char** why) {
  napi_value shared;
  if (shared_ != nullptr) {
    napi_get_reference_value(env, shared_, &shared);
    return shared;
  }
  thread_id = thread;
  napi_value meta_array = NewTypedArray(env, napi_int32_array, kMetaLengthTotal, &meta);
  napi_value send_array = NewTypedArray(env, napi_int32_array, kSendRecords * kRecordStride, &send_records);
  napi_value status_array = NewTypedArray(env, napi_int32_array, kStatusLength, &status);
  napi_value stats_array = NewTypedArray(env, napi_float64_array, kStatCount, &kernel_stats);
  napi_value addresses_array, empty;
  if (meta_array == nullptr || send_array == nullptr || status_array == nullptr || stats_array == nullptr ||
      napi_create_array_with_length(env, AddressCache::kSlots, &addresses_array) != napi_ok ||
      napi_create_string_utf8(env, "", 0, &empty) != napi_ok || napi_create_object(env, &shared) != napi_ok) {
    *why = "could not make the shared records";
    return nullptr;
  }
  // The facade reads the kernel at most once per socket and turn of this loop; the loop
  // counts the turns.
  napi_valuetype await_turn_end_type = napi_undefined;
  napi_typeof(env, await_turn_end, &await_turn_end_type);
  const bool thread_readiness = await_turn_end_type == napi_function;
  loop = thread_readiness ? MakeThreadLoop(env, &status[kStatusTurn], await_turn_end) : MakeLibuvLoop(env, &status[kStatusTurn]);
  if (!loop) {
    *why = thread_readiness ? "could not start the readiness thread" : "could not watch the libuv loop";
    return nullptr;
  }
  // Filled, so that V8 keeps its elements packed and a slot read stays fast.
  for (uint32_t slot = 0; slot < AddressCache::kSlots; slot++) napi_set_element(env, addresses_array, slot, empty);
  addresses.Attach(env, addresses_array);
  napi_set_named_property(env, shared, "meta", meta_array);
  napi_set_named_property(env, shared, "addresses", addresses_array);
  napi_set_named_property(env, shared, "sendRecords", send_array);
  napi_set_named_property(env, shared, "status", status_array);
  napi_set_named_property(env, shared, "kernelStats", stats_array);
  napi_create_reference(env, shared, 1, &shared_);
  napi_create_reference(env, dispatch_function, 1, &dispatch);
  registry::AddThread(thread_id);

  // Node waits for libuv's handles to close through an async cleanup hook, which says it is
  // done by removing itself. The thread backend closes everything within the call, so a
  // plain hook serves it, and that backend's runtimes need one: Deno (2.9) frees an async
  // hook's handle itself once the hook returns, and the removal would free it again.
  if (loop->ClosesLater()) {
    napi_add_async_cleanup_hook(env, BeginTeardown, this, nullptr);
  } else {
    napi_add_env_cleanup_hook(env, TeardownNow, this);
  }
  return shared;
}

void Environment::BeginTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* closing = new Closing;
  closing->done = [](void* data) { napi_remove_async_cleanup_hook(static_cast<napi_async_cleanup_hook_handle>(data)); };
  closing->data = hook;
  static_cast<Environment*>(arg)->Teardown(closing);
  closing->Release();
}

void Environment::TeardownNow(void* arg) { static_cast<Environment*>(arg)->Teardown(nullptr); }

void Environment::Teardown(Closing* closing) {
  for (NativeSocket* socket : sockets) socket->Detach(closing);
  sockets.clear();
  loop->Close(closing);
  // As a port closes when its owner dies: also what was handed here and never adopted.
  for (const auto& state : registry::EndThread(thread_id)) state->Close();
}

mmsghdr* ReceiveArena::Prepare(int max) {
  for (int i = prepared_; i < max; i++) {
    iov[i] = {data.data() + i * kSlotSize, kSlotSize};
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
  return headers;
}

mmsghdr* ReceiveArena::PrepareInto(int max, uint8_t* memory, size_t slot) {
  Prepare(max);
  for (int i = 0; i < max; i++) iov[i] = {memory + i * slot, slot};
  return headers;
}

void ReceiveArena::Repoint(int max) {
  for (int i = 0; i < max; i++) iov[i] = {data.data() + i * kSlotSize, kSlotSize};
}

void ReceiveArena::Recycle(int used) {
  for (int i = 0; i < used; i++) {
    headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    headers[i].msg_hdr.msg_controllen = kControlSize;
  }
}

ReceiveArena& Environment::Arena() {
  if (!arena_) arena_ = std::make_unique<ReceiveArena>();
  return *arena_;
}

napi_value ReceiveSlab::Reserve(napi_env env, size_t bytes, size_t* offset, uint8_t** data) {
  napi_value buffer = nullptr;
  void* memory = nullptr;
  if (bytes > kSize / 2) {
    if (napi_create_buffer(env, bytes, &memory, &buffer) != napi_ok) return nullptr;
    *offset = 0;
    *data = static_cast<uint8_t*>(memory);
    return buffer;
  }
  if (current_ == nullptr || kSize - used_ < bytes) {
    if (napi_create_buffer(env, kSize, &memory, &buffer) != napi_ok) return nullptr;
    // Node hands it out uninitialised, and every view's .buffer reaches all of it.
    std::memset(memory, 0, kSize);
    if (current_ != nullptr) napi_delete_reference(env, current_);
    napi_create_reference(env, buffer, 1, &current_);
    current_data_ = static_cast<uint8_t*>(memory);
    used_ = 0;
  } else {
    napi_get_reference_value(env, current_, &buffer);
  }
  *offset = used_;
  *data = current_data_;
  used_ += bytes;
  return buffer;
}

void ReceiveSlab::Reset(napi_env env) {
  if (current_ != nullptr) napi_delete_reference(env, current_);
  current_ = nullptr;
  current_data_ = nullptr;
  used_ = kSize;
}

void SendArena::Clear() {
  iov.clear();
  text.clear();
  text_pieces.clear();
}

void SendArena::Trim() {
  if (iov.capacity() * sizeof(iovec) > kKeptBytes) std::vector<iovec>().swap(iov);
  if (text.capacity() > kKeptBytes) std::vector<char>().swap(text);
  if (text_pieces.capacity() * sizeof(text_pieces[0]) > kKeptBytes) decltype(text_pieces)().swap(text_pieces);
}

bool AddressCache::Key::operator==(const Key& other) const {
  return family == other.family && size == other.size && scope == other.scope &&
         std::memcmp(bytes, other.bytes, size) == 0;
}

bool AddressCache::MakeKey(const sockaddr* address, socklen_t length, Key* key) {
  key->family = static_cast<uint8_t>(address->sa_family);
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    key->size = 4;
    std::memcpy(key->bytes, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, 4);
    return true;
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
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

void AddressCache::Attach(napi_env env, napi_value array) { napi_create_reference(env, array, 1, &array_); }

void AddressCache::Reset(napi_env env) {
  if (array_ != nullptr) napi_delete_reference(env, array_);
  array_ = nullptr;
}

bool AddressCache::Key::Names(const sockaddr* address, socklen_t length) const {
  if (address->sa_family != family) return false;
  if (family == AF_INET && length >= sizeof(sockaddr_in)) {
    return std::memcmp(bytes, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, 4) == 0;
  }
  if (family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(address);
    return scope == sin6->sin6_scope_id && std::memcmp(bytes, &sin6->sin6_addr, 16) == 0;
  }
  return false;
}

int AddressCache::SlotFor(napi_env env, const sockaddr* address, socklen_t length) {
  // A batch mostly comes from one sender: the previous datagram's slot, without hashing.
  if (last_slot_ >= 0 && entries_[last_slot_].used && entries_[last_slot_].key.Names(address, length)) {
    entries_[last_slot_].generation = generation_;
    return last_slot_;
  }
  const int slot = Find(env, address, length);
  if (address->sa_family != AF_UNIX) last_slot_ = slot;
  return slot;
}

int AddressCache::Find(napi_env env, const sockaddr* address, socklen_t length) {
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
    napi_value array, string;
    if (napi_get_reference_value(env, array_, &array) != napi_ok ||
        napi_create_string_utf8(env, text.data(), text.size(), &string) != napi_ok ||
        napi_set_element(env, array, static_cast<uint32_t>(slot), string) != napi_ok) {
      return -1;
    }
    entry.key = key;
    entry.used = true;
    entry.generation = generation_;
    return slot;
  }
  return -1;
}

}  // namespace abyss
