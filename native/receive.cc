// Receiving: recvmmsg into the thread's arena, then one Buffer for the facade and a record
// per datagram in `meta` (protocol.h).
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "checks.h"
#include "environment.h"
#include "socket.h"

namespace abyss {

namespace {

// Any unix peer may pass descriptors (SCM_RIGHTS) with a datagram, and recvmsg opens them
// in this process. Nothing in the contract takes them: they are closed, not leaked.
void ClosePassedDescriptors(const msghdr& header) {
  int passed[kControlSize / sizeof(int)];
  size_t count = PassedDescriptors(static_cast<const uint8_t*>(header.msg_control), header.msg_controllen, passed,
                                   std::size(passed));
  for (size_t i = 0; i < count; i++) close(passed[i]);
}

// Fills the ancillary fields of a datagram's record.
void WriteAncillary(napi_env env, AddressCache& addresses, const ReceivedAncillary& ancillary, int32_t* record) {
  const uint32_t present = ancillary.present & ~kMalformed;
  record[kMetaPresent] = static_cast<int32_t>(present);
  if (present == 0) return;
  record[kMetaTos] = ancillary.tos;
  record[kMetaTtl] = ancillary.ttl;
  record[kMetaTclass] = ancillary.tclass;
  record[kMetaHoplimit] = ancillary.hoplimit;
  if (present & kPktinfo) {
    record[kMetaPktIfindex] = static_cast<int32_t>(ancillary.pktinfo_ifindex);
    record[kMetaPktAddress] = addresses.SlotFor(
        env, reinterpret_cast<const sockaddr*>(&ancillary.pktinfo_address), sizeof(sockaddr_storage));
    record[kMetaPktSpecDst] =
        ancillary.has_spec_dst
            ? addresses.SlotFor(env, reinterpret_cast<const sockaddr*>(&ancillary.pktinfo_spec_dst),
                                sizeof(sockaddr_storage))
            : -1;
  }
  if (present & kOrigDstAddr) {
    const auto* original = reinterpret_cast<const sockaddr*>(&ancillary.orig_dst);
    record[kMetaOrigDst] = addresses.SlotFor(env, original, sizeof(sockaddr_storage));
    record[kMetaOrigDstPort] = PortOf(original);
  }
  if (present & kTimestamp) {
    uint64_t seconds = static_cast<uint64_t>(ancillary.timestamp_sec);
    record[kMetaTimeSecHigh] = static_cast<int32_t>(seconds >> 32);
    record[kMetaTimeSecLow] = static_cast<int32_t>(seconds & 0xffffffffu);
    record[kMetaTimeNsec] = static_cast<int32_t>(ancillary.timestamp_nsec);
  }
  record[kMetaDropped] = static_cast<int32_t>(ancillary.dropped);
  record[kMetaSegmentSize] = ancillary.segment_size;
}

// The record of one datagram the kernel wrote `length` bytes of through `header`.
void WriteRecord(napi_env env, Environment& environment, int family, const msghdr& header, size_t offset,
                 size_t length, int32_t* record) {
  record[kMetaOffset] = static_cast<int32_t>(offset);
  record[kMetaLength] = static_cast<int32_t>(length);
  int flags = family == AF_UNIX ? kFlagLocal : 0;
  if (header.msg_flags & MSG_TRUNC) flags |= kFlagTruncated;
  // An unbound unix sender has no name: the kernel writes none, and what msg_name holds is
  // another datagram's.
  if (header.msg_namelen == 0) {
    flags |= kFlagUnnamed;
    record[kMetaAddress] = -1;
    record[kMetaPort] = 0;
  } else {
    const auto* sender = static_cast<const sockaddr*>(header.msg_name);
    record[kMetaAddress] = environment.addresses.SlotFor(env, sender, header.msg_namelen);
    record[kMetaPort] = PortOf(sender);
  }
  ReceivedAncillary ancillary;
  if (header.msg_controllen > 0) {
    DecodeAncillary(static_cast<const uint8_t*>(header.msg_control), header.msg_controllen, &ancillary);
    if (family == AF_UNIX) ClosePassedDescriptors(header);
  }
  if ((header.msg_flags & MSG_CTRUNC) || (ancillary.present & kMalformed)) flags |= kFlagCtruncated;
  record[kMetaFlags] = flags;
  WriteAncillary(env, environment.addresses, ancillary, record);
}

// One recvmsg with `flags` | MSG_DONTWAIT, retried on EINTR; its result.
ssize_t ReceiveOne(int fd, msghdr* header, int flags) {
  ssize_t length;
  do {
    length = recvmsg(fd, header, flags | MSG_DONTWAIT);
  } while (length < 0 && errno == EINTR);
  return length;
}

}  // namespace

// recv(max): reads up to `max` datagrams in one recvmmsg. The Buffer holding them back to
// back, described by the records in `meta`; 0 when none is waiting; -errno on failure.
Napi::Value NativeSocket::Recv(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  const int max = std::clamp(info[0].As<Napi::Number>().Int32Value(), 1, kMaxBatch);
  if (!ABYSS_EXPECT(Usable())) return Napi::Number::New(env, Fail(kSyscallRecvmsg, EBADF));
  Environment& environment = *environment_;
  ReceiveArena& arena = environment.Arena();
  int count;
  if (state_->family == AF_UNIX) {
    napi_value own = nullptr;
    count = ReceiveLocal(env, max, &own);
    if (own != nullptr) return Napi::Value(env, own);
  } else {
    mmsghdr* headers = arena.Prepare(max);
    do {
      count = recvmmsg(state_->fd, headers, max, MSG_TRUNC | MSG_CMSG_CLOEXEC, nullptr);
    } while (count < 0 && errno == EINTR);
    if (count < 0) count = -errno;
  }
  if (count == -EAGAIN || count == -EWOULDBLOCK || count == 0) {
    watcher_.Received(0, false);
    return Napi::Number::New(env, 0);
  }
  if (count < 0) return Napi::Number::New(env, Fail(kSyscallRecvmsg, -count));
  // However this call ends, the headers it used are made ready again.
  struct RecycleOnExit {
    ReceiveArena& arena;
    int used;
    ~RecycleOnExit() { arena.Recycle(used); }
  } recycle{arena, count};
  watcher_.Received(count, count == max);

  size_t total = 0;
  for (int i = 0; i < count; i++) total += std::min<size_t>(arena.headers[i].msg_len, kSlotSize);
  size_t offset = 0;
  uint8_t* data = nullptr;
  napi_value bytes = environment.slab.Reserve(env, total, &offset, &data);
  if (bytes == nullptr) return Napi::Number::New(env, Fail(kSyscallRecvmsg, ENOMEM));
  environment.addresses.BeginBatch();
  for (int i = 0; i < count; i++) {
    size_t length = std::min<size_t>(arena.headers[i].msg_len, kSlotSize);
    std::memcpy(data + offset, arena.iov[i].iov_base, length);
    WriteRecord(env, environment, state_->family, arena.headers[i].msg_hdr, offset, length,
                environment.meta + i * kMetaStride);
    offset += length;
  }
  environment.meta[kMetaCount] = count;
  return Napi::Value(env, bytes);
}

// recvInto(memory, slotSize, max): up to `max` datagrams in one recvmmsg straight into
// `memory` (a Uint8Array the facade checked holds `max` slots of `slotSize` bytes), datagram i
// in slot i: no copy, no Buffer. A datagram longer than a slot is cut and flagged truncated
// (unix ones too). Records in `meta` as recv writes them, offsets into `memory`. How many
// were read, 0 when none was waiting, or -errno.
Napi::Value NativeSocket::RecvInto(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  const size_t slot = info[1].As<Napi::Number>().Uint32Value();
  const int max = std::clamp(info[2].As<Napi::Number>().Int32Value(), 1, kMaxBatch);
  napi_typedarray_type type;
  size_t length = 0;
  void* memory = nullptr;
  const bool fits = napi_get_typedarray_info(env, info[0], &type, &length, &memory, nullptr, nullptr) == napi_ok &&
                    type == napi_uint8_array && memory != nullptr && slot > 0 && length / slot >= static_cast<size_t>(max);
  if (!ABYSS_EXPECT(Usable()) || !ABYSS_EXPECT(fits)) return Napi::Number::New(env, Fail(kSyscallRecvmsg, EINVAL));
  Environment& environment = *environment_;
  ReceiveArena& arena = environment.Arena();
  mmsghdr* headers = arena.PrepareInto(max, static_cast<uint8_t*>(memory), slot);
  // However this call ends, the headers point back at the arena's own slots.
  struct RestoreOnExit {
    ReceiveArena& arena;
    int used = 0;
    int pointed;
    ~RestoreOnExit() {
      arena.Recycle(used);
      arena.Repoint(pointed);
    }
  } restore{arena, 0, max};
  int count;
  do {
    count = recvmmsg(state_->fd, headers, max, MSG_TRUNC | MSG_CMSG_CLOEXEC, nullptr);
  } while (count < 0 && errno == EINTR);
  if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) count = 0;
  if (count < 0) return Napi::Number::New(env, Fail(kSyscallRecvmsg, errno));
  restore.used = count;
  watcher_.Received(count, count == max);
  if (count == 0) return Napi::Number::New(env, 0);
  environment.addresses.BeginBatch();
  for (int i = 0; i < count; i++) {
    WriteRecord(env, environment, state_->family, headers[i].msg_hdr, i * slot,
                std::min<size_t>(headers[i].msg_len, slot), environment.meta + i * kMetaStride);
  }
  environment.meta[kMetaCount] = count;
  return Napi::Number::New(env, count);
}

// Unix datagrams may be larger than a slot, and recvmmsg cannot know before it cuts one, so
// they are read one recvmsg each, each after SIOCINQ gave its size (the size of the next
// datagram on a unix datagram socket): into the arena's headers like recvmmsg's, or, for one
// larger than a slot, straight into a Buffer of its own (`*own`, with its record written).
// How many were read, or -errno.
int NativeSocket::ReceiveLocal(napi_env env, int max, napi_value* own) {
  Environment& environment = *environment_;
  ReceiveArena& arena = environment.Arena();
  mmsghdr* headers = arena.Prepare(max);
  int count = 0;
  for (; count < max; count++) {
    int next = 0;
    if (ioctl(state_->fd, SIOCINQ, &next) != 0) next = 0;
    msghdr& header = headers[count].msg_hdr;
    if (static_cast<size_t>(next) > kSlotSize) {
      // Next time, alone: this batch ends before it.
      if (count > 0) break;
      void* memory = nullptr;
      napi_value buffer;
      if (napi_create_buffer(env, next, &memory, &buffer) != napi_ok) return -ENOMEM;
      iovec whole{memory, static_cast<size_t>(next)};
      msghdr single = header;
      single.msg_iov = &whole;
      ssize_t length = ReceiveOne(state_->fd, &single, MSG_TRUNC | MSG_CMSG_CLOEXEC);
      if (length < 0) return -errno;
      environment.addresses.BeginBatch();
      WriteRecord(env, environment, AF_UNIX, single, 0, std::min<size_t>(length, next), environment.meta);
      environment.meta[kMetaCount] = 1;
      watcher_.Received(1, true);
      *own = buffer;
      return 1;
    }
    ssize_t length = ReceiveOne(state_->fd, &header, MSG_TRUNC | MSG_CMSG_CLOEXEC);
    if (length < 0) {
      if (count > 0) break;  // the next call meets the error again, or nothing
      return -errno;
    }
    headers[count].msg_len = static_cast<unsigned>(length);
  }
  return count;
}

// recvError(): one entry of the error queue (MSG_ERRQUEUE): the start of the datagram that
// failed as a Buffer, its record (ErrorField) over record 0 of `meta`. 0 when the queue is
// empty, -errno on failure.
Napi::Value NativeSocket::RecvError(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ABYSS_EXPECT(Usable())) return Napi::Number::New(env, Fail(kSyscallRecvmsg, EBADF));
  Environment& environment = *environment_;
  ReceiveArena& arena = environment.Arena();
  sockaddr_storage name{};
  iovec iov{arena.data.data(), kSlotSize};
  msghdr header{};
  header.msg_name = &name;
  header.msg_namelen = sizeof(name);
  header.msg_iov = &iov;
  header.msg_iovlen = 1;
  header.msg_control = arena.control[0];
  header.msg_controllen = kControlSize;
  ssize_t length = ReceiveOne(state_->fd, &header, MSG_ERRQUEUE);
  if (length < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Napi::Number::New(env, Fail(kSyscallRecvmsg, errno));
    watcher_.ErrorQueueDrained();
    return Napi::Number::New(env, 0);
  }
  // Taking an entry makes the next one's error the socket's pending error again; it was
  // reported when that entry arrived.
  int pending = 0;
  socklen_t size = sizeof(pending);
  getsockopt(state_->fd, SOL_SOCKET, SO_ERROR, &pending, &size);

  ReceivedAncillary ancillary;
  DecodeAncillary(arena.control[0], header.msg_controllen, &ancillary);
  int32_t* record = environment.meta;
  environment.addresses.BeginBatch();
  record[kErrorLength] = static_cast<int32_t>(length);
  record[kErrorFlags] = (header.msg_flags & MSG_TRUNC ? kFlagTruncated : 0) | (state_->family == AF_UNIX ? kFlagLocal : 0);
  const auto* destination = reinterpret_cast<const sockaddr*>(&name);
  record[kErrorAddress] = header.msg_namelen > 0 ? environment.addresses.SlotFor(env, destination, header.msg_namelen) : -1;
  record[kErrorPort] = header.msg_namelen > 0 ? PortOf(destination) : 0;
  record[kErrorPresent] = (ancillary.present & kExtendedError) ? 1 : 0;
  const sock_extended_err& error = ancillary.error;
  record[kErrorErrno] = static_cast<int32_t>(error.ee_errno);
  record[kErrorOrigin] = error.ee_origin;
  record[kErrorType] = error.ee_type;
  record[kErrorCode] = error.ee_code;
  record[kErrorInfo] = static_cast<int32_t>(error.ee_info);
  const auto* offender = reinterpret_cast<const sockaddr*>(&ancillary.offender);
  record[kErrorOffenderAddress] =
      (ancillary.present & kErrorOffender) ? environment.addresses.SlotFor(env, offender, sizeof(sockaddr_storage)) : -1;
  record[kErrorOffenderPort] = (ancillary.present & kErrorOffender) ? PortOf(offender) : 0;
  return Napi::Buffer<uint8_t>::Copy(env, arena.data.data(), static_cast<size_t>(length));
}

}  // namespace abyss
