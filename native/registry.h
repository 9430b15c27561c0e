// Process-wide bookkeeping for ownership across threads: which kernel sockets are open
// (so a thread can adopt one by id) and which threads have loaded the addon.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace abyss {

struct SocketState;

namespace registry {

void AddSocket(const std::shared_ptr<SocketState>& state);
void RemoveSocket(uint64_t id);
std::shared_ptr<SocketState> FindSocket(uint64_t id);
// Whether an open socket of this process's sockets has descriptor `fd`.
bool HasDescriptor(int fd);
// Open sockets whose owner is `thread_id`.
std::vector<std::shared_ptr<SocketState>> SocketsOwnedBy(uint64_t thread_id);

void AddThread(uint64_t thread_id);
void RemoveThread(uint64_t thread_id);
bool ThreadAlive(uint64_t thread_id);

}  // namespace registry
}  // namespace abyss
