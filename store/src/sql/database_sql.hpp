// SQL run by Database::open: migrations under an advisory lock.
#pragma once
#include "pg/pg.hpp"

namespace govmail::store::sql {

// One key for "migrating the govmail schema", whichever process holds it.
inline constexpr const char* kLockMigrations = "SELECT pg_advisory_lock(7420150001)";
inline constexpr const char* kUnlockMigrations = "SELECT pg_advisory_unlock(7420150001)";
// Not prepared: schema_migrations may not exist yet (a prepared statement would fail to parse).
inline constexpr const char* kHasMigrationsTable =
    "SELECT to_regclass('schema_migrations') IS NOT NULL";
inline constexpr const char* kSchemaVersion =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";
inline constexpr pg::Statement kRecordMigration{
    "gm_record_migration", "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"};

}  // namespace govmail::store::sql
