// The JMAP responses' serialiser. The same bytes as
// nlohmann::json::dump(-1, ' ', false, error_handler_t::replace), made faster for text: nlohmann
// decodes every byte of every string through its UTF-8 automaton, which was ~10% of govmail's CPU
// on a webmail page (50 messages of Vietnamese names, subjects and previews; bench/jmap PROFILE=1
// and perf). Here runs of plain ASCII are copied whole and well-formed UTF-8 is checked once; a
// string that is not well-formed is left to nlohmann, so the replacement of bad bytes is its own.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace govmail::webmail::jmap {

std::string dump_json(const nlohmann::json& value);
void dump_json_to(const nlohmann::json& value, std::string& out);

}  // namespace govmail::webmail::jmap
