#include "values.h"

#include <climits>
#include <cmath>
#include <cstring>
#include <vector>

#include "address.h"
#include "environment.h"
#include "errors.h"

namespace abyss {

std::string Show(Napi::Value value, int depth) {
  switch (value.Type()) {
    case napi_string:
      return "'" + value.As<Napi::String>().Utf8Value() + "'";
    case napi_number:
    case napi_boolean:
    case napi_bigint:
    case napi_undefined:
    case napi_null: {
      napi_value text;
      if (napi_coerce_to_string(value.Env(), value, &text) != napi_ok) return "?";
      return Napi::String(value.Env(), text).Utf8Value();
    }
    case napi_symbol:
      return "[symbol]";
    case napi_function:
      return "[function]";
    default:
      break;
  }
  if (!value.IsArray()) return "[object]";
  if (depth > 2) return "[…]";
  Napi::Array array = value.As<Napi::Array>();
  std::string text = "[";
  for (uint32_t i = 0; i < array.Length() && i < 8; i++) text += (i ? ", " : "") + Show(array.Get(i), depth + 1);
  return text + "]";
}

namespace {

constexpr size_t kMaxIov = IOV_MAX;
constexpr size_t kMaxPieces = 1 << 20;
constexpr size_t kMaxRawLength = 4096;

bool AsInteger(Napi::Value value, int64_t* out) {
  if (!value.IsNumber()) return false;
  double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number || std::fabs(number) > 9007199254740991.0) return false;
  *out = static_cast<int64_t>(number);
  return true;
}

const char* FamilyName(int family) {
  return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "local";
}

// Fills `input` from `value` as `row.kind` wants it on `family`; false when the shape is wrong.
bool ReadInput(const OptionRow& row, int family, Napi::Value value, OptionInput* input) {
  switch (row.kind) {
    case ValueKind::kBool:
      if (!value.IsBoolean()) return false;
      input->integer = value.As<Napi::Boolean>().Value();
      return true;
    case ValueKind::kInt:
      return AsInteger(value, &input->integer);
    case ValueKind::kInterfaceName:
    case ValueKind::kMtuDiscover:
      if (!value.IsString()) return false;
      input->text = value.As<Napi::String>().Utf8Value();
      return true;
    case ValueKind::kMulticastIf:
      if (family == AF_INET6) return AsInteger(value, &input->integer);
      if (!value.IsString()) return false;
      input->text = value.As<Napi::String>().Utf8Value();
      return true;
    case ValueKind::kMembership:
    case ValueKind::kSourceMembership: {
      uint32_t expected = row.kind == ValueKind::kMembership ? 2 : 3;
      if (!value.IsArray() || value.As<Napi::Array>().Length() != expected) return false;
      Napi::Array tuple = value.As<Napi::Array>();
      if (!tuple.Get(0u).IsString()) return false;
      input->text = tuple.Get(0u).As<Napi::String>().Utf8Value();
      Napi::Value interface = tuple.Get(1u);
      if (family == AF_INET6) {
        if (!AsInteger(interface, &input->interface_index)) return false;
      } else {
        if (!interface.IsString()) return false;
        input->interface_text = interface.As<Napi::String>().Utf8Value();
      }
      if (expected == 3) {
        if (!tuple.Get(2u).IsString()) return false;
        input->source = tuple.Get(2u).As<Napi::String>().Utf8Value();
      }
      return true;
    }
  }
  return false;
}

EncodedOption EncodeRaw(Napi::Env env, Napi::Value value, const std::string& operation) {
  EncodedOption encoded;
  encoded.name = "raw";
  encoded.shown = Show(value);
  int64_t level, option;
  Napi::Object raw = value.IsObject() ? value.As<Napi::Object>() : Napi::Object();
  if (raw.IsEmpty() || !AsInteger(raw.Get("level"), &level) || !AsInteger(raw.Get("option"), &option) ||
      level < 0 || level > INT_MAX || option < 0 || option > INT_MAX || !raw.Get("value").IsTypedArray() ||
      raw.Get("value").As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw BadArg(env, operation, "option 'raw' takes { level, option, value: Uint8Array }, got " + encoded.shown);
  }
  Napi::Uint8Array bytes = raw.Get("value").As<Napi::Uint8Array>();
  if (bytes.ByteLength() > kMaxRawLength) {
    throw BadArg(env, operation, "option 'raw' value longer than " + std::to_string(kMaxRawLength) + " bytes");
  }
  encoded.site = {static_cast<int>(level), static_cast<int>(option)};
  encoded.read_site = encoded.site;
  encoded.bytes.assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
  return encoded;
}

}  // namespace

EncodedOption EncodeOptionValue(Napi::Env env, int family, const std::string& name, Napi::Value value,
                                const std::string& operation) {
  if (name == "raw") return EncodeRaw(env, value, operation);
  const OptionRow* row = FindOption(name);
  if (row == nullptr) throw BadArg(env, operation, "unknown option '" + name + "'");
  EncodedOption encoded;
  encoded.name = name;
  encoded.shown = Show(value);
  encoded.row = row;
  if (!ReadInput(*row, family, value, &encoded.input)) {
    throw BadArg(env, operation, "bad value for option '" + name + "': " + encoded.shown);
  }
  switch (EncodeOption(*row, family, encoded.input, &encoded.bytes)) {
    case OptionStatus::kOk:
      break;
    case OptionStatus::kBadValue:
      throw BadArg(env, operation, "bad value for option '" + name + "': " + encoded.shown);
    case OptionStatus::kNotForFamily:
      throw MakeError(env, "einval",
                      operation + ": option '" + name + "' does not apply to " + FamilyName(family) + " sockets");
  }
  encoded.site = SetSite(*row, family);
  encoded.read_site = GetSite(*row, family);
  return encoded;
}

Napi::Value OptionValueToJs(Napi::Env env, const OptionRow& row, int family, const uint8_t* data, size_t size) {
  OptionOutput output;
  if (DecodeOption(row, family, data, size, &output) != OptionStatus::kOk) {
    throw MakeError(env, "einval", std::string("getopts: the kernel's value of '") + row.name + "' is not understood");
  }
  switch (output.type) {
    case OptionOutput::Type::kBool: return Napi::Boolean::New(env, output.integer != 0);
    case OptionOutput::Type::kText: return Napi::String::New(env, output.text);
    default: return Napi::Number::New(env, static_cast<double>(output.integer));
  }
}

bool AsBytes(Napi::Env env, Napi::Value value, iovec* out) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return false;
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    return false;
  }
  *out = {data, length};
  return true;
}

namespace {

// Appends one string piece's UTF-8 to `text`.
void GatherText(Napi::Env env, Napi::Value piece, GatheredData* out, std::vector<char>* text) {
  size_t length = 0;
  napi_get_value_string_utf8(env, piece, nullptr, 0, &length);
  size_t offset = text->size();
  text->resize(offset + length + 1);
  napi_get_value_string_utf8(env, piece, text->data() + offset, length + 1, &length);
  text->resize(offset + length);
  out->text_pieces.emplace_back(out->iov.size(), offset);
  out->iov.push_back({nullptr, length});
  out->bytes += length;
}

// More pieces than one sendmsg takes: the datagram is copied into one piece of `text`.
void Flatten(GatheredData* data, size_t first_iov, std::vector<char>* text) {
  std::vector<char> flat;
  flat.reserve(data->bytes);
  size_t next_text = 0;
  for (size_t i = first_iov; i < data->iov.size(); i++) {
    const char* base = static_cast<const char*>(data->iov[i].iov_base);
    while (next_text < data->text_pieces.size() && data->text_pieces[next_text].first < i) next_text++;
    if (next_text < data->text_pieces.size() && data->text_pieces[next_text].first == i) {
      base = text->data() + data->text_pieces[next_text].second;
    }
    flat.insert(flat.end(), base, base + data->iov[i].iov_len);
  }
  while (!data->text_pieces.empty() && data->text_pieces.back().first >= first_iov) data->text_pieces.pop_back();
  data->iov.resize(first_iov);
  size_t offset = text->size();
  text->insert(text->end(), flat.begin(), flat.end());
  data->text_pieces.emplace_back(data->iov.size(), offset);
  data->iov.push_back({nullptr, flat.size()});
}

}  // namespace

void CollectPieces(Napi::Env env, Napi::Value data, std::vector<Piece>* pieces) {
  // Depth first without recursion: iodata may nest as deep as an accumulator made it.
  std::vector<std::pair<Napi::Array, uint32_t>> stack;
  Napi::Value piece = data;
  // A cyclic array would never end: no datagram needs this many pieces.
  for (size_t visited = 0;; visited++) {
    if (visited > kMaxPieces) throw BadArg(env, "send", "iodata has more than a million pieces (is it cyclic?)");
    iovec bytes;
    if (AsBytes(env, piece, &bytes)) {
      pieces->push_back({piece, true});
    } else if (piece.IsString()) {
      pieces->push_back({piece, false});
    } else if (piece.IsArray()) {
      stack.emplace_back(piece.As<Napi::Array>(), 0);
    } else {
      throw BadArg(env, "send", "data must be iodata: a string, a Uint8Array or nested arrays of them");
    }
    while (!stack.empty() && stack.back().second >= stack.back().first.Length()) stack.pop_back();
    if (stack.empty()) break;
    piece = stack.back().first.Get(stack.back().second++);
  }
}

void GatherPieces(Napi::Env env, const Piece* pieces, size_t count, GatheredData* out, std::vector<char>* text,
                  bool keep_text) {
  if (!keep_text) text->clear();
  const size_t first_iov = out->iov.size();
  for (size_t i = 0; i < count; i++) {
    if (pieces[i].bytes) {
      // Read again: what a getter did to the buffer since it was collected counts.
      iovec bytes{nullptr, 0};
      napi_status status =
          napi_get_typedarray_info(env, pieces[i].value, nullptr, &bytes.iov_len, &bytes.iov_base, nullptr, nullptr);
      NAPI_THROW_IF_FAILED_VOID(env, status);
      out->iov.push_back(bytes);
      out->bytes += bytes.iov_len;
    } else {
      GatherText(env, Napi::Value(env, pieces[i].value), out, text);
    }
  }
  if (out->iov.size() - first_iov > kMaxIov) Flatten(out, first_iov, text);
  if (!keep_text) ResolveText(out, *text);
}

void ResolveText(GatheredData* data, std::vector<char>& text) {
  for (const auto& [index, offset] : data->text_pieces) data->iov[index].iov_base = text.data() + offset;
}

size_t EncodeSendAncillary(Napi::Env env, const int32_t* record, Napi::Object ancillary, int family, uint8_t* control) {
  SendAncillary in;
  int* const int_targets[kKeyPktinfo] = {&in.tos, &in.ttl, &in.tclass, &in.hoplimit, &in.segment_size};
  constexpr uint32_t kIntKeyFields[kKeyPktinfo] = {kSendTos, kSendTtl, kSendTclass, kSendHoplimit, kSendSegmentSize};
  const int32_t present = record[kSendRecordPresent];
  for (int which = 0; which < kKeyPktinfo; which++) {
    if ((present & (1 << which)) == 0) continue;
    *int_targets[which] = record[kSendRecordValues + which];
    in.present |= kIntKeyFields[which];
  }
  if (present & (1 << kKeyPktinfo)) {
    Napi::Value value = ancillary.Get("pktinfo");
    if (!value.IsObject()) throw BadArg(env, "send", "ancillary 'pktinfo' must be { address?, ifindex? }");
    Napi::Object pktinfo = value.As<Napi::Object>();
    Napi::Array fields = pktinfo.GetPropertyNames();
    for (uint32_t f = 0; f < fields.Length(); f++) {
      std::string field = fields.Get(f).As<Napi::String>().Utf8Value();
      if (field != "address" && field != "ifindex") throw BadArg(env, "send", "unknown pktinfo key '" + field + "'");
    }
    Napi::Value address = pktinfo.Get("address");
    if (!address.IsUndefined()) {
      SocketAddress parsed;
      if (!address.IsString() || !ParseIp(address.As<Napi::String>().Utf8Value(), 0, family, &parsed)) {
        throw BadArg(env, "send", "ancillary pktinfo.address is not an address of this socket's family: " +
                                      Show(address));
      }
      in.pktinfo_address = parsed.storage;
      in.present |= kSendPktinfoAddress;
    }
    Napi::Value ifindex = pktinfo.Get("ifindex");
    if (!ifindex.IsUndefined()) {
      int64_t index;
      if (!AsInteger(ifindex, &index) || index < 0 || index > INT_MAX) {
        throw BadArg(env, "send", "ancillary pktinfo.ifindex must be an interface index, got " + Show(ifindex));
      }
      in.pktinfo_ifindex = static_cast<uint32_t>(index);
      in.present |= kSendPktinfoIfindex;
    }
  }
  size_t written = 0;
  switch (EncodeAncillary(in, family, control, kMaxSendControl, &written)) {
    case EncodeResult::kOk:
      return written;
    case EncodeResult::kWrongFamily:
      throw BadArg(env, "send", std::string("ancillary data does not fit a ") + FamilyName(family) +
                                    " socket (tos/ttl are IPv4, tclass/hoplimit IPv6)");
    case EncodeResult::kOutOfRange:
      throw BadArg(env, "send", "ancillary value out of range (tos 0..255, ttl 1..255, tclass and hoplimit "
                                "-1..255, segmentSize 1..65535)");
    case EncodeResult::kNoRoom:
      break;
  }
  throw MakeError(env, "system_limit", "send: ancillary data larger than the control buffer");
}

void WriteAncillaryRecord(Napi::Env env, const ReceivedAncillary& ancillary, int32_t* record) {
  AddressCache& addresses = Environment::Get(env)->addresses;
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

namespace {

const char* OriginName(uint8_t origin) {
  switch (origin) {
    case SO_EE_ORIGIN_NONE: return "none";
    case SO_EE_ORIGIN_LOCAL: return "local";
    case SO_EE_ORIGIN_ICMP: return "icmp";
    case SO_EE_ORIGIN_ICMP6: return "icmp6";
    case SO_EE_ORIGIN_TXSTATUS: return "txstatus";
    case SO_EE_ORIGIN_ZEROCOPY: return "zerocopy";
    case SO_EE_ORIGIN_TXTIME: return "txtime";
    default: return "unknown";
  }
}

}  // namespace

Napi::Value ErrorQueueEntry(Napi::Env env, const ReceivedAncillary& ancillary, const sockaddr* destination,
                            socklen_t destination_length, const uint8_t* data, size_t length, bool truncated) {
  Napi::Object entry = Napi::Object::New(env);
  if (ancillary.present & kExtendedError) {
    const sock_extended_err& error = ancillary.error;
    Napi::Object described = Napi::Object::New(env);
    described.Set("origin", OriginName(error.ee_origin));
    described.Set("reason", ErrnoName(static_cast<int>(error.ee_errno)));
    described.Set("errno", error.ee_errno);
    described.Set("type", error.ee_type);
    described.Set("code", error.ee_code);
    described.Set("info", error.ee_info);
    if (ancillary.present & kErrorOffender) {
      Napi::Object offender = Napi::Object::New(env);
      const auto* address = reinterpret_cast<const sockaddr*>(&ancillary.offender);
      offender.Set("address", FormatIp(address));
      offender.Set("port", PortOf(address));
      described.Set("offender", offender);
    }
    Napi::Object ancillary_object = Napi::Object::New(env);
    ancillary_object.Set("error", described);
    entry.Set("ancillary", ancillary_object);
  }
  if (destination->sa_family == AF_UNIX) {
    Napi::Object local = Napi::Object::New(env);
    local.Set("local", LocalPath(reinterpret_cast<const sockaddr_un*>(destination), destination_length));
    entry.Set("address", local);
    entry.Set("port", 0);
  } else {
    entry.Set("address", destination_length > 0 ? Napi::Value(Napi::String::New(env, FormatIp(destination)))
                                                : Napi::Value(Napi::String::New(env, "unspec")));
    entry.Set("port", PortOf(destination));
  }
  entry.Set("data", Napi::Buffer<uint8_t>::Copy(env, data, length));
  if (truncated) entry.Set("truncated", true);
  return entry;
}

}  // namespace abyss
