// The session's dispatcher: frames commands, enforces state, counters and limits before any
// handler runs (STYLE.md 1), writes the tagged answer, and announces mailbox changes.
#include <spdlog/spdlog.h>

#include "core/asio.hpp"
#include "core/line_reader.hpp"
#include "core/log.hpp"
#include "session_impl.hpp"

namespace govmail::imap {

SessionConfig SessionConfig::from(const core::Config& cfg, bool starttls_available) {
  SessionConfig c;
  c.hostname = cfg.server.hostname;
  c.starttls_available = starttls_available;
  c.allow_plaintext_on_loopback = cfg.auth.allow_plaintext_on_loopback;
  core::inflight_message_bytes().set_limit(cfg.limits.max_inflight_message_bytes);
  c.limits = {.line_max = cfg.limits.imap_line_max,
              .literal_max = cfg.limits.imap_literal_max,
              .preauth_literal_max = cfg.limits.imap_preauth_literal_max,
              .budget = &core::inflight_message_bytes()};
  c.preauth_timeout = cfg.limits.preauth_timeout;
  c.command_timeout = cfg.limits.command_timeout;
  c.max_commands_before_auth = cfg.limits.imap_max_commands_before_auth;
  c.max_bad_commands = cfg.limits.max_bad_commands;
  c.idle_timeout = cfg.limits.imap_idle_timeout;
  return c;
}

Session::Impl::Impl(const SessionConfig& c, Backend& b, ConnectionInfo ci)
    : cfg(c), backend(b), conn(std::move(ci)), rx(c.limits) {}

std::string Session::Impl::capabilities() const {
  std::string caps = "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE";
  if (state == State::not_authenticated) {
    if (cfg.starttls_available && !conn.tls) caps += " STARTTLS";
    caps += login_allowed() ? " AUTH=PLAIN" : " LOGINDISABLED";
    return caps;
  }
  caps +=
      " UIDPLUS MULTIAPPEND MOVE UNSELECT CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS ESEARCH"
      " SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES CONDSTORE QRESYNC "
      "QUOTA QUOTA=RES-STORAGE UTF8=ACCEPT"
      " STATUS=SIZE BINARY COMPRESS=DEFLATE APPENDLIMIT=" +
      std::to_string(cfg.limits.literal_max);
  return caps;
}

std::optional<std::uint32_t> Selected::seq_of(store::Uid uid) const {
  auto it = std::lower_bound(messages.begin(), messages.end(), uid,
                             [](const Message& m, store::Uid u) { return m.uid < u; });
  if (it == messages.end() || it->uid != uid) return std::nullopt;
  return static_cast<std::uint32_t>(it - messages.begin()) + 1;
}

void Session::Impl::expunged(std::vector<store::Uid> uids) {
  // Highest first, so that each EXPUNGE's number is still valid when the client reads it.
  std::sort(uids.rbegin(), uids.rend());
  std::vector<std::uint32_t> gone;
  for (auto uid : uids) {
    auto seq = sel->seq_of(uid);
    if (!seq) continue;
    sel->messages.erase(sel->messages.begin() + (*seq - 1));
    if (qresync)
      gone.push_back(uid);
    else
      untagged(std::to_string(*seq) + " EXPUNGE");
  }
  // With QRESYNC, one VANISHED with the UIDs replaces the EXPUNGEs (RFC 7162 3.2.10).
  if (!gone.empty()) untagged("VANISHED " + seq_set_text(std::move(gone)));
}

bool Selected::is_recent(store::Uid uid) const {
  return std::any_of(recent.begin(), recent.end(),
                     [uid](const store::RecentClaim& r) { return uid >= r.first && uid < r.next; });
}

void Selected::add_recent(const store::RecentClaim& c) {
  if (c.first >= c.next) return;
  if (!recent.empty() && recent.back().next == c.first)
    recent.back().next = c.next;
  else
    recent.push_back(c);
}

std::size_t Selected::recent_count() const {
  std::size_t n = 0;
  auto at = [this](std::uint64_t uid) {
    return std::lower_bound(messages.begin(), messages.end(), uid,
                            [](const Message& m, std::uint64_t u) { return m.uid < u; });
  };
  for (const auto& r : recent) n += static_cast<std::size_t>(at(r.next) - at(r.first));
  return n;
}

void Session::Impl::announce_flags() {
  std::string keywords;
  for (const auto& k : sel->keywords) keywords += " " + k;
  untagged("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft" + keywords + ")");
  untagged(sel->read_only ? "OK [PERMANENTFLAGS ()] Read-only"
                          : "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft" +
                                keywords + " \\*)] Flags permitted");
}

awaitable<void> Session::Impl::announce_recent() {
  if (!sel || !sel->arrived || rev2) co_return;
  sel->arrived = false;
  if (!sel->read_only && std::exchange(sel->claim_due, false)) {
    auto claim = co_await store().claim_recent(account, sel->mailbox.id);
    if (!claim)
      spdlog::warn("imap user={} claim_recent failed: {}", user, store::to_string(claim.error()));
    else
      sel->add_recent(*claim);
  }
  untagged(std::to_string(sel->recent_count()) + " RECENT");
}

void Session::Impl::enable_condstore() {
  if (condstore) return;
  condstore = true;
  if (sel) untagged("OK [HIGHESTMODSEQ " + std::to_string(sel->known_modseq) + "] Highest");
}

std::string Session::Impl::flags_text(const store::Flags& f, store::Uid uid) {
  static const std::pair<std::uint16_t, const char*> names[] = {{store::kSeen, "\\Seen"},
                                                                {store::kAnswered, "\\Answered"},
                                                                {store::kFlagged, "\\Flagged"},
                                                                {store::kDeleted, "\\Deleted"},
                                                                {store::kDraft, "\\Draft"}};
  std::string out = "(";
  for (auto& [bit, name] : names)
    if (f.system & bit) out += (out.size() > 1 ? " " : "") + std::string(name);
  if (!rev2 && sel && sel->is_recent(uid))
    out += (out.size() > 1 ? " " : "") + std::string("\\Recent");
  bool unknown = false;
  for (const auto& k : f.keywords) {
    out += (out.size() > 1 ? " " : "") + k;
    if (sel) unknown |= sel->keywords.insert(k).second;
  }
  if (unknown) announce_flags();  // written before the FETCH that carries this text
  return out + ")";
}

awaitable<void> Session::Impl::announce(bool expunges, bool force) {
  co_await announce_changes(expunges, force);
  co_await announce_recent();
}

// The change log no longer reaches this session's mod-sequence (a session open longer than
// database.change_log_keep): what it shows that the mailbox no longer holds is expunged.
awaitable<void> Session::Impl::expunged_by_listing(std::vector<store::Uid>& out) {
  // A named local, not a braced temporary in the co_await (GCC 12 coroutine lowering).
  store::UidSet every;
  every.push_back(store::UidRange{1, UINT32_MAX});
  auto all = co_await store().list_entries(account, sel->mailbox.id, every);
  if (!all) co_return;
  std::set<store::Uid> held;
  for (const auto& e : *all) held.insert(e.uid);
  out.clear();
  for (const auto& m : sel->messages)
    if (!held.contains(m.uid)) out.push_back(m.uid);
}

awaitable<void> Session::Impl::announce_changes(bool expunges, bool force) {
  if (!sel) co_return;
  if (expunges && !sel->pending_expunges.empty())
    expunged(std::exchange(sel->pending_expunges, {}));
  if (!force && !notifier->dirty.exchange(false)) co_return;
  if (force) notifier->dirty = false;
  // Woken only by the session's own writes, which its handlers applied already (advance()).
  if (!force && notifier->latest <= sel->known_modseq) co_return;
  notifier->latest = 0;  // a change announced from now on sets it again, and dirty
  auto ch = co_await backend.shared_changes_since(account, sel->mailbox.id, sel->known_modseq);
  if (!ch) {
    spdlog::warn("imap user={} changes_since failed: {}", user, store::to_string(ch.error()));
    notifier->latest = std::numeric_limits<store::ModSeq>::max();
    notifier->dirty = true;
    co_return;
  }
  if (ch->expunged_unknown) co_await expunged_by_listing(ch->expunged);
  if (expunges)
    expunged(ch->expunged);
  else
    for (auto u : ch->expunged)
      if (sel->seq_of(u)) sel->pending_expunges.push_back(u);
  std::sort(ch->changed.begin(), ch->changed.end(),
            [](const auto& a, const auto& b) { return a.uid < b.uid; });
  bool added = false;
  for (const auto& e : ch->changed) {
    if (auto seq = sel->seq_of(e.uid)) {
      auto& m = sel->messages[*seq - 1];
      if (e.modseq <= m.modseq) continue;
      m.modseq = e.modseq;
      std::string item = std::to_string(*seq) + " FETCH (UID " + std::to_string(e.uid) + " FLAGS " +
                         flags_text(e.flags, e.uid);
      if (condstore) item += " MODSEQ (" + std::to_string(e.modseq) + ")";
      untagged(item + ")");
    } else if (e.uid > sel->max_uid()) {
      sel->messages.push_back({e.uid, e.modseq});
      added = true;
    }
  }
  if (added) untagged(std::to_string(sel->messages.size()) + " EXISTS");
  sel->arrived |= added;
  sel->claim_due |= added;
  sel->known_modseq = std::max(sel->known_modseq, ch->highestmodseq);
}

std::vector<std::uint32_t> Session::Impl::resolve(const SeqSet& set, bool uid) const {
  std::vector<std::uint32_t> out;
  if (!sel) return out;
  const auto& msgs = sel->messages;
  if (set.saved) {
    for (auto u : sel->saved_search)
      if (auto seq = sel->seq_of(u)) out.push_back(*seq - 1);
    return out;
  }
  if (msgs.empty()) return out;
  // Messages and the merged ranges walked together (UIDs and sequence numbers ascend).
  SeqCursor cursor(set, uid ? msgs.back().uid : static_cast<std::uint32_t>(msgs.size()));
  for (std::uint32_t i = 0; i < msgs.size(); ++i)
    if (cursor.contains(uid ? msgs[i].uid : i + 1)) out.push_back(i);
  return out;
}

void Session::Impl::appended(const store::AppendResult& r) {
  if (!sel || sel->mailbox.id != r.mailbox_id) return;
  // Claimed by the append itself (AppendRequest::claim_recent): ours even if announced later.
  const bool claimed = r.recent.next > r.recent.first;
  if (claimed) sel->add_recent(r.recent);
  const store::ModSeqStep step{r.modseq - 1, r.modseq};
  if (sel->known_modseq != step.prior || r.uid <= sel->max_uid()) {
    notifier->dirty = true;
    return;
  }
  sel->messages.push_back({r.uid, r.modseq});
  advance(step);
  untagged(std::to_string(sel->messages.size()) + " EXISTS");
  sel->arrived = true;
  sel->claim_due |= !claimed;
}

void Session::Impl::select_mailbox(Selected s) {
  sel = std::move(s);
  state = State::selected;
  notifier->dirty = false;
  notifier->latest = 0;
  sel->subscription = backend.subscribe_mailbox(
      sel->mailbox.id, [n = notifier](const store::MailboxEvent& ev) { n->notify(ev.modseq); });
}

void Session::Impl::bad_command(const std::string& tag, const std::string& reason) {
  tagged(tag, bad(reason));
  if (++bad_commands >= cfg.max_bad_commands) {
    untagged("BYE Too many invalid commands (limits.max_bad_commands)");
    spdlog::info("imap ip={} disconnected after {} invalid commands", conn.remote_ip, bad_commands);
    close = true;
  }
}

awaitable<void> Session::Impl::dispatch(Command cmd) {
  if (state == State::not_authenticated && ++commands_before_auth > cfg.max_commands_before_auth) {
    untagged("BYE Too many commands before login (limits.imap_max_commands_before_auth)");
    close = true;
    co_return;
  }
  const CommandSpec* spec = find_command(cmd.name);
  if (!spec) co_return bad_command(cmd.tag, "Unknown command " + core::log_safe(cmd.name, 30));
  if (!(spec->states & static_cast<unsigned>(state)))
    co_return bad_command(cmd.tag, "Command not valid in this state");
  if (cmd.uid && !spec->uid_ok) co_return bad_command(cmd.tag, "UID not valid with this command");
  Reply r;
  try {
    r = co_await spec->handler(*this, cmd);
  } catch (const std::exception& e) {
    // A bug must cost one command, not the connection; the client gets no detail.
    spdlog::error("imap user={} {} failed: {}", user, cmd.name, e.what());
    r = no("[SERVERBUG] Internal error");
  }
  if (idling || auth_pending || r.status.empty()) co_return;  // answered by the handler
  if (r.status == "BAD") co_return bad_command(cmd.tag, r.text);
  if (state == State::selected) co_await announce(cmd.uid || !spec->seq_numbers, false);
  tagged(cmd.tag, r);
}

Session::Session(const SessionConfig& cfg, Backend& backend, ConnectionInfo conn)
    : impl_(std::make_unique<Impl>(cfg, backend, std::move(conn))) {}
Session::~Session() = default;

std::string Session::greeting() const {
  return "* OK [CAPABILITY " + impl_->capabilities() + "] " + impl_->cfg.hostname +
         " govmail IMAP ready\r\n";
}

void Session::feed(std::string_view bytes) {
  impl_->rx.feed(bytes);
}

awaitable<Session::Output> Session::process() {
  auto& s = *impl_;
  // Past this much buffered output, write before handling the next command.
  constexpr std::size_t kFlushAt = 256 * 1024;
  for (;;) {
    if (s.close || s.start_tls || s.start_compress || s.out.size() > kFlushAt) break;
    if (s.idling) {
      auto ev = s.rx.next_line();
      if (ev.kind == Receiver::Kind::need_more) {
        Output o{.bytes = std::exchange(s.out, {}), .need_input = true, .idling = true};
        co_return o;
      }
      s.idling = false;
      if (ev.kind == Receiver::Kind::line && iequals(ev.line, "DONE")) {
        co_await s.announce(true, false);
        s.tagged(s.idle_tag, ok("IDLE terminated"));
      } else {
        s.bad_command(s.idle_tag, "Expected DONE");
      }
      continue;
    }
    if (s.auth_pending) {
      auto ev = s.rx.next_line();
      if (ev.kind == Receiver::Kind::need_more) {
        Output o{.bytes = std::exchange(s.out, {}), .need_input = true};
        co_return o;
      }
      Command cmd = std::move(*s.auth_pending);
      s.auth_pending.reset();
      if (ev.kind != Receiver::Kind::line || ev.line == "*") {
        s.bad_command(cmd.tag, "AUTHENTICATE cancelled");
        continue;
      }
      cmd.args.push_back(Arg{.type = Arg::Type::atom, .value = ev.line});
      co_await s.dispatch(std::move(cmd));
      continue;
    }
    auto ev = s.rx.next();
    if (ev.kind == Receiver::Kind::need_more) {
      Output o{.bytes = std::exchange(s.out, {}), .need_input = true};
      co_return o;
    }
    if (ev.kind == Receiver::Kind::continuation) {
      s.out += "+ OK\r\n";
      continue;
    }
    if (ev.kind == Receiver::Kind::error) {
      if (ev.no)
        s.tagged(ev.tag, no(ev.reason));
      else
        s.bad_command(ev.tag, ev.reason);
      if (ev.fatal) {
        s.untagged("BYE Stream out of sync");
        s.close = true;
      }
      continue;
    }
    co_await s.dispatch(std::move(ev.command));
  }
  Output o{.bytes = std::exchange(s.out, {}),
           .start_tls = s.start_tls,
           .close = s.close,
           .start_compress = s.start_compress};
  s.start_tls = s.start_compress = false;
  co_return o;
}

awaitable<std::string> Session::idle_updates() {
  co_await impl_->announce(true, false);
  co_return std::exchange(impl_->out, {});
}

void Session::set_writer(std::function<awaitable<bool>(std::string)> writer) {
  impl_->writer = std::move(writer);
}

awaitable<void> Session::Impl::flush_if_large() {
  if (!writer || out.size() < 256 * 1024) co_return;
  std::string chunk = std::exchange(out, {});
  if (!co_await writer(std::move(chunk))) close = true;
}

void Session::set_wake(std::function<void()> wake) {
  Notifier& n = *impl_->notifier;
  std::lock_guard lock(n.mutex);
  n.wake = std::move(wake);
  // A change that came while no wake was set (after IDLE's announce read the store, before this)
  // would otherwise wait for the next change to be told.
  if (n.wake && n.dirty) n.wake();
}

void Session::tls_started() {
  impl_->conn.tls = true;
}

void Session::disconnected(std::string_view why) {
  spdlog::debug("imap ip={} user={} disconnected: {}", impl_->conn.remote_ip, impl_->user, why);
}

core::LineReader& Session::reader() {
  return impl_->rx.reader();
}

void Session::release_buffers() {
  impl_->rx.release_buffers();
}

bool Session::mid_command() const {
  return !impl_->rx.idle();
}

bool Session::mid_line() const {
  return impl_->rx.reader().mid_line();
}

bool Session::authenticated() const {
  return impl_->state != State::not_authenticated;
}

std::chrono::milliseconds Session::read_timeout() const {
  if (impl_->state == State::not_authenticated)
    return std::min(impl_->cfg.login_timeout, impl_->cfg.idle_timeout);
  return impl_->cfg.idle_timeout;
}

std::string Session::timeout_reply() const {
  return "* BYE Autologout; idle for too long\r\n";
}

std::int64_t Session::account() const {
  return impl_->state == State::not_authenticated ? 0 : impl_->account;
}

std::uint64_t Session::credentials_version() const {
  return impl_->state == State::not_authenticated ? 0 : impl_->credentials_version;
}

std::string Session::revoked_reply() const {
  return "* BYE [UNAVAILABLE] Session ended: the account's credentials or status changed\r\n";
}

}  // namespace govmail::imap
