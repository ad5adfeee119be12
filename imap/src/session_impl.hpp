// Session internals shared by the dispatcher and the command files (one file per command).
#pragma once
#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "imap/backend.hpp"
#include "imap/proto.hpp"
#include "imap/session.hpp"
#include "store/types.hpp"

namespace govmail::imap {

enum class State : unsigned { not_authenticated = 1, authenticated = 2, selected = 4, logout = 8 };

// What the dispatcher writes as the tagged response after the handler's untagged ones.
struct Reply {
  std::string status = "OK";  // OK, NO, BAD
  std::string text = "Completed";
};
inline Reply ok(std::string text = "Completed") {
  return {"OK", std::move(text)};
}
inline Reply no(std::string text) {
  return {"NO", std::move(text)};
}
inline Reply bad(std::string text) {
  return {"BAD", std::move(text)};
}

// The one place store errors become IMAP response codes (STYLE.md 11-13).
Reply store_error_reply(store::StoreError e, std::string_view context);

// Set from the store's notification callback (any thread); read on the session's strand.
struct Notifier {
  std::atomic<bool> dirty{false};
  // Highest modseq announced since the session last asked the store; max when an event did not
  // say (a session that already knows up to it has nothing to ask).
  std::atomic<store::ModSeq> latest{0};
  std::mutex mutex;
  std::function<void()> wake;
  void notify(store::ModSeq modseq) {
    std::lock_guard lock(mutex);
    latest =
        modseq == 0 ? std::numeric_limits<store::ModSeq>::max() : std::max(latest.load(), modseq);
    dirty = true;
    if (wake) wake();
  }
};

struct Message {
  store::Uid uid = 0;
  store::ModSeq modseq = 0;
};

struct Selected {
  store::Mailbox mailbox;
  bool read_only = false;
  std::vector<Message> messages;  // sequence number = index + 1, UIDs ascending
  store::ModSeq known_modseq = 0;
  std::vector<store::Uid> pending_expunges;  // seen but not yet announced (RFC 3501 7.4.1)
  std::vector<store::Uid> saved_search;      // SEARCHRES "$"
  store::Subscription subscription;
  // \Recent for an IMAP4rev1 session (RFC 3501 2.3.2): the UID ranges [first, next) it claimed
  // (read-only: all from the mailbox's first unclaimed UID on, claimed by nobody).
  std::vector<store::RecentClaim> recent;
  bool arrived = false;    // messages were announced since the last "* n RECENT"
  bool claim_due = false;  // some of them came without a claim of \Recent (not our APPEND)
  // Keywords announced in FLAGS/PERMANENTFLAGS, as stored; a FETCH FLAGS with another one
  // is preceded by new FLAGS and PERMANENTFLAGS (RFC 3501 7.2.6).
  std::set<std::string> keywords;

  std::optional<std::uint32_t> seq_of(store::Uid uid) const;  // 1-based
  store::Uid max_uid() const { return messages.empty() ? 0 : messages.back().uid; }
  bool is_recent(store::Uid uid) const;
  // Adds a claim; one that continues the last (no other session claimed between) extends it, so
  // a long session holds few ranges.
  void add_recent(const store::RecentClaim& c);
  std::size_t recent_count() const;
};

struct Session::Impl {
  Impl(const SessionConfig& c, Backend& b, ConnectionInfo conn);

  const SessionConfig& cfg;
  Backend& backend;
  ConnectionInfo conn;
  Receiver rx;
  State state = State::not_authenticated;
  store::AccountId account = 0;
  std::uint64_t credentials_version = 0;  // of the credentials checked (session revocation)
  std::string user;
  std::optional<Selected> sel;
  std::shared_ptr<Notifier> notifier = std::make_shared<Notifier>();
  bool utf8 = false, condstore = false, qresync = false, rev2 = false;
  unsigned bad_commands = 0, commands_before_auth = 0, auth_failures = 0;

  std::string out;
  bool close = false, start_tls = false, idling = false;
  bool start_compress = false, compressed = false;
  std::string idle_tag;
  std::optional<Command> auth_pending;  // AUTHENTICATE waiting for its response line
  std::function<awaitable<bool>(std::string)> writer;
  // Writes buffered output once it passes the flush size (FETCH calls it between messages).
  awaitable<void> flush_if_large();

  store::MailboxStore& store() { return backend.mailboxes(); }
  void untagged(std::string_view text) {
    out += "* ";
    out += text;
    out += "\r\n";
  }
  void tagged(std::string_view tag, const Reply& r) {
    out += tag;
    out += ' ';
    out += r.status;
    out += ' ';
    out += r.text;
    out += "\r\n";
  }

  bool login_allowed() const {
    return conn.tls || (conn.loopback && cfg.allow_plaintext_on_loopback);
  }
  std::string capabilities() const;

  // Mailbox names: wire form <-> stored UTF-8 ('/' separated, "INBOX" upper-case).
  std::optional<std::string> mailbox_name(const Arg& arg) const;
  std::string wire_name(std::string_view name) const;

  // Untagged EXISTS / EXPUNGE / FETCH FLAGS for changes made elsewhere. `expunges` false while
  // answering FETCH, STORE, SEARCH by sequence number (RFC 3501 7.4.1): they wait.
  awaitable<void> announce(bool expunges, bool force);
  awaitable<void> announce_changes(bool expunges, bool force);
  awaitable<void> expunged_by_listing(std::vector<store::Uid>& out);  // announce() less RECENT
  // Sequence set (or UID set with `uid`) -> the selected messages it names, ascending.
  std::vector<std::uint32_t> resolve(const SeqSet& set, bool uid) const;  // 0-based indexes
  // Drops the messages and writes "* n EXPUNGE" for each (or one VANISHED with QRESYNC).
  void expunged(std::vector<store::Uid> uids);
  // After the session's own write, applied by its handler: when the session knew the mailbox
  // up to the step's prior modseq, it now knows it up to the step's modseq without asking.
  void advance(const store::ModSeqStep& step) {
    if (sel && step.modseq > step.prior && sel->known_modseq == step.prior)
      sel->known_modseq = step.modseq;
  }
  // The session's own APPEND to the selected mailbox: announced at once when nothing else
  // happened meanwhile (the account's modseq moved by exactly one), else asked about as usual.
  void appended(const store::AppendResult& r);
  // "(\\Seen $Label)" of message `uid`: \Recent added when it is recent for this session; a
  // keyword the session has not announced yet is announced first (FLAGS, PERMANENTFLAGS).
  std::string flags_text(const store::Flags& f, store::Uid uid);
  // "* FLAGS" and "* OK [PERMANENTFLAGS]" with the keywords announced so far.
  void announce_flags();
  // After messages arrived: claims those no session claimed (read-write) and says
  // "* n RECENT" (IMAP4rev1 only).
  awaitable<void> announce_recent();
  // A command that implies CONDSTORE (RFC 7162 3.1): the first one brings HIGHESTMODSEQ.
  void enable_condstore();
  void select_mailbox(Selected s);
  void unselect() {
    sel.reset();
    state = State::authenticated;
  }

  awaitable<Reply> authenticate(std::string user, std::string password);
  awaitable<void> dispatch(Command cmd);
  void bad_command(const std::string& tag, const std::string& reason);
};

// Converts indexes of the selected mailbox to a store UidSet (ranges merged).
store::UidSet uid_set_of(const Selected& sel, const std::vector<std::uint32_t>& indexes);
store::UidSet uid_set_of(std::vector<store::Uid> uids);
std::string seq_set_text(std::vector<std::uint32_t> numbers);  // "1:3,7"
// When the change log no longer reaches a client's mod-sequence (expunged_unknown): the UIDs
// below `uidnext` that the selected mailbox does not hold, within `within` when given, as a
// sequence set ("" for none). RFC 7162 3.2.5.2 lets VANISHED (EARLIER) name UIDs expunged
// before the client's mod-sequence too.
std::string vanished_without_log(const Selected& sel, store::Uid uidnext, const SeqSet* within);
std::optional<store::Flags> parse_flags(const Arg& arg);  // "(\Seen foo)" or "\Seen"

// SEARCH evaluation shared by SEARCH, SORT and THREAD: matching messages in sequence order,
// with envelope and bodystructure JSON when want_meta.
struct SearchHit {
  std::uint32_t seq = 0;
  store::MessageMeta meta;
};
awaitable<Reply> run_search(Session::Impl& s, const SearchKey& key, bool want_meta,
                            std::vector<SearchHit>& hits);
bool supported_charset(const std::string& charset);
// SORT and THREAD: a charset in args[1] and search keys from args[2], with metadata.
awaitable<Reply> run_charset_search(Session::Impl& s, const Command& cmd,
                                    std::vector<SearchHit>& hits);

using Handler = awaitable<Reply> (*)(Session::Impl&, const Command&);
struct CommandSpec {
  const char* name;
  Handler handler;
  unsigned states;           // State bits in which the command is valid
  bool uid_ok = false;       // may follow "UID"
  bool seq_numbers = false;  // answers with sequence numbers: EXPUNGE responses must wait
};
const CommandSpec* find_command(std::string_view name);

// Handlers, one file each under commands/.
#define GOVMAIL_IMAP_HANDLER(fn) awaitable<Reply> fn(Session::Impl& s, const Command& cmd)
GOVMAIL_IMAP_HANDLER(cmd_capability);
GOVMAIL_IMAP_HANDLER(cmd_noop);
GOVMAIL_IMAP_HANDLER(cmd_logout);
GOVMAIL_IMAP_HANDLER(cmd_starttls);
GOVMAIL_IMAP_HANDLER(cmd_login);
GOVMAIL_IMAP_HANDLER(cmd_authenticate);
GOVMAIL_IMAP_HANDLER(cmd_id);
GOVMAIL_IMAP_HANDLER(cmd_enable);
GOVMAIL_IMAP_HANDLER(cmd_namespace);
GOVMAIL_IMAP_HANDLER(cmd_list);
GOVMAIL_IMAP_HANDLER(cmd_lsub);
GOVMAIL_IMAP_HANDLER(cmd_create);
GOVMAIL_IMAP_HANDLER(cmd_delete);
GOVMAIL_IMAP_HANDLER(cmd_rename);
GOVMAIL_IMAP_HANDLER(cmd_subscribe);
GOVMAIL_IMAP_HANDLER(cmd_unsubscribe);
GOVMAIL_IMAP_HANDLER(cmd_status);
GOVMAIL_IMAP_HANDLER(cmd_select);
GOVMAIL_IMAP_HANDLER(cmd_examine);
GOVMAIL_IMAP_HANDLER(cmd_fetch);
GOVMAIL_IMAP_HANDLER(cmd_store);
GOVMAIL_IMAP_HANDLER(cmd_copy);
GOVMAIL_IMAP_HANDLER(cmd_move);
GOVMAIL_IMAP_HANDLER(cmd_expunge);
GOVMAIL_IMAP_HANDLER(cmd_close);
GOVMAIL_IMAP_HANDLER(cmd_unselect);
GOVMAIL_IMAP_HANDLER(cmd_append);
GOVMAIL_IMAP_HANDLER(cmd_search);
GOVMAIL_IMAP_HANDLER(cmd_idle);
GOVMAIL_IMAP_HANDLER(cmd_getquotaroot);
GOVMAIL_IMAP_HANDLER(cmd_getquota);
GOVMAIL_IMAP_HANDLER(cmd_compress);
GOVMAIL_IMAP_HANDLER(cmd_sort);
GOVMAIL_IMAP_HANDLER(cmd_thread);

}  // namespace govmail::imap
