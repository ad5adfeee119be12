// Shared helpers for the MIME tests: sample files, JSON views, offset invariants.
#pragma once
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "store/mime.hpp"

namespace mimetest {

using nlohmann::json;

inline std::string data_file(const std::string& name) {
  const auto path = std::filesystem::path(GOVMAIL_SOURCE_DIR) / "tests" / "mime" / "data" / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "missing test data file " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// LF -> CRLF (for readable literals).
inline std::string crlf(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

struct View {
  govmail::store::ParsedMessage msg;
  json env, body;
};

inline View parse(const std::string& raw, const govmail::store::MimeLimits& limits = {}) {
  View v;
  v.msg = govmail::store::parse_message(raw, limits);
  v.env = json::parse(v.msg.envelope_json);
  v.body = json::parse(v.msg.bodystructure_json);
  return v;
}

// Every part: header <= body <= end <= size, inside its parent's body, siblings in order.
inline void check_offsets(const json& part, std::size_t lo, std::size_t hi, std::size_t* count) {
  ++*count;
  const auto h = part["header_offset"].get<std::size_t>();
  const auto b = part["body_offset"].get<std::size_t>();
  const auto e = part["end_offset"].get<std::size_t>();
  EXPECT_LE(lo, h) << part["section"];
  EXPECT_LE(h, b) << part["section"];
  EXPECT_LE(b, e) << part["section"];
  EXPECT_LE(e, hi) << part["section"];
  EXPECT_EQ(part["size"].get<std::size_t>(), e - b);
  if (part.contains("parts")) {
    std::size_t prev = b;
    for (const auto& child : part["parts"]) {
      check_offsets(child, prev, e, count);
      prev = child["end_offset"].get<std::size_t>();
    }
  }
  if (part.contains("message")) {
    const auto& m = part["message"];
    EXPECT_EQ(m["header_offset"].get<std::size_t>(), b);
    check_offsets(m["body"], b, e, count);
  }
}

inline std::size_t check_offsets(const std::string& raw, const json& root) {
  std::size_t count = 0;
  EXPECT_EQ(root["header_offset"].get<std::size_t>(), 0u);
  EXPECT_EQ(root["end_offset"].get<std::size_t>(), raw.size());
  check_offsets(root, 0, raw.size(), &count);
  return count;
}

// First part in document order with that section (a message/rfc822 part before its body).
inline const json* find_section(const json& part, const std::string& section) {
  if (part["section"] == section) return &part;
  if (part.contains("parts")) {
    for (const auto& c : part["parts"]) {
      if (const json* f = find_section(c, section)) return f;
    }
  }
  if (part.contains("message")) return find_section(part["message"]["body"], section);
  return nullptr;
}

inline std::string slice(const std::string& raw, const json& part, const char* from,
                         const char* to) {
  const auto a = part[from].get<std::size_t>();
  const auto b = part[to].get<std::size_t>();
  return raw.substr(a, b - a);
}

}  // namespace mimetest
