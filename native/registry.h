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

void AddThread(uint64_t thread_id);
// The thread's environment ended: it is remembered as exited, and its open sockets (its own,
// and those handed to it and never adopted) are returned, for it to close.
std::vector<std::shared_ptr<SocketState>> EndThread(uint64_t thread_id);
bool ThreadAlive(uint64_t thread_id);
// Hands `state` to `thread_id`: refused (false) when that thread has exited, or, unless
// `may_be_loading` (a live Worker that may not have loaded the addon yet), when it has not
// loaded the addon. Atomic with EndThread, so nothing is handed to a thread after it closed
// what it owned. Thread ids are never reused, and Deno's Worker keeps its threadId after it
// exits: remembering exits is how such a Worker is refused (when it had loaded the addon).
bool HandOver(SocketState* state, uint64_t thread_id, bool may_be_loading);

}  // namespace registry
}  // namespace abyss
