#include "core/https_client.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/asio.hpp"
#include "core/stream.hpp"

namespace govmail::core {
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

constexpr std::size_t kReadSize = 8192;

std::string describe(const ErrorCode& ec) {
  return ec == asio::error::timed_out ? std::string("timed out") : ec.message();
}

ms left(Clock::time_point deadline) {
  return std::max(ms(1), std::chrono::duration_cast<ms>(deadline - Clock::now()));
}

// Host names and paths go into the request line and a header field as they are.
bool safe_in_request(const std::string& s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return !s.empty();
}

// One exchange with one address. The parser is Beast's (a bounded HTTP/1.1 response parser,
// fed the bytes as they come).
awaitable<Result<HttpsResponse, std::string>> get_from(Executor ex, const HttpsRequest& req,
                                                       const std::string& ip) {
  const auto deadline = Clock::now() + req.timeout;
  const std::string where = ip + ":" + std::to_string(req.port);
  auto connected = co_await connect_tcp(ex, ip, req.port, req.timeout);
  if (!connected) co_return unexpected("connect to " + where + ": " + describe(connected.error()));
  std::unique_ptr<Stream> stream = std::move(*connected);

  stream->set_read_timeout(left(deadline));
  stream->set_write_timeout(left(deadline));
  const IoResult hs = co_await stream->start_tls_client(*req.tls, req.host, true);
  if (!hs) {
    std::string why = "TLS with " + where + ": " + describe(hs.ec);
    if (const std::string v = stream->tls_verify_error(); !v.empty() && v != "no certificate")
      why += " (" + v + ")";
    stream->close();
    co_return unexpected(std::move(why));
  }

  const std::string request = "GET " + req.path + " HTTP/1.1\r\nHost: " + req.host +
                              "\r\nUser-Agent: govmail\r\nAccept: text/plain\r\n"
                              "Connection: close\r\n\r\n";
  stream->set_write_timeout(left(deadline));
  if (const IoResult w = co_await stream->write(request); !w) {
    stream->close();
    co_return unexpected("writing to " + where + ": " + describe(w.ec));
  }

  http::response_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(req.max_header_bytes));
  parser.body_limit(req.max_body_bytes);
  parser.eager(true);
  std::string pending;
  std::string chunk(kReadSize, '\0');
  boost::system::error_code ec;
  while (!parser.is_done()) {
    stream->set_read_timeout(left(deadline));
    const IoResult r = co_await stream->read_some(std::span<char>(chunk.data(), chunk.size()));
    if (!r && r.ec == asio::error::eof) {
      parser.put_eof(ec);  // a body delimited by the end of the connection ends here
      if (ec) break;
      continue;
    }
    if (!r) {
      stream->close();
      co_return unexpected("reading from " + where + ": " + describe(r.ec));
    }
    pending.append(chunk.data(), r.bytes);
    while (!pending.empty() && !parser.is_done()) {
      const std::size_t used = parser.put(asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) break;
    }
    if (ec) break;
  }
  stream->close();
  if (ec == http::error::body_limit)
    co_return unexpected("response from " + where + ": body larger than " +
                         std::to_string(req.max_body_bytes) + " bytes");
  if (ec == http::error::header_limit)
    co_return unexpected("response from " + where + ": header larger than " +
                         std::to_string(req.max_header_bytes) + " bytes");
  if (ec) co_return unexpected("response from " + where + ": " + ec.message());

  auto& msg = parser.get();
  HttpsResponse out;
  out.status = static_cast<int>(msg.result_int());
  if (auto it = msg.find(http::field::content_type); it != msg.end())
    out.content_type = std::string(it->value());
  out.body = std::move(msg.body());
  co_return out;
}

}  // namespace

awaitable<Result<HttpsResponse, std::string>> https_get(Executor ex, HttpsRequest request) {
  if (!safe_in_request(request.host) || !safe_in_request(request.path) ||
      request.path.front() != '/')
    co_return unexpected(std::string("invalid host or path"));
  if (!request.tls) co_return unexpected(std::string("no TLS context"));
  if (request.addresses.empty()) co_return unexpected("no address for " + request.host);
  std::string errors;
  for (const auto& ip : request.addresses) {
    auto r = co_await get_from(ex, request, ip);
    if (r) co_return r;
    errors += (errors.empty() ? "" : "; ") + r.error();
  }
  co_return unexpected(std::move(errors));
}

std::string media_type(std::string_view content_type) {
  const std::size_t semi = content_type.find(';');
  std::string out;
  for (char c : content_type.substr(0, semi)) {
    if (c == ' ' || c == '\t') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

}  // namespace govmail::core
