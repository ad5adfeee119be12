// The command table (STYLE.md 1): name, handler, states, UID prefix, sequence-number answers.
#include "session_impl.hpp"

namespace govmail::imap {
namespace {

constexpr unsigned kAny = 1 | 2 | 4;
constexpr unsigned kPre = 1;
constexpr unsigned kAuth = 2 | 4;
constexpr unsigned kSel = 4;

const CommandSpec kCommands[] = {
    {"CAPABILITY", cmd_capability, kAny},
    {"NOOP", cmd_noop, kAny},
    {"CHECK", cmd_noop, kSel},
    {"LOGOUT", cmd_logout, kAny},
    {"STARTTLS", cmd_starttls, kPre},
    {"LOGIN", cmd_login, kPre},
    {"AUTHENTICATE", cmd_authenticate, kPre},
    {"ID", cmd_id, kAny},
    {"ENABLE", cmd_enable, kAuth},
    {"NAMESPACE", cmd_namespace, kAuth},
    {"LIST", cmd_list, kAuth},
    {"LSUB", cmd_lsub, kAuth},
    {"CREATE", cmd_create, kAuth},
    {"DELETE", cmd_delete, kAuth},
    {"RENAME", cmd_rename, kAuth},
    {"SUBSCRIBE", cmd_subscribe, kAuth},
    {"UNSUBSCRIBE", cmd_unsubscribe, kAuth},
    {"STATUS", cmd_status, kAuth},
    {"SELECT", cmd_select, kAuth},
    {"EXAMINE", cmd_examine, kAuth},
    {"APPEND", cmd_append, kAuth},
    {"IDLE", cmd_idle, kAuth},
    {"GETQUOTAROOT", cmd_getquotaroot, kAuth},
    {"GETQUOTA", cmd_getquota, kAuth},
    {"COMPRESS", cmd_compress, kAuth},
    {"FETCH", cmd_fetch, kSel, true, true},
    {"STORE", cmd_store, kSel, true, true},
    {"SEARCH", cmd_search, kSel, true, true},
    {"SORT", cmd_sort, kSel, true, true},
    {"THREAD", cmd_thread, kSel, true, true},
    {"COPY", cmd_copy, kSel, true, true},
    {"MOVE", cmd_move, kSel, true, false},
    {"EXPUNGE", cmd_expunge, kSel, true, false},
    {"CLOSE", cmd_close, kSel},
    {"UNSELECT", cmd_unselect, kSel},
};

}  // namespace

const CommandSpec* find_command(std::string_view name) {
  for (const auto& c : kCommands)
    if (name == c.name) return &c;
  return nullptr;
}

}  // namespace govmail::imap
