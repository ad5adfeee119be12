// FETCH and UID FETCH (RFC 3501 6.4.5, RFC 3516 BINARY, RFC 7162 CHANGEDSINCE/MODSEQ): flags and
// dates from the entry, ENVELOPE/BODYSTRUCTURE from the cached parse, sections as byte ranges
// of the stored blob (MailboxStore::fetch_raw).
#include <algorithm>
#include <charconv>
#include <map>

#include <spdlog/spdlog.h>

#include "message_cache.hpp"
#include "render.hpp"
#include "session_impl.hpp"
#include "store/mime.hpp"

namespace govmail::imap {
namespace {

using Kind = FetchAtt::Kind;
using json = nlohmann::json;

bool needs_meta(const FetchAtt& a) {
  switch (a.kind) {
    case Kind::envelope:
    case Kind::bodystructure:
    case Kind::body:
    case Kind::binary:
    case Kind::binary_size:
    case Kind::rfc822_header:
    case Kind::rfc822_text:
      return true;
    case Kind::body_section:
      return !(a.section.part.empty() && a.section.kind == Section::Kind::full);
    default:
      return false;
  }
}

bool sets_seen(const FetchAtt& a) {
  return ((a.kind == Kind::body_section || a.kind == Kind::binary) && !a.peek) ||
         a.kind == Kind::rfc822 || a.kind == Kind::rfc822_text;
}

std::string literal(const std::string& bytes, bool binary = false) {
  bool nul = binary && bytes.find('\0') != std::string::npos;
  return std::string(nul ? "~{" : "{") + std::to_string(bytes.size()) + "}\r\n" + bytes;
}

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

ByteRange apply_partial(ByteRange r, const std::optional<Partial>& p) {
  if (!p) return r;
  auto begin = std::min(r.end, r.begin + p->offset);
  return {begin, std::min(r.end, begin + p->length)};
}

std::string cut(std::string s, const std::optional<Partial>& p) {
  if (!p) return s;
  if (p->offset >= s.size()) return {};
  return s.substr(p->offset, p->length);
}

// Attributes answered with the whole message: worth loading several messages in one query.
bool whole_message(const FetchAtt& a) {
  return a.kind == Kind::rfc822 ||
         (a.kind == Kind::body_section && !a.partial && a.section.part.empty() &&
          a.section.kind == Section::Kind::full);
}

// Attributes answered from the message's header alone (a client's message list fetches header
// fields of 1:*): loaded for many messages per query too, not one round trip each.
bool header_only(const FetchAtt& a) {
  using SK = Section::Kind;
  return a.kind == Kind::rfc822_header ||
         (a.kind == Kind::body_section && a.section.part.empty() &&
          (a.section.kind == SK::header || a.section.kind == SK::header_fields ||
           a.section.kind == SK::header_fields_not));
}

using CachePart = MessageCache::Part;

// IMAP renderings taken from the message cache for one FETCH (shared: an eviction meanwhile
// cannot take them away).
struct Rendered {
  MessageCache::Value envelope, bodystructure, body;
};
// Header blocks or whole messages of one batch, by message.
using Raws = std::map<store::MessageId, MessageCache::Value>;

// What the attributes of one FETCH need of each message's parsed view.
struct Wanted {
  bool envelope = false;
  bool bodystructure = false;
  bool body = false;
  bool tree = false;  // the BODYSTRUCTURE document itself (byte ranges of sections, BINARY)
  bool internal_date = false;
  bool header = false;  // the header block, from the cache or else with the stored renderings
};

CachePart envelope_part(bool utf8) {
  return utf8 ? CachePart::envelope_utf8 : CachePart::envelope;
}
CachePart bodystructure_part(bool utf8) {
  return utf8 ? CachePart::bodystructure_utf8 : CachePart::bodystructure;
}
CachePart body_part(bool utf8) {
  return utf8 ? CachePart::body_utf8 : CachePart::body;
}

bool top_header(const Section& sec) {
  using SK = Section::Kind;
  return sec.part.empty() && (sec.kind == SK::header || sec.kind == SK::header_fields ||
                              sec.kind == SK::header_fields_not);
}

class Fetcher {
 public:
  // `raw`, when given, is the whole message (or, with `header_only`, its header): byte ranges
  // inside it are cut from it, not queried. `rendered` holds cached renderings, if any.
  // `to_store`, when given, collects the plain renderings computed here for the store.
  Fetcher(Session::Impl& s, const store::MessageMeta& m, const std::string* raw, bool header_only,
          const Rendered* rendered, std::map<store::MessageId, store::ImapForms>* to_store)
      : s_(s),
        m_(m),
        raw_(raw),
        raw_is_header_(header_only),
        rendered_(rendered),
        to_store_(to_store) {}

  // Appends the item for `a` to `out` when it needs no store read (a message list's items, with
  // the header block loaded): no coroutine and no string of its own per item. false: item().
  bool append_ready(const FetchAtt& a, std::string& out) {
    const auto& e = m_.entry;
    switch (a.kind) {
      case Kind::flags:
        out += "FLAGS ";
        out += s_.flags_text(e.flags, e.uid);
        return true;
      case Kind::uid:
        out += "UID ";
        append_number(out, e.uid);
        return true;
      case Kind::internaldate:
        out += "INTERNALDATE \"";
        out += format_date_time(e.internal_date);
        out += '"';
        return true;
      case Kind::rfc822_size:
        out += "RFC822.SIZE ";
        append_number(out, e.size);
        return true;
      case Kind::modseq:
        out += "MODSEQ (";
        append_number(out, e.modseq);
        out += ')';
        return true;
      case Kind::envelope:
        out += "ENVELOPE ";
        append_envelope(out);
        return true;
      case Kind::bodystructure:
        out += "BODYSTRUCTURE ";
        append_structure(out, true);
        return true;
      case Kind::body:
        out += "BODY ";
        append_structure(out, false);
        return true;
      case Kind::body_section:
        return append_loaded_header_section(a, out);
      default:
        return false;
    }
  }

  // Any item; those append_ready leaves may read the store.
  awaitable<std::optional<std::string>> item(const FetchAtt& a) {
    const auto& e = m_.entry;
    switch (a.kind) {
      case Kind::flags:
      case Kind::uid:
      case Kind::internaldate:
      case Kind::rfc822_size:
      case Kind::modseq:
      case Kind::envelope:
      case Kind::bodystructure:
      case Kind::body: {
        std::string out;
        append_ready(a, out);
        co_return out;
      }
      // Named locals, never temporaries, around co_await: GCC 12 may destroy a temporary of a
      // co_await full-expression twice.
      case Kind::rfc822: {
        const ByteRange all{0, e.size};
        auto data = co_await bytes(all);
        co_return "RFC822 " + literal(data);
      }
      case Kind::rfc822_header: {
        const Section header{.kind = Section::Kind::header};
        auto data = co_await section(header, no_partial);
        co_return "RFC822.HEADER " + literal(data);
      }
      case Kind::rfc822_text: {
        const Section text{.kind = Section::Kind::text};
        auto data = co_await section(text, no_partial);
        co_return "RFC822.TEXT " + literal(data);
      }
      case Kind::body_section: {
        auto data = co_await section(a.section, a.partial);
        co_return fetch_att_response_name(a) + " " + literal(data);
      }
      case Kind::binary:
      case Kind::binary_size: {
        auto decoded = co_await binary(a.section.part);
        if (!decoded) co_return std::nullopt;
        if (a.kind == Kind::binary_size)
          co_return fetch_att_response_name(a) + " " + std::to_string(decoded->size());
        co_return fetch_att_response_name(a) + " " + literal(cut(*decoded, a.partial), true);
      }
    }
    co_return std::nullopt;
  }

 private:
  const json& tree() {
    if (!tree_) tree_ = parse_object(m_.bodystructure_json);
    return *tree_;
  }

  MessageCache& cache() { return s_.backend.message_cache(); }

  void append_envelope(std::string& out) {
    if (rendered_ && rendered_->envelope) {
      out += *rendered_->envelope;
      return;
    }
    std::string text = render_envelope(parse_object(m_.envelope_json), s_.utf8);
    cache().put(m_.entry.message_id, envelope_part(s_.utf8), text);
    out += text;
    if (to_store_ && !s_.utf8) forms().envelope = std::move(text);
  }

  store::ImapForms& forms() {
    auto& f = (*to_store_)[m_.entry.message_id];
    f.message = m_.entry.message_id;
    return f;
  }

  // BODYSTRUCTURE (extended) or BODY.
  void append_structure(std::string& out, bool extended) {
    if (rendered_) {
      const auto& cached = extended ? rendered_->bodystructure : rendered_->body;
      if (cached) {
        out += *cached;
        return;
      }
    }
    std::string text = render_body(tree(), extended, s_.utf8);
    cache().put(m_.entry.message_id, extended ? bodystructure_part(s_.utf8) : body_part(s_.utf8),
                text);
    out += text;
    if (to_store_ && extended && !s_.utf8) forms().bodystructure = std::move(text);
  }

  awaitable<std::string> bytes(ByteRange r) {
    if (r.end <= r.begin) co_return std::string();
    if (raw_ && !(raw_is_header_ && r.end > raw_->size()))
      co_return r.begin < raw_->size() ? raw_->substr(r.begin, r.end - r.begin) : "";
    auto raw =
        co_await s_.store().fetch_raw(s_.account, m_.entry.message_id, r.begin, r.end - r.begin);
    co_return raw ? std::move(*raw) : std::string();
  }

  // BODY[HEADER], BODY[HEADER.FIELDS (...)] of the loaded header block, whole (no partial).
  bool append_loaded_header_section(const FetchAtt& a, std::string& out) {
    const Section& sec = a.section;
    if (!raw_is_header_ || !raw_ || !top_header(sec) || a.partial) return false;
    out += fetch_att_response_name(a);
    if (sec.kind == Section::Kind::header) {
      out += " {";
      append_number(out, raw_->size());
      out += "}\r\n";
      out += *raw_;
      return true;
    }
    thread_local std::string fields;  // no suspension below: the thread's own scratch
    fields.clear();
    append_filtered_header(fields, *raw_, sec.fields, sec.kind == Section::Kind::header_fields_not);
    out += " {";
    append_number(out, fields.size());
    out += "}\r\n";
    out += fields;
    return true;
  }

  awaitable<std::string> section(const Section& sec, const std::optional<Partial>& p) {
    // The message's header block loaded as such is the top-level header: no document to read.
    if (raw_is_header_ && raw_ && top_header(sec)) {
      if (sec.kind == Section::Kind::header) co_return cut(*raw_, p);
      co_return cut(filter_header(*raw_, sec.fields, sec.kind == Section::Kind::header_fields_not),
                    p);
    }
    auto r = section_range(tree(), sec, m_.entry.size);
    if (!r) co_return std::string();
    if (sec.kind != Section::Kind::header_fields && sec.kind != Section::Kind::header_fields_not) {
      const ByteRange cut_range = apply_partial(*r, p);
      co_return co_await bytes(cut_range);
    }
    auto header = co_await bytes(*r);
    co_return cut(filter_header(header, sec.fields, sec.kind == Section::Kind::header_fields_not),
                  p);
  }

  // Decoded content of a leaf part (RFC 3516); nullopt for a part that is not a leaf. BINARY[]
  // is the whole message, header included (RFC 9051 6.4.5), with the top-level body decoded (a
  // multipart body is never transfer-encoded, so it is sent as stored).
  awaitable<std::optional<std::string>> binary(const std::string& part) {
    if (part.empty()) {
      const json& root = tree();
      const ByteRange header{0, root.value("body_offset", std::uint64_t{0})};
      auto out = co_await bytes(header);
      std::optional<std::string> body;
      if (root.contains("parts"))
        body = co_await bytes(ByteRange{header.end, m_.entry.size});
      else
        body = co_await decoded(root);
      if (!body) co_return std::nullopt;
      co_return out + *body;
    }
    const json* p = find_part(tree(), part);
    if (!p || p->contains("parts")) co_return std::nullopt;
    co_return co_await decoded(*p);
  }

  awaitable<std::optional<std::string>> decoded(const json& p) {
    const ByteRange range{p.value("body_offset", std::uint64_t{0}),
                          p.value("end_offset", std::uint64_t{0})};
    // An encoding the server cannot undo is NO [UNKNOWN-CTE] (RFC 3516 4.3).
    auto encoding = upper(p.value("encoding", std::string("7BIT")));
    static const char* const known[] = {"7BIT",      "8BIT", "BINARY", "BASE64", "QUOTED-PRINTABLE",
                                        "X-UUENCODE"};
    if (std::none_of(std::begin(known), std::end(known), [&](auto* k) { return encoding == k; }))
      co_return std::nullopt;
    auto body = co_await bytes(range);
    co_return store::decode_transfer_encoding(body, encoding);
  }

  Session::Impl& s_;
  const store::MessageMeta& m_;
  const std::string* raw_;
  bool raw_is_header_;
  const Rendered* rendered_;
  std::map<store::MessageId, store::ImapForms>* to_store_;
  std::optional<json> tree_;
  const std::optional<Partial> no_partial;
};

// Marks the fetched messages \Seen (BODY[] without PEEK) before answering (RFC 3501 6.4.5).
awaitable<void> mark_seen(Session::Impl& s, std::map<store::Uid, store::MessageMeta>& metas) {
  std::vector<store::Uid> unseen;
  for (const auto& [uid, m] : metas)
    if (!(m.entry.flags.system & store::kSeen)) unseen.push_back(uid);
  if (unseen.empty()) co_return;
  store::Flags seen;
  seen.system = store::kSeen;
  const auto uids = uid_set_of(unseen);
  auto r =
      co_await s.store().set_flags(s.account, s.sel->mailbox.id, uids, store::FlagOp::add, seen);
  if (!r) co_return;
  s.advance(r->step);
  for (const auto& e : r->updated) {
    auto it = metas.find(e.uid);
    if (it != metas.end()) {  // flags and modseq changed; the rest is as read
      it->second.entry.flags = e.flags;
      it->second.entry.modseq = e.modseq;
    }
    if (auto seq = s.sel->seq_of(e.uid)) s.sel->messages[*seq - 1].modseq = e.modseq;
  }
}

// (CHANGEDSINCE n [VANISHED]) (RFC 7162 3.1.4, 3.2.6).
std::optional<std::uint64_t> changed_since(const Command& cmd, bool& vanished) {
  if (cmd.args.size() != 3) return std::nullopt;
  const auto& l = cmd.args[2];
  if (!l.is_list() || l.list.size() < 2 || l.list.size() > 3 ||
      !iequals(l.list[0].value, "CHANGEDSINCE"))
    return std::nullopt;
  vanished = l.list.size() == 3 && iequals(l.list[2].value, "VANISHED");
  if (l.list.size() == 3 && !vanished) return std::nullopt;
  std::uint64_t v = 0;
  const auto& t = l.list[1].value;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
  return v;
}

constexpr std::uint64_t kBatchBytes = 4u << 20;
constexpr std::size_t kBatchMessages = 100;

// Messages (whole, or headers only) for the answers from position `from` of `idx` on: up to
// kBatchMessages of them in one query, and for whole ones up to kBatchBytes. Returns the
// position after the last one loaded.
std::size_t load_raws(Session::Impl& s, const std::vector<std::uint32_t>& idx, std::size_t from,
                      const std::map<store::Uid, store::MessageMeta>& metas, bool headers,
                      std::vector<store::MessageId>& batch) {
  std::uint64_t bytes = 0;
  batch.clear();
  std::size_t k = from;
  for (; k < idx.size() && batch.size() < kBatchMessages; ++k) {
    auto it = metas.find(s.sel->messages[idx[k]].uid);
    if (it == metas.end()) continue;
    if (!headers && !batch.empty() && bytes + it->second.entry.size > kBatchBytes) break;
    bytes += it->second.entry.size;
    batch.push_back(it->second.entry.message_id);
  }
  return k;
}

// How many positions of idx, from the first, have their message in `raws` (or are gone).
std::size_t loaded_prefix(Session::Impl& s, const std::vector<std::uint32_t>& idx,
                          const std::map<store::Uid, store::MessageMeta>& metas, const Raws& raws) {
  std::size_t k = 0;
  for (; k < idx.size(); ++k) {
    auto it = metas.find(s.sel->messages[idx[k]].uid);
    if (it != metas.end() && !raws.contains(it->second.entry.message_id)) break;
  }
  return k;
}

// The parts of each message that take_cached may use, as a mask for MessageCache::find_all.
unsigned cache_parts_wanted(const Wanted& want, bool utf8) {
  using C = MessageCache;
  unsigned bits = 0;
  if (want.header) bits |= C::bit(CachePart::header);
  if (want.envelope) bits |= C::bit(envelope_part(utf8)) | C::bit(CachePart::envelope_json);
  if (want.bodystructure) bits |= C::bit(bodystructure_part(utf8));
  if (want.body) bits |= C::bit(body_part(utf8));
  if (want.tree || want.bodystructure || want.body) bits |= C::bit(CachePart::bodystructure_json);
  return bits;
}

// Takes what the cache held of a message (`parts`, from find_all) for `want` into `meta` and
// `rendered`; false when the database must give the documents.
bool take_cached(const MessageCache::Parts& parts, const Wanted& want, bool utf8,
                 store::MessageMeta& meta, Rendered& rendered) {
  auto part = [&](CachePart p) -> const MessageCache::Value& {
    return parts[static_cast<unsigned>(p)];
  };
  // Not out of the blob later: the stored renderings bring the header block with the rest.
  if (want.header && !part(CachePart::header)) return false;
  if (want.envelope) {
    rendered.envelope = part(envelope_part(utf8));
    if (!rendered.envelope) {
      if (!part(CachePart::envelope_json)) return false;
      meta.envelope_json = *part(CachePart::envelope_json);
    }
  }
  // Rendered ones even when the tree is wanted too: rendered again, they would be stored again.
  if (want.bodystructure) rendered.bodystructure = part(bodystructure_part(utf8));
  if (want.body) rendered.body = part(body_part(utf8));
  const bool bodystructure = !want.bodystructure || rendered.bodystructure;
  const bool body = !want.body || rendered.body;
  if (!want.tree && bodystructure && body) return true;
  if (!part(CachePart::bodystructure_json)) return false;
  meta.bodystructure_json = *part(CachePart::bodystructure_json);
  return true;
}

// The renderings the store keeps (message_imap_forms), for one FETCH of a plain (not
// UTF8=ACCEPT) session: the header blocks it gave, and what this FETCH rendered or read that
// it lacked, stored at the end so that the next listing of the mailbox neither parses JSON nor
// reads header blocks out of the blobs.
struct StoredForms {
  bool enabled = false;
  bool header = false;  // header blocks wanted
  Raws headers;
  std::map<store::MessageId, store::ImapForms> to_store;
};

// Takes the stored renderings of `m` into `r` and `stored` (and the message cache).
void take_stored(MessageCache& cache, store::MessageMeta& m, Rendered& r, StoredForms& stored) {
  const auto id = m.entry.message_id;
  auto take = [&](std::optional<std::string>& form, CachePart part, MessageCache::Value& into) {
    if (!form) return;
    into = std::make_shared<const std::string>(std::move(*form));
    form.reset();
    cache.put(id, part, into);
  };
  take(m.imap_envelope, envelope_part(false), r.envelope);
  take(m.imap_bodystructure, bodystructure_part(false), r.bodystructure);
  if (m.imap_header) take(m.imap_header, CachePart::header, stored.headers[id]);
}

// Entries with what `want` needs of their parsed view: from the message cache where it holds
// it, the rest in one query for those messages only (whose documents then go to the cache).
awaitable<store::Result<void>> load_metas(Session::Impl& s, const store::UidSet& uids,
                                          const Wanted& want,
                                          std::map<store::Uid, store::MessageMeta>& metas,
                                          std::map<store::Uid, Rendered>& rendered,
                                          StoredForms& stored) {
  auto& cache = s.backend.message_cache();
  std::optional<store::UidSet> missing_set = uids;
  if (cache.enabled()) {
    auto entries =
        co_await s.store().list_entries(s.account, s.sel->mailbox.id, uids, want.internal_date);
    if (!entries) co_return unexpected(entries.error());
    std::vector<store::MessageId> ids;
    ids.reserve(entries->size());
    for (const auto& e : *entries) ids.push_back(e.message_id);
    std::vector<MessageCache::Parts> cached;
    cache.find_all(ids, cache_parts_wanted(want, s.utf8), cached);
    std::vector<store::Uid> missing;
    for (std::size_t i = 0; i < entries->size(); ++i) {
      auto& e = (*entries)[i];
      store::MessageMeta m;
      Rendered r;
      if (!take_cached(cached[i], want, s.utf8, m, r)) {
        missing.push_back(e.uid);
        continue;
      }
      m.entry = std::move(e);
      rendered[m.entry.uid] = std::move(r);
      metas[m.entry.uid] = std::move(m);
    }
    missing_set.reset();
    if (!missing.empty()) missing_set = uid_set_of(missing);
  }
  if (!missing_set) co_return store::Result<void>{};
  store::MailboxStore::MetaParts parts{
      .envelope = want.envelope, .bodystructure = want.tree || want.bodystructure || want.body};
  if (stored.enabled) {
    parts.forms_version = kStoredFormsVersion;
    parts.header = stored.header;
    parts.bodystructure_always = want.tree || want.body;
    parts.dated = want.internal_date;
  }
  auto r = co_await s.store().fetch_meta(s.account, s.sel->mailbox.id, *missing_set, parts);
  if (!r) co_return unexpected(r.error());
  for (auto& m : *r) {
    // Empty where the store gave the rendering instead of the document.
    if (parts.envelope && !m.envelope_json.empty())
      cache.put(m.entry.message_id, CachePart::envelope_json, m.envelope_json);
    if (parts.bodystructure && !m.bodystructure_json.empty())
      cache.put(m.entry.message_id, CachePart::bodystructure_json, m.bodystructure_json);
    take_stored(cache, m, rendered[m.entry.uid], stored);
    metas[m.entry.uid] = std::move(m);
  }
  co_return store::Result<void>{};
}

// The messages of `batch` (header blocks, or whole ones) into `raws`: header blocks from the
// message cache where it holds them, the rest in one query (header blocks then cached).
awaitable<store::Result<void>> load_batch(Session::Impl& s, std::vector<store::MessageId> batch,
                                          bool headers, Raws& raws, StoredForms& stored) {
  auto& cache = s.backend.message_cache();
  raws.clear();
  if (headers)
    std::erase_if(batch, [&](store::MessageId m) {
      auto it = stored.headers.find(m);
      if (it == stored.headers.end()) return false;
      raws[m] = std::move(it->second);
      stored.headers.erase(it);
      return true;
    });
  if (headers && cache.enabled()) {
    std::vector<MessageCache::Parts> cached;
    cache.find_all(batch, MessageCache::bit(CachePart::header), cached);
    std::vector<store::MessageId> missing;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto& header = cached[i][static_cast<unsigned>(CachePart::header)];
      if (header)
        raws[batch[i]] = std::move(header);
      else
        missing.push_back(batch[i]);
    }
    batch = std::move(missing);
  }
  if (batch.empty()) co_return store::Result<void>{};
  const auto part =
      headers ? store::MailboxStore::RawPart::header : store::MailboxStore::RawPart::whole;
  auto r = co_await s.store().fetch_raws(s.account, std::move(batch), part);
  if (!r) co_return unexpected(r.error());
  for (auto& raw : *r) {
    if (headers && stored.enabled && raw.data.size() <= kStoredHeaderMax) {
      auto& f = stored.to_store[raw.message];
      f.message = raw.message;
      f.header = raw.data;
    }
    auto data = std::make_shared<const std::string>(std::move(raw.data));
    if (headers) cache.put(raw.message, CachePart::header, data);
    raws[raw.message] = std::move(data);
  }
  co_return store::Result<void>{};
}

// Sends the store what this FETCH rendered that it lacked. A failure costs the next FETCH the
// rendering again, nothing else: logged, not answered.
awaitable<void> store_forms(Session::Impl& s, StoredForms& stored) {
  if (stored.to_store.empty()) co_return;
  std::vector<store::ImapForms> forms;
  forms.reserve(stored.to_store.size());
  for (auto& [id, f] : stored.to_store) forms.push_back(std::move(f));
  stored.to_store.clear();
  auto r = co_await s.store().save_imap_forms(s.account, kStoredFormsVersion, std::move(forms));
  if (!r) spdlog::warn("imap: storing FETCH renderings failed: {}", store::to_string(r.error()));
}

}  // namespace

// Sequence numbers beyond the mailbox are an error for FETCH/STORE/COPY (RFC 9051 6.4.5).
bool valid_seq_set(const Session::Impl& s, const SeqSet& set, bool uid) {
  if (uid || set.saved) return true;
  auto n = s.sel->messages.size();
  for (const auto& r : set.ranges) {
    if (n == 0) return false;
    if ((r.first != kStar && r.first > n) || (r.last != kStar && r.last > n)) return false;
  }
  return true;
}

GOVMAIL_IMAP_HANDLER(cmd_fetch) {
  if (cmd.args.size() < 2 || cmd.args.size() > 3) co_return bad("FETCH needs a set and items");
  auto set = cmd.args[0].type == Arg::Type::atom ? parse_seq_set(cmd.args[0].value) : std::nullopt;
  if (!set) co_return bad("Invalid sequence set");
  if (!valid_seq_set(s, *set, cmd.uid)) co_return bad("Invalid message sequence number");
  auto atts = parse_fetch_atts(cmd.args[1]);
  if (!atts) co_return bad(atts.error());
  bool vanished = false;
  auto since = changed_since(cmd, vanished);
  if (cmd.args.size() == 3 && !since) co_return bad("Bad FETCH modifiers");
  if (vanished && (!cmd.uid || !s.qresync)) co_return bad("VANISHED needs UID FETCH and QRESYNC");
  if (vanished) {
    auto ch = co_await s.store().changes_since(s.account, s.sel->mailbox.id, *since);
    if (!ch) co_return store_error_reply(ch.error(), "FETCH");
    if (ch->expunged_unknown) {  // the change log was pruned past CHANGEDSINCE
      auto text = vanished_without_log(*s.sel, s.sel->mailbox.uidnext, &*set);
      if (!text.empty()) s.untagged("VANISHED (EARLIER) " + text);
      ch->expunged.clear();
    }
    std::vector<std::uint32_t> gone;
    for (auto u : ch->expunged)
      if (set->contains(u, s.sel->max_uid()) && !s.sel->seq_of(u)) gone.push_back(u);
    if (!gone.empty()) s.untagged("VANISHED (EARLIER) " + seq_set_text(std::move(gone)));
  }
  auto has = [&](Kind k) {
    return std::any_of(atts->begin(), atts->end(), [&](auto& a) { return a.kind == k; });
  };
  if (cmd.uid && !has(Kind::uid)) atts->insert(atts->begin(), FetchAtt{.kind = Kind::uid});
  if (since && !has(Kind::modseq)) atts->push_back(FetchAtt{.kind = Kind::modseq});
  if (has(Kind::modseq)) s.enable_condstore();
  auto idx = s.resolve(*set, cmd.uid);
  if (idx.empty()) co_return ok("FETCH completed");
  auto uids = uid_set_of(*s.sel, idx);
  bool meta = std::any_of(atts->begin(), atts->end(), needs_meta);
  const bool whole = std::any_of(atts->begin(), atts->end(), whole_message);
  const bool headers = !whole && std::any_of(atts->begin(), atts->end(), header_only);
  Raws raws;               // of the current batch: `whole` or `headers`
  std::size_t loaded = 0;  // positions of idx whose messages are in raws
  bool seen = !s.sel->read_only && std::any_of(atts->begin(), atts->end(), sets_seen);
  std::map<store::Uid, store::MessageMeta> metas;
  std::map<store::Uid, Rendered> rendered;  // from the message cache or the store
  StoredForms stored;
  stored.enabled = !s.utf8;
  stored.header = headers;
  if (meta) {
    // ENVELOPE alone (a client's message list) needs no BODYSTRUCTURE from the database, and
    // header fields read from the header block need no document at all.
    const Wanted want{.envelope = has(Kind::envelope),
                      .bodystructure = has(Kind::bodystructure),
                      .body = has(Kind::body),
                      .tree = std::any_of(atts->begin(), atts->end(),
                                          [&](auto& a) {
                                            return needs_meta(a) && a.kind != Kind::envelope &&
                                                   a.kind != Kind::bodystructure &&
                                                   a.kind != Kind::body &&
                                                   !(headers && header_only(a));
                                          }),
                      .internal_date = has(Kind::internaldate),
                      .header = stored.enabled && stored.header};
    auto r = co_await load_metas(s, uids, want, metas, rendered, stored);
    if (!r) co_return store_error_reply(r.error(), "FETCH");
  } else if (whole) {
    // The first whole messages come with their entries (a client reading a few messages).
    auto r =
        co_await s.store().list_entries_with_raws(s.account, s.sel->mailbox.id, uids, kBatchBytes);
    if (!r) co_return store_error_reply(r.error(), "FETCH");
    for (auto& e : *r) {
      if (e.raw) raws[e.entry.message_id] = std::make_shared<const std::string>(std::move(*e.raw));
      metas[e.entry.uid].entry = std::move(e.entry);
    }
    loaded = loaded_prefix(s, idx, metas, raws);
  } else {
    auto r = co_await s.store().list_entries(s.account, s.sel->mailbox.id, uids,
                                             has(Kind::internaldate));
    if (!r) co_return store_error_reply(r.error(), "FETCH");
    for (auto& e : *r) metas[e.uid].entry = std::move(e);
  }
  if (seen) {
    co_await mark_seen(s, metas);
    if (!has(Kind::flags)) atts->push_back(FetchAtt{.kind = Kind::flags});
  }
  std::string response;  // of one message; its capacity kept from one to the next
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const auto i = idx[k];
    auto it = metas.find(s.sel->messages[i].uid);
    if (it == metas.end()) continue;  // expunged meanwhile; announced later
    if (since && it->second.entry.modseq <= *since) continue;
    if ((whole || headers) && k >= loaded) {
      std::vector<store::MessageId> batch;
      loaded = load_raws(s, idx, k, metas, headers, batch);
      auto r = co_await load_batch(s, std::move(batch), headers, raws, stored);
      if (!r) co_return store_error_reply(r.error(), "FETCH");
    }
    auto raw = raws.find(it->second.entry.message_id);
    auto cached = rendered.find(it->first);
    Fetcher f(s, it->second, raw == raws.end() ? nullptr : raw->second.get(), headers,
              cached == rendered.end() ? nullptr : &cached->second,
              stored.enabled ? &stored.to_store : nullptr);
    // Built apart and then appended: FLAGS may announce a keyword (* FLAGS) before it.
    response.assign("* ");
    append_number(response, i + 1);
    response += " FETCH (";
    for (std::size_t n = 0; n < atts->size(); ++n) {
      if (n > 0) response += ' ';
      if (f.append_ready((*atts)[n], response)) continue;
      auto item = co_await f.item((*atts)[n]);
      if (!item) co_return no("[UNKNOWN-CTE] Cannot decode this part");
      response += *item;
    }
    response += ")\r\n";
    s.out += response;
    co_await s.flush_if_large();
    if (s.close) co_return Reply{"", ""};  // the client went away mid-answer
  }
  co_await store_forms(s, stored);
  co_return ok("FETCH completed");
}

}  // namespace govmail::imap
