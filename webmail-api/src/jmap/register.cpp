// The routes of JMAP (RFC 8620): session resource, API, blob upload and download, login and
// logout; push is in push.cpp.
#include "webmail/jmap.hpp"

#include <spdlog/spdlog.h>

#include "auth/credentials.hpp"
#include "core/asio.hpp"
#include "jmap/api.hpp"
#include "jmap/json_writer.hpp"
#include "jmap/request.hpp"
#include "jmap/service.hpp"
#include "jmap/session_resource.hpp"
#include "jmap/url.hpp"
#include "store/database.hpp"
#include "store/jmap_store.hpp"

namespace govmail::webmail {

namespace jmap {

using core::HttpRequest;
using core::HttpResponse;

AccountGate::Ticket AccountGate::enter(store::AccountId account) {
  std::lock_guard lock(mu_);
  auto& n = in_use_[account];
  if (n >= max_) return {};
  ++n;
  return Ticket(this, account);
}

void AccountGate::leave(store::AccountId account) {
  std::lock_guard lock(mu_);
  auto it = in_use_.find(account);
  if (it != in_use_.end() && --it->second == 0) in_use_.erase(it);
}

JmapService::JmapService(const core::Config& config, std::shared_ptr<store::Database> database,
                         core::AuthService& auth_service,
                         std::shared_ptr<core::SessionRegistry> registry)
    : cfg(config),
      db(database),
      auth(cfg, database, auth_service),
      sessions(std::move(registry)),
      requests(cfg.jmap.max_concurrent_requests),
      uploads(cfg.jmap.max_concurrent_upload),
      push_streams(cfg.jmap.max_eventsource_per_account) {
  register_core_methods(methods);
  register_mail_methods(methods);
}

HttpResponse problem(int status, std::string_view type, std::string detail,
                     std::string_view limit) {
  RequestError e{std::string(type.starts_with("urn:") ? "" : kErrorPrefix) + std::string(type),
                 status, std::move(detail), std::string(limit)};
  HttpResponse r = HttpResponse::json(status, e.problem().dump());
  r.content_type = "application/problem+json";
  return r;
}

std::string base_url(const HttpRequest& request) {
  std::string host(request.header("Host"));
  if (host.empty() || host.find_first_of("/\\ \"<>") != std::string::npos) host = "localhost";
  return (auth::client_used_tls(request) ? "https://" : "http://") + host;
}

awaitable<HttpResponse> JmapService::session(const HttpRequest& request) {
  auto who = co_await auth.authenticate(request, false);
  if (auto* refusal = std::get_if<HttpResponse>(&who)) co_return std::move(*refusal);
  const auto& p = std::get<auth::Principal>(who);
  Json s = session_resource(cfg, methods, p.account_id, p.address, base_url(request));
  co_return HttpResponse::json(200, s.dump());
}

awaitable<HttpResponse> JmapService::api(const HttpRequest& request) {
  auto who = co_await auth.authenticate(request, true);
  if (auto* refusal = std::get_if<HttpResponse>(&who)) co_return std::move(*refusal);
  const auto& p = std::get<auth::Principal>(who);
  RequestLimits limits{cfg.jmap.max_size_request, cfg.jmap.max_calls_in_request};
  auto parsed = parse_api_request(request.body, limits, known_capabilities(methods));
  if (auto* err = std::get_if<RequestError>(&parsed)) {
    HttpResponse r = HttpResponse::json(err->status, err->problem().dump());
    r.content_type = "application/problem+json";
    co_return r;
  }
  AccountGate::Ticket ticket = requests.enter(p.account_id);
  if (!ticket) {
    co_return problem(429, "limit", "too many concurrent requests", "maxConcurrentRequests");
  }
  RequestContext ctx;
  ctx.account_id = p.account_id;
  ctx.account_id_string = account_id_string(p.account_id);
  ctx.address = p.address;
  ctx.client_ip = request.remote_address;
  ctx.db = db;
  ctx.cfg = &cfg;
  ctx.search = search.get();
  std::string state =
      session_states.state(cfg, methods, p.account_id, p.address, base_url(request));
  Json out = co_await run_api_request(std::move(std::get<ApiRequest>(parsed)), methods, ctx,
                                      std::move(state));
  co_return HttpResponse::json(200, dump_json(out));
}

awaitable<HttpResponse> JmapService::upload(const HttpRequest& request) {
  auto who = co_await auth.authenticate(request, true);
  if (auto* refusal = std::get_if<HttpResponse>(&who)) co_return std::move(*refusal);
  const auto& p = std::get<auth::Principal>(who);
  auto segments = path_segments(request.path, "/jmap/upload/");
  if (!segments || segments->empty() || segments->size() > 1 ||
      (*segments)[0] != account_id_string(p.account_id)) {
    co_return problem(404, "accountNotFound", "no such account");
  }
  if (request.body.size() > cfg.jmap.max_size_upload) {
    co_return problem(413, "limit", "upload larger than maxSizeUpload", "maxSizeUpload");
  }
  AccountGate::Ticket ticket = uploads.enter(p.account_id);
  if (!ticket) co_return problem(429, "limit", "too many uploads at once", "maxConcurrentUpload");
  std::string type(request.header("Content-Type"));
  if (type.empty() || type.size() > 255 || !valid_media_type(type.substr(0, type.find(';'))))
    type = "application/octet-stream";
  std::string digest = auth::sha256(request.body);
  std::string blob_id = blob_id_for_sha256(digest);
  auto stored = co_await db->jmap().put_upload(p.account_id, digest, type, request.body,
                                               cfg.jmap.upload_ttl.count());
  if (!stored) co_return HttpResponse::error(503, "temporarily unavailable; try later");
  Json out{{"accountId", account_id_string(p.account_id)},
           {"blobId", blob_id},
           {"type", type},
           {"size", request.body.size()}};
  co_return HttpResponse::json(201, out.dump());
}

awaitable<HttpResponse> JmapService::download(const HttpRequest& request) {
  auto who = co_await auth.authenticate(request, false);
  if (auto* refusal = std::get_if<HttpResponse>(&who)) co_return std::move(*refusal);
  const auto& p = std::get<auth::Principal>(who);
  auto segments = path_segments(request.path, "/jmap/download/");
  // Another account's blob answers like a missing one (nothing learnt about what exists).
  if (!segments || segments->size() != 3 || (*segments)[0] != account_id_string(p.account_id))
    co_return HttpResponse::error(404, "not found");
  RequestContext ctx;
  ctx.account_id = p.account_id;
  ctx.account_id_string = account_id_string(p.account_id);
  ctx.address = p.address;
  ctx.db = db;
  ctx.cfg = &cfg;
  ctx.search = search.get();
  ctx.registry = &methods;
  std::optional<BlobContent> blob;
  try {
    blob = co_await read_blob((*segments)[1], ctx);
  } catch (const MethodError&) {
    blob.reset();
  }
  if (!blob) co_return HttpResponse::error(404, "not found");
  HttpResponse r;
  r.status = 200;
  auto accept = query_param(request.query, "accept");
  r.content_type = accept && valid_media_type(*accept) ? *accept : blob->type;
  if (!valid_media_type(r.content_type.substr(0, r.content_type.find(';'))))
    r.content_type = "application/octet-stream";
  r.body = std::move(blob->data);
  r.headers.emplace_back("Content-Disposition", content_disposition((*segments)[2]));
  r.headers.emplace_back("Cache-Control", "private, max-age=31536000, immutable");
  co_return r;
}

}  // namespace jmap

void register_jmap(core::Router& router, JmapDeps deps) {
  auto svc = std::make_shared<jmap::JmapService>(deps.cfg, deps.db, deps.auth, deps.sessions);
  svc->search = std::move(deps.search);
  auto session = [svc](const core::HttpRequest& r) { return svc->session(r); };
  router.add("GET", "/.well-known/jmap", session);
  router.add("GET", "/jmap/session", session);
  router.add("POST", "/jmap/api", [svc](const core::HttpRequest& r) { return svc->api(r); });
  router.add("POST", "/jmap/upload", [svc](const core::HttpRequest& r) { return svc->upload(r); });
  router.add("GET", "/jmap/download",
             [svc](const core::HttpRequest& r) { return svc->download(r); });
  router.add("GET", "/jmap/eventsource",
             [svc](const core::HttpRequest& r) { return svc->eventsource(r); });
  router.add("POST", "/jmap/login",
             [svc](const core::HttpRequest& r) { return svc->auth.login(r); });
  router.add("POST", "/jmap/logout",
             [svc](const core::HttpRequest& r) { return svc->auth.logout(r); });
}

}  // namespace govmail::webmail
