// The JMAP request parser, result references and JSON pointers (RFC 8620 3.3, 3.6.1, 3.7),
// and the dispatcher's method-level errors, against the RFC text.
#include "jmap/request.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "core/asio.hpp"
#include "jmap/api.hpp"
#include "jmap/method.hpp"
#include "jmap/service.hpp"

namespace govmail::webmail::jmap {
namespace {

const std::set<std::string> kCaps{"urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"};

RequestError parse_error(std::string_view body, RequestLimits limits = {}) {
  auto r = parse_api_request(body, limits, kCaps);
  EXPECT_TRUE(std::holds_alternative<RequestError>(r)) << body;
  return std::holds_alternative<RequestError>(r) ? std::get<RequestError>(r) : RequestError{};
}

TEST(JmapRequest, ParsesTheRfcExample) {
  // RFC 8620 3.3.1
  auto r = parse_api_request(R"({
    "using": [ "urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail" ],
    "methodCalls": [
      [ "method1", { "arg1": "arg1data", "arg2": "arg2data" }, "c1" ],
      [ "method2", { "arg1": "arg1data" }, "c2" ],
      [ "method3", {}, "c3" ]
    ]})",
                             {}, kCaps);
  ASSERT_TRUE(std::holds_alternative<ApiRequest>(r));
  const auto& req = std::get<ApiRequest>(r);
  ASSERT_EQ(req.calls.size(), 3u);
  EXPECT_EQ(req.calls[0].name, "method1");
  EXPECT_EQ(req.calls[0].arguments["arg2"], "arg2data");
  EXPECT_EQ(req.calls[2].call_id, "c3");
  EXPECT_EQ(req.using_capabilities.size(), 2u);
  EXPECT_FALSE(req.created_ids.has_value());
}

TEST(JmapRequest, RequestLevelErrorsByTable) {
  struct Case {
    std::string body;
    std::string type;
  };
  const Case cases[] = {
      {"", "notJSON"},
      {"{\"using\": [", "notJSON"},
      {"not json at all", "notJSON"},
      {"[1,2,3]", "notRequest"},
      {"{}", "notRequest"},
      {R"({"using": "urn:ietf:params:jmap:core", "methodCalls": []})", "notRequest"},
      {R"({"using": [1], "methodCalls": []})", "notRequest"},
      {R"({"using": [], "methodCalls": {}})", "notRequest"},
      {R"({"using": [], "methodCalls": [["a", {}]]})", "notRequest"},
      {R"({"using": [], "methodCalls": [["a", [], "c"]]})", "notRequest"},
      {R"({"using": [], "methodCalls": [[1, {}, "c"]]})", "notRequest"},
      {R"({"using": [], "methodCalls": [], "createdIds": []})", "notRequest"},
      {R"({"using": ["urn:ietf:params:jmap:nope"], "methodCalls": []})", "unknownCapability"},
  };
  for (const auto& c : cases) {
    RequestError e = parse_error(c.body);
    EXPECT_EQ(e.type, "urn:ietf:params:jmap:error:" + c.type) << c.body;
    EXPECT_EQ(e.status, 400) << c.body;
    auto p = e.problem();
    EXPECT_EQ(p["type"], e.type);
    EXPECT_EQ(p["status"], 400);
    EXPECT_FALSE(p.contains("limit")) << c.body;
  }
}

TEST(JmapRequest, LimitsAreLimitErrorsNamingTheLimit) {
  RequestLimits limits{100, 2};
  RequestError big = parse_error(std::string(101, ' '), limits);
  EXPECT_EQ(big.type, "urn:ietf:params:jmap:error:limit");
  EXPECT_EQ(big.problem()["limit"], "maxSizeRequest");
  RequestError calls =
      parse_error(R"({"using":[],"methodCalls":[["a",{},"1"],["b",{},"2"],["c",{},"3"]]})", limits);
  EXPECT_EQ(calls.type, "urn:ietf:params:jmap:error:limit");
  EXPECT_EQ(calls.problem()["limit"], "maxCallsInRequest");
  auto two =
      parse_api_request(R"({"using":[],"methodCalls":[["a",{},"1"],["b",{},"2"]]})", limits, kCaps);
  EXPECT_TRUE(std::holds_alternative<ApiRequest>(two));
}

TEST(JmapRequest, DeepNestingIsRefusedBeforeParsing) {
  std::string deep = R"({"using":[],"methodCalls":[["Core/echo",{"a":)" + std::string(10000, '[') +
                     std::string(10000, ']') + R"(},"c"]]})";
  EXPECT_EQ(parse_error(deep, {1 << 20, 10}).type, "urn:ietf:params:jmap:error:notJSON");
  // Brackets inside strings do not count.
  std::string in_string =
      R"({"using":[],"methodCalls":[["Core/echo",{"a":")" + std::string(1000, '[') + R"("},"c"]]})";
  EXPECT_TRUE(std::holds_alternative<ApiRequest>(parse_api_request(in_string, {}, kCaps)));
  EXPECT_FALSE(json_too_deep(R"("\"[[[[")", 2));
  EXPECT_TRUE(json_too_deep("[[[", 2));
}

TEST(JmapRequest, CreatedIdsAreKept) {
  auto r =
      parse_api_request(R"({"using":[],"methodCalls":[],"createdIds":{"k1":"M7"}})", {}, kCaps);
  ASSERT_TRUE(std::holds_alternative<ApiRequest>(r));
  EXPECT_EQ(std::get<ApiRequest>(r).created_ids->at("k1"), "M7");
}

TEST(JsonPointer, Rfc6901AndTheStarExtension) {
  Json doc = Json::parse(R"({
    "ids": ["a", "b"],
    "list": [{"threadId": "t1", "emailIds": ["e1", "e2"]}, {"threadId": "t2", "emailIds": ["e3"]}],
    "a/b": 1, "m~n": 2, "": 3})");
  EXPECT_EQ(*evaluate_pointer(doc, "/ids"), Json::parse(R"(["a","b"])"));
  EXPECT_EQ(*evaluate_pointer(doc, "/ids/1"), "b");
  EXPECT_EQ(*evaluate_pointer(doc, "/a~1b"), 1);
  EXPECT_EQ(*evaluate_pointer(doc, "/m~0n"), 2);
  EXPECT_EQ(*evaluate_pointer(doc, "/"), 3);
  EXPECT_EQ(*evaluate_pointer(doc, ""), doc);
  // RFC 8620 3.7: "*" maps over the array; array results are flattened.
  EXPECT_EQ(*evaluate_pointer(doc, "/list/*/threadId"), Json::parse(R"(["t1","t2"])"));
  EXPECT_EQ(*evaluate_pointer(doc, "/list/*/emailIds"), Json::parse(R"(["e1","e2","e3"])"));
  EXPECT_FALSE(evaluate_pointer(doc, "/ids/2"));
  EXPECT_FALSE(evaluate_pointer(doc, "/ids/01"));
  EXPECT_FALSE(evaluate_pointer(doc, "/ids/-1"));
  EXPECT_FALSE(evaluate_pointer(doc, "/missing"));
  EXPECT_FALSE(evaluate_pointer(doc, "ids"));
  EXPECT_FALSE(evaluate_pointer(doc, "/~2"));
  EXPECT_FALSE(evaluate_pointer(doc, "/ids/*/x")) << "strings have no members";
  EXPECT_FALSE(evaluate_pointer(doc, "/a~1b/*")) << "* needs an array";
}

TEST(ResultReferences, ResolveTheRfcExample) {
  // RFC 8620 3.7, the Email/query -> Email/get -> Thread/get chain.
  std::vector<Json> responses{Json::parse(R"(["Email/query", {"accountId": "A1",
      "queryState": "abcdefg", "canCalculateChanges": true, "position": 0, "total": 101,
      "ids": ["msg1023", "msg223", "msg110"]}, "t0"])"),
                              Json::parse(R"(["Email/get", {"accountId": "A1", "state": "123456",
      "list": [{"id": "msg1023", "threadId": "trd194"}, {"id": "msg223", "threadId": "trd114"}],
      "notFound": []}, "t1"])")};
  Json get_args = Json::parse(
      R"({"accountId": "A1", "#ids": {"resultOf": "t0", "name": "Email/query", "path": "/ids"},
          "properties": ["threadId"]})");
  EXPECT_FALSE(resolve_result_references(get_args, responses));
  EXPECT_EQ(get_args["ids"], Json::parse(R"(["msg1023", "msg223", "msg110"])"));
  EXPECT_FALSE(get_args.contains("#ids"));
  Json thread_args = Json::parse(
      R"({"#ids": {"resultOf": "t1", "name": "Email/get", "path": "/list/*/threadId"}})");
  EXPECT_FALSE(resolve_result_references(thread_args, responses));
  EXPECT_EQ(thread_args["ids"], Json::parse(R"(["trd194", "trd114"])"));
}

TEST(ResultReferences, ErrorsByTable) {
  std::vector<Json> responses{Json::parse(R"(["Email/query", {"ids": ["x"]}, "t0"])")};
  struct Case {
    std::string args;
    std::string type;
  };
  const Case cases[] = {
      {R"({"#ids": {"resultOf": "t9", "name": "Email/query", "path": "/ids"}})",
       "invalidResultReference"},
      {R"({"#ids": {"resultOf": "t0", "name": "Email/get", "path": "/ids"}})",
       "invalidResultReference"},
      {R"({"#ids": {"resultOf": "t0", "name": "Email/query", "path": "/nope"}})",
       "invalidResultReference"},
      {R"({"#ids": {"resultOf": "t0", "name": "Email/query"}})", "invalidResultReference"},
      {R"({"#ids": "t0"})", "invalidResultReference"},
      {R"({"ids": [], "#ids": {"resultOf": "t0", "name": "Email/query", "path": "/ids"}})",
       "invalidArguments"},
  };
  for (const auto& c : cases) {
    Json args = Json::parse(c.args);
    auto err = resolve_result_references(args, responses);
    ASSERT_TRUE(err) << c.args;
    EXPECT_EQ(err->type, c.type) << c.args;
  }
}

// The dispatcher, with a registry of test methods.
class Dispatch : public ::testing::Test {
 protected:
  Dispatch() {
    register_core_methods(registry);
    registry.add("Test/fail", "urn:ietf:params:jmap:mail",
                 [](const Json&, RequestContext&) -> awaitable<Json> {
                   throw MethodError{"invalidArguments", "bad"};
                   co_return Json();
                 });
    registry.add("Test/crash", "urn:ietf:params:jmap:mail",
                 [](const Json&, RequestContext&) -> awaitable<Json> {
                   throw std::runtime_error("secret internal detail");
                   co_return Json();
                 });
    registry.add("Test/create", "urn:ietf:params:jmap:mail",
                 [](const Json& args, RequestContext& ctx) -> awaitable<Json> {
                   ctx.created_ids[args["create"].get<std::string>()] = "X1";
                   ctx.extra_responses.emplace_back("Test/implicit", Json{{"done", true}});
                   co_return Json{{"created", "X1"}};
                 });
    registry.add("Test/resolve", "urn:ietf:params:jmap:mail",
                 [](const Json& args, RequestContext& ctx) -> awaitable<Json> {
                   auto id = resolve_creation_id(args["id"].get<std::string>(), ctx);
                   if (!id) throw MethodError{"invalidArguments", "unknown creation id"};
                   co_return Json{{"id", *id}};
                 });
    ctx.account_id = 7;
    ctx.account_id_string = account_id_string(7);
  }

  Json run(std::string_view body) {
    auto parsed = parse_api_request(body, {}, known_capabilities(registry));
    EXPECT_TRUE(std::holds_alternative<ApiRequest>(parsed)) << body;
    boost::asio::io_context ioc;
    Json out;
    std::exception_ptr failure;
    boost::asio::co_spawn(
        ioc, run_api_request(std::move(std::get<ApiRequest>(parsed)), registry, ctx, "s1"),
        [&](std::exception_ptr e, Json r) {
          failure = e;
          out = std::move(r);
        });
    ioc.run();
    if (failure) std::rethrow_exception(failure);
    return out;
  }

  MethodRegistry registry;
  RequestContext ctx;
};

TEST_F(Dispatch, EchoAndBatchingInOrder) {
  Json out = run(R"({"using":["urn:ietf:params:jmap:core"],"methodCalls":[
      ["Core/echo",{"hello":true,"high":5},"b3ba8445"],["Core/echo",{"n":2},"c2"]]})");
  ASSERT_EQ(out["methodResponses"].size(), 2u);
  EXPECT_EQ(out["methodResponses"][0],
            Json::parse(R"(["Core/echo",{"hello":true,"high":5},"b3ba8445"])"));
  EXPECT_EQ(out["methodResponses"][1][2], "c2");
  EXPECT_EQ(out["sessionState"], "s1");
  EXPECT_FALSE(out.contains("createdIds"));
}

TEST_F(Dispatch, BackReferenceToAnEarlierEcho) {
  Json out = run(R"({"using":["urn:ietf:params:jmap:core"],"methodCalls":[
      ["Core/echo",{"list":[{"id":"x"},{"id":"y"}]},"c1"],
      ["Core/echo",{"#ids":{"resultOf":"c1","name":"Core/echo","path":"/list/*/id"}},"c2"],
      ["Core/echo",{"#ids":{"resultOf":"c9","name":"Core/echo","path":"/list"}},"c3"]]})");
  EXPECT_EQ(out["methodResponses"][1][1]["ids"], Json::parse(R"(["x","y"])"));
  EXPECT_EQ(out["methodResponses"][2][0], "error");
  EXPECT_EQ(out["methodResponses"][2][1]["type"], "invalidResultReference");
  EXPECT_EQ(out["methodResponses"][2][2], "c3");
}

TEST_F(Dispatch, MethodLevelErrors) {
  Json out = run(R"({"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail"],
      "methodCalls":[
      ["Nope/get",{},"1"],
      ["Test/fail",{},"2"],
      ["Test/crash",{},"3"],
      ["Core/echo",{"accountId":"a8"},"4"],
      ["Core/echo",{"accountId":"a7"},"5"],
      ["Core/echo",{"fromAccountId":"a1"},"6"],
      ["Core/echo",{"accountId":7},"7"]]})");
  const auto& r = out["methodResponses"];
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[0], Json::parse(R"(["error",{"type":"unknownMethod"},"1"])"));
  EXPECT_EQ(r[1], Json::parse(R"(["error",{"type":"invalidArguments","description":"bad"},"2"])"));
  EXPECT_EQ(r[2][1]["type"], "serverFail");
  EXPECT_EQ(r[2][1].dump().find("secret"), std::string::npos) << "internals stay in the log";
  EXPECT_EQ(r[3][1]["type"], "accountNotFound") << "another account's id";
  EXPECT_EQ(r[4][0], "Core/echo") << "the caller's own account";
  EXPECT_EQ(r[5][1]["type"], "accountNotFound");
  EXPECT_EQ(r[6][1]["type"], "invalidArguments");
}

TEST_F(Dispatch, MethodOfACapabilityNotInUsingIsUnknown) {
  Json out = run(R"({"using":["urn:ietf:params:jmap:core"],"methodCalls":[["Test/fail",{},"1"]]})");
  EXPECT_EQ(out["methodResponses"][0][1]["type"], "unknownMethod");
}

TEST_F(Dispatch, CreationIdsAndImplicitResponses) {
  Json out = run(R"({"using":["urn:ietf:params:jmap:mail"],"createdIds":{"old":"O1"},
      "methodCalls":[["Test/create",{"create":"k1"},"1"],["Test/resolve",{"id":"#k1"},"2"],
      ["Test/resolve",{"id":"#old"},"3"],["Test/resolve",{"id":"#none"},"4"],
      ["Test/resolve",{"id":"plain"},"5"]]})");
  const auto& r = out["methodResponses"];
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0][0], "Test/create");
  EXPECT_EQ(r[1], Json::parse(R"(["Test/implicit",{"done":true},"1"])"))
      << "an implicit response follows with the caller's callId";
  EXPECT_EQ(r[2][1]["id"], "X1");
  EXPECT_EQ(r[3][1]["id"], "O1") << "createdIds given in the request";
  EXPECT_EQ(r[4][1]["type"], "invalidArguments");
  EXPECT_EQ(r[5][1]["id"], "plain");
  EXPECT_EQ(out["createdIds"], Json::parse(R"({"old":"O1","k1":"X1"})"));
}

TEST(AccountGate, CountsPerAccountAndFreesOnRelease) {
  AccountGate gate(2);  // maxConcurrentRequests = 2
  auto a1 = gate.enter(1);
  auto a2 = gate.enter(1);
  EXPECT_TRUE(a1 && a2);
  EXPECT_FALSE(gate.enter(1)) << "a third request of the account at once";
  EXPECT_TRUE(gate.enter(2)) << "other accounts have their own count";
  {
    AccountGate::Ticket moved = std::move(a1);
    EXPECT_FALSE(gate.enter(1));
  }
  EXPECT_TRUE(gate.enter(1)) << "a finished request frees its place";
  a2.release();
  auto b1 = gate.enter(1);
  auto b2 = gate.enter(1);
  EXPECT_TRUE(b1 && b2);
}

TEST(BlobIds, AreGAndTheHexDigest) {
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "ab";
  EXPECT_EQ(blob_id_for_sha256(std::string(32, '\xab')), "G" + hex);
  EXPECT_EQ(account_id_string(42), "a42");
}

}  // namespace
}  // namespace govmail::webmail::jmap
