// AUTHENTICATE PLAIN (RFC 4616) with SASL-IR (RFC 4959).
#include "core/base64.hpp"
#include "session_impl.hpp"

namespace govmail::imap {

GOVMAIL_IMAP_HANDLER(cmd_authenticate) {
  if (cmd.args.empty() || cmd.args.size() > 2 || !iequals(cmd.args[0].value, "PLAIN"))
    co_return no("[CANNOT] Only AUTH=PLAIN is supported");
  if (!s.login_allowed()) co_return no("[PRIVACYREQUIRED] Use TLS (STARTTLS) before logging in");
  if (cmd.args.size() == 1) {
    s.out += "+ \r\n";
    s.auth_pending = cmd;  // the next line is the response (session.cpp)
    co_return Reply{};
  }
  auto raw = cmd.args[1].value == "=" ? std::optional<std::string>("")
                                      : core::base64_decode(cmd.args[1].value);
  if (!raw) co_return bad("Invalid base64");
  auto a = raw->find('\0');
  auto b = a == std::string::npos ? a : raw->find('\0', a + 1);
  if (b == std::string::npos) co_return bad("Invalid PLAIN response");
  std::string authz = raw->substr(0, a), authc = raw->substr(a + 1, b - a - 1);
  if (!authz.empty() && authz != authc) co_return no("[AUTHORIZATIONFAILED] Not authorised");
  std::string password = raw->substr(b + 1);
  co_return co_await s.authenticate(authc, std::move(password));
}

}  // namespace govmail::imap
