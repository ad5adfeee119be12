"""The benchmark queries of bench/search: kind, a name for the table, and the IMAP SEARCH keys
(field, string) that must all match (AND). Fields: body, subject, from, text. Shared by the
corpus generator (ground truth) and the runner (IMAP SEARCH CHARSET UTF-8 ...)."""

QUERIES = [
    # one word: common Vietnamese, common English, a rarer word
    {"kind": "one-word", "keys": [("body", "được")]},
    {"kind": "one-word", "keys": [("body", "budget")]},
    {"kind": "one-word", "keys": [("body", "thẩm")]},
    # two words anywhere in the body (two BODY keys) vs the phrase (one BODY key)
    {"kind": "two-word", "keys": [("body", "đề"), ("body", "nghị")]},
    {"kind": "two-word", "keys": [("body", "thiên"), ("body", "tai")]},
    {"kind": "phrase", "keys": [("body", "đề nghị")]},
    {"kind": "phrase", "keys": [("body", "đồng thời")]},
    {"kind": "phrase", "keys": [("body", "chuyển đổi số")]},
    # without diacritics (đ -> d): must find the accented text too
    {"kind": "unaccented", "keys": [("body", "duoc")]},
    {"kind": "unaccented", "keys": [("body", "dong thoi")]},
    {"kind": "unaccented", "keys": [("body", "de nghi")]},
    {"kind": "unaccented", "keys": [("body", "thuy loi")]},
    # a word's beginning (IMAP has no wildcard: a substring, which a prefix query must equal)
    {"kind": "prefix", "keys": [("body", "côn")]},
    {"kind": "prefix", "keys": [("body", "regul")]},
    # fields
    {"kind": "field", "keys": [("from", "Nguyễn Thị")]},
    {"kind": "field", "keys": [("from", "vinhnq")]},
    {"kind": "field", "keys": [("subject", "kế hoạch")]},
    {"kind": "field", "keys": [("subject", "ke hoach")]},
    # document numbers, anywhere in the message (TEXT); 45/QĐ-UBND is also inside 145/QĐ-UBND
    {"kind": "docnum", "keys": [("text", "1234/UBND-VP")]},
    {"kind": "docnum", "keys": [("text", "45/QĐ-UBND")]},
]
for q in QUERIES:
    q["name"] = " ".join(f"{f.upper()} \"{s}\"" for f, s in q["keys"])
