#include "registry.h"

#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "socket.h"

namespace abyss {
namespace registry {

namespace {

std::mutex& Lock() {
  static std::mutex mutex;
  return mutex;
}

std::unordered_map<uint64_t, std::shared_ptr<SocketState>>& Sockets() {
  static auto* sockets = new std::unordered_map<uint64_t, std::shared_ptr<SocketState>>();
  return *sockets;
}

std::unordered_set<uint64_t>& Threads() {
  static auto* threads = new std::unordered_set<uint64_t>();
  return *threads;
}

// Threads whose environment has ended (one entry per exited thread that had loaded the addon).
std::unordered_set<uint64_t>& ExitedThreads() {
  static auto* threads = new std::unordered_set<uint64_t>();
  return *threads;
}

}  // namespace

void AddSocket(const std::shared_ptr<SocketState>& state) {
  std::lock_guard<std::mutex> lock(Lock());
  Sockets()[state->id] = state;
}

void RemoveSocket(uint64_t id) {
  std::shared_ptr<SocketState> removed;
  {
    std::lock_guard<std::mutex> lock(Lock());
    auto it = Sockets().find(id);
    if (it == Sockets().end()) return;
    removed = std::move(it->second);
    Sockets().erase(it);
  }
}

std::shared_ptr<SocketState> FindSocket(uint64_t id) {
  std::lock_guard<std::mutex> lock(Lock());
  auto it = Sockets().find(id);
  return it == Sockets().end() ? nullptr : it->second;
}

bool HasDescriptor(int fd) {
  std::lock_guard<std::mutex> lock(Lock());
  for (const auto& [id, state] : Sockets()) {
    if (state->fd == fd && !state->closed.load()) return true;
  }
  return false;
}

void AddThread(uint64_t thread_id) {
  std::lock_guard<std::mutex> lock(Lock());
  Threads().insert(thread_id);
}

std::vector<std::shared_ptr<SocketState>> EndThread(uint64_t thread_id) {
  std::lock_guard<std::mutex> lock(Lock());
  Threads().erase(thread_id);
  ExitedThreads().insert(thread_id);
  std::vector<std::shared_ptr<SocketState>> owned;
  for (const auto& [id, state] : Sockets()) {
    if (state->owner.load() == thread_id) owned.push_back(state);
  }
  return owned;
}

bool ThreadAlive(uint64_t thread_id) {
  std::lock_guard<std::mutex> lock(Lock());
  return Threads().count(thread_id) > 0;
}

bool HandOver(SocketState* state, uint64_t thread_id, bool may_be_loading) {
  std::lock_guard<std::mutex> lock(Lock());
  if (ExitedThreads().count(thread_id) > 0 || (!may_be_loading && Threads().count(thread_id) == 0)) return false;
  state->adoptable = true;
  state->owner = thread_id;
  return true;
}

}  // namespace registry
}  // namespace abyss
