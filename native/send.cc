// Sending: sendmsg for one datagram, sendmmsg for a batch (with UDP_SEGMENT where messages
// allow), gathering each datagram from the pieces the facade flattened its iodata into.
#include <cerrno>
#include <cstring>

#include "checks.h"
#include "environment.h"
#include "plain.h"
#include "segments.h"
#include "socket.h"

namespace abyss {

namespace {

// Appends one piece (a Uint8Array or a string) as an iovec; false for anything else.
bool AddPiece(napi_env env, napi_value piece, SendArena* arena) {
  iovec bytes;
  if (BytesOf(env, piece, &bytes)) {
    arena->iov.push_back(bytes);
    return true;
  }
  size_t length = 0;
  if (napi_get_value_string_utf8(env, piece, nullptr, 0, &length) != napi_ok) return false;
  size_t offset = arena->text.size();
  arena->text.resize(offset + length + 1);
  napi_get_value_string_utf8(env, piece, arena->text.data() + offset, length + 1, &length);
  arena->text.resize(offset + length);
  arena->text_pieces.emplace_back(arena->iov.size(), offset);
  arena->iov.push_back({nullptr, length});
  return true;
}

// The text pieces point into `text`, which has stopped growing.
void ResolveText(SendArena* arena) {
  for (const auto& [index, offset] : arena->text_pieces) arena->iov[index].iov_base = arena->text.data() + offset;
}

size_t BytesIn(const iovec* iov, size_t count) {
  size_t bytes = 0;
  for (size_t i = 0; i < count; i++) bytes += iov[i].iov_len;
  return bytes;
}

// Encodes send record `record` (and pktinfo's address, a string or undefined) into
// `control`; its length, or 0 with `*ok` false when the values do not encode (the facade
// checked them: only a bug gets here).
size_t EncodeRecord(napi_env env, const int32_t* record, napi_value pktinfo_address, int family, uint8_t* control,
                    bool* ok) {
  SendAncillary in;
  in.present = static_cast<uint32_t>(record[kRecordPresent]);
  *ok = true;
  if (in.present == 0) return 0;
  in.tos = record[kRecordTos];
  in.ttl = record[kRecordTtl];
  in.tclass = record[kRecordTclass];
  in.hoplimit = record[kRecordHoplimit];
  in.segment_size = record[kRecordSegmentSize];
  in.pktinfo_ifindex = static_cast<uint32_t>(record[kRecordIfindex]);
  if (in.present & kSendPktinfoAddress) {
    SocketAddress parsed;
    if (!ParseIp(StringValue(env, pktinfo_address), 0, family, &parsed)) {
      *ok = false;
      return 0;
    }
    in.pktinfo_address = parsed.storage;
  }
  size_t written = 0;
  *ok = EncodeAncillary(in, family, control, kMaxSendControl, &written) == EncodeResult::kOk;
  return written;
}

// Lays out sendmmsg's headers for `count` gathered messages, grouped by GroupSegments: a
// group of several is one UDP_SEGMENT send of the first one's size. How many headers.
size_t LayOutBatch(SendArena& arena, const SegmentCandidate* candidates, uint32_t count, bool segmenting, int family) {
  const size_t sends = GroupSegments(candidates, count, segmenting, arena.members);
  for (uint32_t send = 0, first = 0; send < sends; first += arena.members[send++]) {
    const SendArena::Message& lead = arena.messages[first];
    const SendArena::Message& last = arena.messages[first + arena.members[send] - 1];
    msghdr& header = arena.headers[send].msg_hdr;
    header = {};
    if (lead.destination.length > 0) {
      header.msg_name = const_cast<sockaddr*>(lead.destination.get());
      header.msg_namelen = lead.destination.length;
    }
    header.msg_iov = arena.iov.data() + lead.iov_begin;
    header.msg_iovlen = last.iov_end - lead.iov_begin;
    if (lead.control_length > 0) {
      header.msg_control = arena.control[first];
      header.msg_controllen = lead.control_length;
    } else if (arena.members[send] > 1) {
      SendAncillary segmented;
      segmented.present = kSendSegmentSize;
      segmented.segment_size = static_cast<int>(lead.bytes);
      size_t written = 0;
      EncodeAncillary(segmented, family, arena.control[first], kMaxSendControl, &written);
      header.msg_control = arena.control[first];
      header.msg_controllen = written;
    }
  }
  return sends;
}

}  // namespace

// send(data, destination, port, pktinfoAddress): one datagram from `data` (a Uint8Array, a
// string, or an array of them), to `destination` (undefined on a connected socket), with the
// ancillary data of send record 0. Bytes sent, or -errno (-EAGAIN: the send buffer is full).
Napi::Value NativeSocket::Send(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!ABYSS_EXPECT(Usable())) return Napi::Number::New(env, Fail(kSyscallSendmsg, EBADF));
  SendArena& arena = environment_->send_arena;
  arena.Clear();
  napi_value data = info[0];
  bool is_array = false;
  uint32_t count = 0;
  bool gathered = napi_is_array(env, data, &is_array) == napi_ok;
  if (gathered && is_array) {
    gathered = napi_get_array_length(env, data, &count) == napi_ok;
    for (uint32_t i = 0; i < count && gathered; i++) {
      napi_value piece;
      gathered = ElementOf(env, data, i, &piece) && AddPiece(env, piece, &arena);
    }
  } else if (gathered) {
    gathered = AddPiece(env, data, &arena);
  }
  // Read at once: every N-API call that succeeds clears the last error, and a refusal (a
  // thread being terminated) is the one way gathering what the facade checked can fail.
  const bool refused = !gathered && RuntimeRefused(env);
  ResolveText(&arena);

  msghdr header{};
  SocketAddress destination;
  napi_valuetype type;
  napi_typeof(env, info[1], &type);
  bool ok = gathered;
  if (ok && type != napi_undefined) {
    ok = ParseDestination(env, info[1], info[2].As<Napi::Number>().Uint32Value(), &destination);
    header.msg_name = destination.get();
    header.msg_namelen = destination.length;
  }
  alignas(cmsghdr) uint8_t control[kMaxSendControl];
  bool encoded = true;
  header.msg_controllen = ok ? EncodeRecord(env, environment_->send_records, info[3], state_->family, control, &encoded) : 0;
  if (!ok || !encoded) {
    ABYSS_EXPECT(refused);
    return Napi::Number::New(env, Fail(kSyscallSendmsg, EINVAL));
  }
  if (header.msg_controllen > 0) header.msg_control = control;
  header.msg_iov = arena.iov.data();
  header.msg_iovlen = arena.iov.size();
  ssize_t sent;
  do {
    sent = sendmsg(state_->fd, &header, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  int err = errno;
  arena.Trim();
  if (sent < 0) return Napi::Number::New(env, err == EAGAIN || err == EWOULDBLOCK ? -EAGAIN : Fail(kSyscallSendmsg, err));
  state_->counters.CountSent(static_cast<uint64_t>(sent));
  return Napi::Number::New(env, static_cast<double>(sent));
}

// Gathers the `count` messages of a sendBatch into the send arena (see SendBatch), and what
// GroupSegments needs to know of each; false when one does not encode (a bug: the facade
// checked them).
bool NativeSocket::GatherBatch(napi_env env, const BatchArguments& batch, SegmentCandidate* candidates) {
  SendArena& arena = environment_->send_arena;
  arena.Clear();
  uint32_t next_piece = batch.first_piece;
  for (uint32_t i = 0; i < batch.count; i++) {
    const int32_t* record = environment_->send_records + i * kRecordStride;
    SendArena::Message& message = arena.messages[i];
    message.iov_begin = arena.iov.size();
    for (const uint32_t end = next_piece + static_cast<uint32_t>(record[kRecordPieces]); next_piece < end; next_piece++) {
      napi_value piece;
      if (!ElementOf(env, batch.pieces, next_piece, &piece) || !AddPiece(env, piece, &arena)) return false;
    }
    message.iov_end = arena.iov.size();
    napi_value destination, pktinfo_address;
    napi_valuetype type;
    if (!ElementOf(env, batch.texts, 2 * (batch.first_message + i), &destination) ||
        !ElementOf(env, batch.texts, 2 * (batch.first_message + i) + 1, &pktinfo_address) ||
        napi_typeof(env, destination, &type) != napi_ok) {
      return false;
    }
    message.destination = SocketAddress{};
    if (type != napi_undefined &&
        !ParseDestination(env, destination, static_cast<uint32_t>(record[kRecordPort]), &message.destination)) {
      return false;
    }
    bool encoded = true;
    message.control_length = EncodeRecord(env, record, pktinfo_address, state_->family, arena.control[i], &encoded);
    if (!encoded) return false;
  }
  ResolveText(&arena);
  for (uint32_t i = 0; i < batch.count; i++) {
    SendArena::Message& message = arena.messages[i];
    message.bytes = BytesIn(arena.iov.data() + message.iov_begin, message.iov_end - message.iov_begin);
    const SendArena::Message& previous = arena.messages[i > 0 ? i - 1 : 0];
    candidates[i].bytes = message.bytes;
    candidates[i].pieces = message.iov_end - message.iov_begin;
    candidates[i].has_control = message.control_length > 0;
    candidates[i].same_destination =
        i > 0 && message.destination.length == previous.destination.length &&
        std::memcmp(&message.destination.storage, &previous.destination.storage, message.destination.length) == 0;
  }
  return true;
}

// sendBatch(pieces, firstPiece, texts, firstMessage, count): sends `count` (at most kMaxBatch)
// messages with one sendmmsg. Message i is send record i (its ancillary data, piece count and
// port), its pieces follow the previous message's from pieces[firstPiece], and
// texts[2 (firstMessage + i)] is its destination (undefined on a connected socket) and the
// entry after it its pktinfo address (or undefined). How many went out, or -errno (-EAGAIN:
// the send buffer was full before the first).
Napi::Value NativeSocket::SendBatch(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  const BatchArguments batch{info[0], info[1].As<Napi::Number>().Uint32Value(), info[2],
                             info[3].As<Napi::Number>().Uint32Value(),
                             std::min<uint32_t>(info[4].As<Napi::Number>().Uint32Value(), kMaxBatch)};
  if (!ABYSS_EXPECT(Usable())) return Napi::Number::New(env, Fail(kSyscallSendmsg, EBADF));
  SegmentCandidate candidates[kMaxBatch];
  if (!GatherBatch(env, batch, candidates)) {
    // GatherBatch returns at the first call that fails, so the last error is still its own.
    ABYSS_EXPECT(RuntimeRefused(env));
    return Napi::Number::New(env, Fail(kSyscallSendmsg, EINVAL));
  }
  SendArena& arena = environment_->send_arena;
  for (;;) {
    const size_t sends = LayOutBatch(arena, candidates, batch.count, gso_ && state_->family != AF_UNIX, state_->family);
    int sent;
    do {
      sent = sendmmsg(state_->fd, arena.headers, static_cast<unsigned>(sends), MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      int err = errno;
      // A path that cannot segment: one datagram per message from now on.
      if (arena.members[0] > 1 && (err == EIO || err == EINVAL || err == EOPNOTSUPP)) {
        gso_ = false;
        continue;
      }
      arena.Trim();
      return Napi::Number::New(env, err == EAGAIN || err == EWOULDBLOCK ? -EAGAIN : Fail(kSyscallSendmsg, err));
    }
    uint32_t messages_sent = 0;
    for (int send = 0; send < sent; send++) {
      for (uint32_t m = 0; m < arena.members[send]; m++) state_->counters.CountSent(arena.messages[messages_sent + m].bytes);
      messages_sent += arena.members[send];
    }
    arena.Trim();
    return Napi::Number::New(env, messages_sent);
  }
}

}  // namespace abyss
