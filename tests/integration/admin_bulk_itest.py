#!/usr/bin/env python3
"""govmail admin import / units / groups / lifecycle / audit against real PostgreSQL: a generated
2,000-account Bắc Ninh with Vietnamese names (many collisions), re-run, edits, dry-run accuracy,
every bad-row case, domain merge, bulk suspend, unused, delete + purge, append-only audit."""
import csv
import os
import random
import stat
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, govmail, psql, traversable_tempdir, write_config  # noqa

# The official unit list (34 provinces, 3,321 communes), kept in the repository for tests.
UNITS = os.path.join(os.environ.get("GOVMAIL_SOURCE_DIR", "."), "tests", "data",
                     "vn-admin-units-2025.csv")
D = "bacninh.gov.vn"
c = Checks()
tmp = traversable_tempdir()

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đặng", "Vũ", "Bùi"]
MIDDLES = ["Văn", "Thị", "Quang", "Thu", "Minh", "Đức"]
GIVENS = ["Vinh", "Hương", "Đức", "Hoa", "Tám", "Lan", "Hùng", "Mai", "Dũng", "Hà", "Anh", "Tuấn"]
rnd = random.Random(4)
communes = [r["code"] for r in csv.DictReader(open(UNITS, encoding="utf-8")) if r["parent_code"] == "24"]
rows = [[f"{rnd.choice(SURNAMES)} {rnd.choice(MIDDLES)} {rnd.choice(GIVENS)}",
         communes[i % len(communes)], rnd.choice(["Chủ tịch", "Văn thư", "Công chức", "Kế toán"])]
        for i in range(2000)]
rows[0] = ["Nguyễn Quang Vinh", communes[0], "Chủ tịch"]
rows[1] = ["Trần Thị Thu Hương", communes[0], "Văn thư"]
rows[2] = ["Đặng Văn Đức", communes[1], "Công chức"]
rows[3] = ["Nguyễn Quang Vinh", communes[1], "Công chức"]


def write_csv(path, header, data):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(data)
    return path


def plan_lines(out):
    return sorted(l for l in out.splitlines() if l.startswith(("create ", "update ")))


with FreshDatabase() as db:
    cfg = os.path.join(tmp, "govmail.toml")
    write_config(cfg, os.path.join(tmp, "var"), 1,
                 "[auth]\nargon2_opslimit = 1\nargon2_memlimit = 8388608\n")
    env = {"GOVMAIL_DATABASE_URL": db.url}

    def admin(*args, input=None):
        return govmail("admin", "--config", cfg, *args, env=env, input=input)

    def count(sql):
        return int(psql(db.url, sql))

    c.check(admin("domain", "add", D).returncode == 0, "domain add")
    r = admin("unit", "import", UNITS)
    c.check(r.returncode == 0 and "3355 created" in r.stdout, f"unit import: {r.stdout}{r.stderr}")
    r = admin("unit", "import", UNITS)
    c.check("0 created, 0 updated, 3355 unchanged" in r.stdout, f"unit re-import unchanged: {r.stdout}")
    r = admin("group", "add", f"toantinh@{D}", "--name", "Toàn tỉnh", "--unit", "24")
    c.check(r.returncode == 0, f"province group: {r.stderr}")
    r = admin("group", "add", f"xa{communes[0]}@{D}", "--unit", communes[0])
    c.check(r.returncode == 0, f"commune group: {r.stderr}")
    c.check(admin("group", "add", f"lanhdao@{D}", "--name", "Lãnh đạo").returncode == 0, "manual group")

    big = write_csv(os.path.join(tmp, "province.csv"), ["full_name", "unit_code", "position"], rows)
    dry = admin("import", big, "--domain", D, "--dry-run")
    c.check(dry.returncode == 0 and "created        2000" in dry.stdout, f"dry run: {dry.stdout[-300:]}")
    c.check(count("SELECT count(*) FROM accounts") == 0, "dry run changes nothing")
    creds = os.path.join(tmp, "creds.csv")
    r = admin("import", big, "--domain", D)
    c.check(r.returncode == 1 and "--credentials" in r.stderr, f"credentials file required: {r.stderr}")
    r = admin("import", big, "--domain", D, "--credentials", creds)
    c.check(r.returncode == 0, f"import 2000: {r.stderr[-500:]}")
    c.check(plan_lines(r.stdout) == plan_lines(dry.stdout) and len(plan_lines(dry.stdout)) == 2000,
            "dry run printed exactly what the import did")
    c.check(count("SELECT count(*) FROM accounts") == 2000, "2000 accounts")
    c.check(stat.S_IMODE(os.stat(creds).st_mode) == 0o600, "credentials file mode 0600")
    cred_rows = list(csv.DictReader(open(creds, encoding="utf-8")))
    c.check(len(cred_rows) == 2000 and all(len(x["password"]) >= 16 for x in cred_rows),
            "one strong password per new account")
    c.check(cred_rows[0]["address"] == f"vinhnq@{D}" and cred_rows[1]["address"] == f"huongttt@{D}"
            and cred_rows[2]["address"] == f"ducdv@{D}" and cred_rows[3]["address"] == f"vinhnq2@{D}",
            f"issue examples and numbering: {[x['address'] for x in cred_rows[:4]]}")
    numbered = [x for x in cred_rows if x["address"].split("@")[0][-1].isdigit()]
    c.check(len(numbered) > 500, f"many collisions numbered: {len(numbered)}")
    c.check(count("SELECT count(*) FROM accounts WHERE must_change_password") == 2000, "must change")
    c.check(all(x["password"] not in r.stdout + r.stderr for x in cred_rows[:50]), "passwords not printed")
    r2 = admin("import", big, "--domain", D, "--credentials", creds)
    c.check(r2.returncode == 0 and "unchanged      2000" in r2.stdout and not plan_lines(r2.stdout),
            f"re-run changes nothing: {r2.stdout[-300:]}")
    c.check(count("SELECT count(*) FROM accounts") == 2000, "still 2000")

    members = int(admin("group", "list", "--domain", D).stdout.split(f"toantinh@{D}\tToàn tỉnh\t")[1].split("\t")[0])
    c.check(members == 2000, f"province-wide group has every commune mailbox: {members}")
    in_commune = sum(1 for x in rows if x[1] == communes[0])
    got = admin("group", "members", f"xa{communes[0]}@{D}").stdout.split()
    c.check(len(got) == in_commune, f"commune group kept per unit: {len(got)} vs {in_commune}")

    # Edited re-run: 3 positions, 1 unit move, 1 group added -> exactly those updates.
    edited = [list(x) for x in rows]
    edited[10][2] = "Phó Chủ tịch"
    edited[20][2] = "Phó Chủ tịch"
    edited[30][2] = "Phó Chủ tịch"
    edited[40][1] = communes[0]
    hdr = ["full_name", "unit_code", "position", "groups"]
    data = [x + (["lanhdao"] if i == 0 else [""]) for i, x in enumerate(edited)]
    ed = write_csv(os.path.join(tmp, "edited.csv"), hdr, data)
    dry = admin("import", ed, "--domain", D, "--dry-run")
    lines = plan_lines(dry.stdout)
    c.check(len(lines) == 5 and all(l.startswith("update ") for l in lines), f"edited dry run: {lines}")
    r = admin("import", ed, "--domain", D)
    c.check(r.returncode == 0 and plan_lines(r.stdout) == lines, f"edited import: {r.stderr}")
    c.check(count("SELECT count(*) FROM accounts WHERE position = 'Phó Chủ tịch'") >= 3, "positions updated")
    got2 = admin("group", "members", f"xa{communes[0]}@{D}").stdout.split()
    c.check(len(got2) == in_commune + (0 if rows[40][1] == communes[0] else 1), "unit move follows the group")
    c.check(admin("group", "members", f"lanhdao@{D}").stdout.split() == [f"vinhnq@{D}"], "groups column")
    r = admin("import", ed, "--domain", D)
    c.check(not plan_lines(r.stdout), "edited file re-run: unchanged")

    # Every bad-row case: nothing applied, each reported with its line; --skip-bad applies the rest.
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "wb") as f:
        f.write("full_name,unit_code,position,local_part,quota_mb\n".encode())
        f.write("Người Mới Tốt,{},x,,\n".format(communes[2]).encode())  # 2 good
        f.write("Nguyễn Văn A,99999,x,,\n".encode())                    # 3 unknown unit
        f.write(",{},x,,\n".format(communes[2]).encode())               # 4 empty name
        f.write("Lê Thị B,{},x,trung,\n".format(communes[2]).encode())  # 5 ok explicit
        f.write("Lê Thị C,{},x,trung,\n".format(communes[2]).encode())  # 6 duplicate address
        f.write("Lê Thị D,{},x,,nhiều\n".format(communes[2]).encode())  # 7 bad quota
        f.write(b"L\xc3\x28 Th\xe1 E," + communes[2].encode() + b",x,,\n")  # 8 malformed UTF-8
        f.write("Lê \"Thị\" F,{},x,,\n".format(communes[2]).encode())   # 9 malformed CSV
        f.write("Lê Thị G,{},x\n".format(communes[2]).encode())         # 10 field count
    r = admin("import", bad, "--domain", D, "--credentials", os.path.join(tmp, "c2.csv"))
    c.check(r.returncode == 1 and count("SELECT count(*) FROM accounts") == 2000, "nothing half-applied")
    for line, why in [(3, "unknown unit code '99999'"), (4, "empty full_name"),
                      (6, f"duplicate address trung@{D} (also on line 5)"), (7, "bad quota_mb"),
                      (8, "malformed UTF-8"), (9, "quote"), (10, "expected 5 fields, found 3")]:
        c.check(f"{bad}:{line}: " in r.stderr and why in r.stderr.split(f"{bad}:{line}: ")[1].split("\n")[0],
                f"bad row {line} ({why}): {r.stderr}")
    c.check(f"{bad}:2:" not in r.stderr and f"{bad}:5:" not in r.stderr, "good rows not reported")
    c.check(not os.path.exists(os.path.join(tmp, "c2.csv")), "no credentials file when nothing applied")
    r = admin("import", bad, "--domain", D, "--credentials", os.path.join(tmp, "c2.csv"), "--skip-bad")
    c.check(r.returncode == 0 and count("SELECT count(*) FROM accounts") == 2002, f"--skip-bad: {r.stderr}")
    c.check("skipped           7" in r.stdout, f"summary counts skipped rows: {r.stdout[-400:]}")

    # Export imports back unchanged.
    exp = os.path.join(tmp, "export.csv")
    c.check(admin("account", "export", "--domain", D, "--output", exp).returncode == 0, "export")
    r = admin("import", exp, "--domain", D)
    c.check(r.returncode == 0 and not plan_lines(r.stdout) and "unchanged      2002" in r.stdout,
            f"export re-imports unchanged: {r.stdout[-300:]}{r.stderr[-300:]}")

    # Lifecycle.
    a = f"vinhnq@{D}"
    r = admin("account", "show", a)
    c.check("name: Nguyễn Quang Vinh" in r.stdout and "group: toantinh@" in r.stdout, f"show: {r.stdout}")
    c.check(admin("account", "suspend", a).returncode == 0, "suspend")
    c.check("\tsuspended\t" in admin("account", "list", "--domain", D, "--status", "suspended").stdout, "list by status")
    c.check(admin("account", "restore", a).returncode == 0, "restore")
    r = admin("account", "password", a, "--random-password")
    c.check(r.returncode == 0 and "must change" in r.stdout, "password reset with must-change")
    c.check(admin("account", "quota", a, "500").returncode == 0 and
            count(f"SELECT quota_bytes FROM accounts WHERE address='{a}'") == 500 << 20, "quota")
    c.check(admin("alias", "add", f"chutich@{D}", a).returncode == 0, "alias add")
    r = admin("app-password", "add", a, "thunderbird")
    c.check(r.returncode == 0 and "password: " in r.stdout, "app password")
    c.check(count("SELECT count(*) FROM app_passwords") == 1, "app password stored")
    r = admin("account", "rename", f"vinhnq2@{D}", f"vinh.nguyen@{D}", "--keep-alias")
    c.check(r.returncode == 0 and count(f"SELECT count(*) FROM aliases WHERE address='vinhnq2@{D}'") == 1,
            f"rename keeps alias: {r.stderr}")
    lst = os.path.join(tmp, "list.txt")
    with open(lst, "w") as f:
        f.write(f"huongttt@{D}\nducdv@{D}\nnobody@{D}\n")
    r = admin("account", "bulk-suspend", lst)
    c.check(r.returncode == 1 and "not found: nobody@" in r.stderr and
            count("SELECT count(*) FROM accounts WHERE status = 1") == 2, f"bulk suspend: {r.stderr}")
    c.check(admin("account", "bulk-restore", lst).returncode == 1 and
            count("SELECT count(*) FROM accounts WHERE status = 1") == 0, "bulk restore")
    psql(db.url, f"UPDATE accounts SET created_at = now() - interval '50 days' WHERE address = 'ducdv@{D}'")
    r = admin("account", "unused", "--domain", D, "--suspend")
    c.check(r.stdout.startswith(f"ducdv@{D}\t") and "1 account(s) suspended" in r.stdout, f"unused: {r.stdout}")
    c.check(admin("account", "delete", a).returncode == 0, "delete")
    c.check(count(f"SELECT count(*) FROM group_members m JOIN accounts a ON a.id = m.account_id "
                  f"JOIN groups g ON g.id = m.group_id WHERE g.unit_code IS NOT NULL "
                  f"AND a.address = '{a}'") == 0, "deleted account leaves the automatic groups")
    r = admin("account", "purge")
    c.check("0 account(s) purged" in r.stdout, "retention keeps a fresh deletion")
    r = admin("account", "purge", "--older-than-days", "0")
    c.check(f"purged {a}" in r.stdout and count(f"SELECT count(*) FROM accounts WHERE address='{a}'") == 0,
            f"purge after retention: {r.stdout}{r.stderr}")

    # Domain merge: old addresses keep resolving; collisions refused.
    c.check(admin("domain", "add", "bacgiang.gov.vn").returncode == 0, "old domain")
    admin("account", "add", "tuanvh@bacgiang.gov.vn", "--name", "Vũ Hoàng Tuấn", "--random-password")
    admin("account", "add", f"huongttt@bacgiang.gov.vn", "--name", "X", "--random-password")
    r = admin("domain", "merge", "bacgiang.gov.vn", D)
    c.check(r.returncode == 1 and "huongttt exists in both" in r.stderr, f"merge collision: {r.stderr}")
    admin("account", "rename", "huongttt@bacgiang.gov.vn", "huongttt.bg@bacgiang.gov.vn")
    r = admin("domain", "merge", "bacgiang.gov.vn", D)
    c.check(r.returncode == 0, f"merge: {r.stderr}")
    c.check(f"bacgiang.gov.vn\talias of {D}" in admin("domain", "list").stdout, "alias domain listed")
    c.check(admin("account", "show", f"tuanvh@{D}").returncode == 0, "account moved to the new domain")

    # Admins and audit.
    r = admin("admins", "grant", f"huongttt@{D}", "--role", "unit", "--units", communes[0])
    c.check(r.returncode == 0, f"grant: {r.stderr}")
    r = admin("admins", "totp", f"huongttt@{D}")
    c.check("otpauth://totp/" in r.stdout, "totp enrolment")
    log = admin("audit", "list", "--limit", "1000").stdout
    for action in ["domain.add", "unit.import", "group.add", "import.apply", "import", "account.suspend",
                   "account.restore", "account.password", "account.quota", "alias.add", "app-password.add",
                   "account.rename", "account.bulk-suspend", "account.unused", "account.delete",
                   "account.purge", "domain.merge", "admins.grant", "admins.totp", "account.export"]:
        c.check(f"\t{action}\t" in log, f"audit has {action}")
    c.check("\tfailed\t" in log, "failed actions are audited too")
    c.check(all(x["password"] not in log for x in cred_rows[:50]), "no password in the audit log")
    try:
        psql(db.url, "DELETE FROM audit_log")
        c.check(False, "audit log refuses DELETE")
    except Exception:
        c.check(True, "audit log refuses DELETE")

c.finish()
