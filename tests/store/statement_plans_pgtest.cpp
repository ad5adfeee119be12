// The plans the pool's connections run (force_generic_plan): a statement about a few UIDs must
// read those entries, not the whole mailbox. A generic plan cannot see how narrow the ranges
// are, and a planner choice that reads every entry looks fine on a small mailbox and grows with
// its size and its dead row versions (bench/imap/mix.sh slowed down round after round).
#include <nlohmann/json.hpp>

#include "sql/mailbox_sql.hpp"
#include "store_fixture.hpp"

namespace govmail::store::testing {
namespace {

using json = nlohmann::json;

// Rows that the plan's scans of `table` produced or threw away, over all their loops.
double rows_read(const json& node, const std::string& table) {
  double n = 0;
  if (node.value("Relation Name", "") == table) {
    const double loops = node.value("Actual Loops", 1.0);
    n += (node.value("Actual Rows", 0.0) + node.value("Rows Removed by Filter", 0.0) +
          node.value("Rows Removed by Index Recheck", 0.0)) *
         loops;
  }
  n += node.value("Rows Removed by Join Filter", 0.0);
  if (auto it = node.find("Plans"); it != node.end())
    for (const auto& child : *it) n += rows_read(child, table);
  return n;
}

class StatementPlansTest : public StoreTest {
 protected:
  // EXPLAIN ANALYZE of `statement` executed once with `args`, as a generic plan.
  json explain(const pg::Statement& statement, const std::string& args) {
    const std::string out =
        q(std::string("SET plan_cache_mode = force_generic_plan; PREPARE s AS ") + statement.sql +
          "; EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE s(" + args + ")");
    auto plan = json::parse(out, nullptr, false);
    EXPECT_TRUE(plan.is_array()) << out;
    return plan.is_array() ? plan[0]["Plan"] : json::object();
  }
};

TEST_F(StatementPlansTest, StoreOnOneUidReadsThatEntryOnly) {
  std::vector<Account> accounts;
  MailboxId target = 0;
  for (int a = 0; a < 4; ++a) {
    accounts.push_back(add_account("plan" + std::to_string(a) + "@example.gov.vn"));
    auto box = mailbox(accounts.back().id, "INBOX");
    for (int n = 0; n < 150; ++n) append(accounts.back().id, box.id, sample_message(a * 1000 + n));
    target = box.id;
  }
  q("ANALYZE mailbox_entries");
  const std::string args = std::to_string(accounts.back().id) + ", " + std::to_string(target) +
                           ", '{75}', '{75}', 0, " + std::to_string(kDeleted) +
                           ", '{}', NULL, false";
  auto plan = explain(sql::kSetFlags, args);
  // `pre` reads entry 75, the locking read reads it again, and the UPDATE finds it: three rows.
  EXPECT_LE(rows_read(plan, "mailbox_entries"), 4.0) << plan.dump(1);
  EXPECT_EQ(q("SELECT flags FROM mailbox_entries WHERE mailbox_id = " + std::to_string(target) +
              " AND uid = 75"),
            std::to_string(kDeleted));
}

}  // namespace
}  // namespace govmail::store::testing
