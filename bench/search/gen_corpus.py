#!/usr/bin/env python3
"""Deterministic Vietnamese + English official-mail corpus for bench/search, with its ground truth.

Writes COUNT messages (same seed, same bytes) as a Maildir (OUT/cur/...), and OUT.truth.json: for
every benchmark query (queries.py) the sorted corpus numbers of the messages that match it under
the IMAP SEARCH semantics govmail's store path implements (imap/src/text_match.cpp): a substring
of the case-folded NFC text; a needle without Vietnamese marks also matches the text with its
marks removed (tone and vowel marks dropped, đ/Đ -> d). BODY is the decoded text parts (text/plain,
text/html reduced to text, text attachments; of a multipart/alternative only the
text/plain part; then the attachments' file names), SUBJECT the decoded Subject, FROM the sender's
decoded display name and address, TEXT the decoded header fields and the body.

Each message carries "Message-ID: <corpus-N@bench.search>" (N from 1) so that a server's UIDs can
be mapped back to corpus numbers whatever order it stored the files in.

The mail: officials of provincial agencies (Vietnamese names, addresses like vinhnq@...), subjects
and bodies made of the phrases of official correspondence ("đề nghị", "đồng thời", "được",
document numbers "123/UBND-VP", "45/QĐ-UBND"), ~25% English, ~10% typed without diacritics (as on
a phone), ~15% multipart/alternative with HTML, ~15% with a small PDF- or text-named attachment;
8bit, quoted-printable and base64 bodies. Sizes 2-8 KB (mean ~5 KB).

Usage: gen_corpus.py OUT_DIR COUNT"""
import base64
import json
import os
import quopri
import random
import re
import sys
import unicodedata
from email.header import Header

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import queries  # noqa: E402

SEED = 20261204

FAMILY = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trịnh".split()
MIDDLE = "Văn Thị Quang Minh Thu Hữu Đức Ngọc Thanh Xuân Hoài Kim".split()
GIVEN = ("An Bình Cường Dũng Đông Giang Hà Hải Hằng Hiếu Hòa Hùng Hương Khánh Lan Linh Long "
         "Mai Nam Nga Phong Phúc Quân Sơn Tâm Thảo Thủy Trang Tuấn Việt Vinh Yến").split()
DOMAINS = ["hatinh.gov.vn", "ubnd.hatinh.gov.vn", "stttt.hatinh.gov.vn", "stc.hatinh.gov.vn",
           "snv.hatinh.gov.vn", "sgddt.hatinh.gov.vn"]
ORG_CODES = ["UBND-VP", "QĐ-UBND", "SNV-TCBC", "STC-NS", "STTTT-BCVT", "TB-UBND", "KH-UBND",
             "BC-SGDĐT", "CV-VP"]
DOCNUM_MAX = 2000
HOT_DOCS = ["1234/UBND-VP", "45/QĐ-UBND"] + [f"{n}/{ORG_CODES[n % len(ORG_CODES)]}"
                                             for n in range(300, 348)]
# Officials the field queries name (vinhnq, "Nguyễn Thị"); the rest are drawn from the lists.
FIXED_PEOPLE = ["Nguyễn Quang Vinh", "Trần Thị Thu Hương", "Nguyễn Thị Lan", "Lê Văn Đông"]

# Vietnamese sentences of official correspondence. "đề"/"nghị" and "đồng"/"thời" also occur apart
# (vấn đề, hội nghị, nghị định, hội đồng, thời gian), so two-word and phrase hit counts differ.
VI_OPEN = [
    "Kính gửi: {org}.",
    "Thực hiện {doc} của {org} về việc {topic},",
    "Căn cứ Nghị định số {n}/2020/NĐ-CP của Chính phủ về công tác văn thư;",
    "Theo đề xuất của {org} tại Tờ trình số {n}/TTr-{code2},",
]
VI_BODY = [
    "{org} đề nghị các cơ quan, đơn vị khẩn trương triển khai thực hiện {topic}.",
    "Các đơn vị được giao nhiệm vụ báo cáo kết quả trước ngày {d}/{m}/2026.",
    "Đồng thời, {org} đề nghị rà soát hồ sơ, tài liệu liên quan và gửi về Văn phòng.",
    "Hội đồng thẩm định đã họp và thống nhất nội dung về {topic}.",
    "Vấn đề {topic} sẽ được đưa ra thảo luận tại hội nghị giao ban tháng {m}.",
    "Thời gian tổ chức hội nghị: {d}/{m}/2026; địa điểm: hội trường tầng {n3}.",
    "Nghị định mới quy định rõ trách nhiệm của người đứng đầu cơ quan trong {topic}.",
    "Kinh phí thực hiện được bố trí từ nguồn ngân sách nhà nước năm 2026.",
    "Sở Tài chính chủ trì, phối hợp với các sở, ngành liên quan tổng hợp dự toán.",
    "Chủ đề của đợt thi đua là đẩy mạnh chuyển đổi số trong cơ quan nhà nước.",
    "Văn phòng Ủy ban nhân dân tỉnh thông báo ý kiến kết luận của đồng chí Chủ tịch.",
    "Đồng chí Phó Giám đốc Sở trực tiếp chỉ đạo, đôn đốc việc thực hiện.",
    "Trường hợp có khó khăn, vướng mắc, đề nghị phản ánh kịp thời về {org} để được hướng dẫn.",
    "Công văn số {doc} đã được chuyển đến các phòng chuyên môn để xử lý.",
    "Thủ trưởng các đơn vị chịu trách nhiệm trước Ủy ban nhân dân tỉnh về tiến độ {topic}.",
    "Hồ sơ gồm: tờ trình, dự thảo quyết định, báo cáo thẩm định và các văn bản liên quan.",
    "Giao Sở Thông tin và Truyền thông hướng dẫn kỹ thuật, bảo đảm an toàn thông tin.",
    "Công tác phòng chống thiên tai, thủy lợi được triển khai đồng bộ trên địa bàn.",
    "Ban chỉ đạo đánh giá cao sự phối hợp của các địa phương trong thời gian qua.",
    "Kế hoạch này thay thế Kế hoạch số {doc} và có hiệu lực kể từ ngày ký.",
]
VI_CLOSE = ["Trân trọng./.", "Nơi nhận: như trên; lưu VT.", "Trân trọng cảm ơn./."]
TOPICS = ["chuyển đổi số", "cải cách hành chính", "kế hoạch phát triển kinh tế - xã hội",
          "quản lý ngân sách", "phòng chống thiên tai", "xây dựng nông thôn mới",
          "đào tạo cán bộ, công chức", "thu hồi đất và giải phóng mặt bằng",
          "bảo đảm an toàn thông tin mạng", "sắp xếp đơn vị hành chính cấp xã",
          "thủy lợi và nước sạch nông thôn", "công tác thi đua, khen thưởng"]
ORGS = ["Ủy ban nhân dân tỉnh", "Sở Nội vụ", "Sở Tài chính", "Sở Thông tin và Truyền thông",
        "Văn phòng UBND tỉnh", "Sở Giáo dục và Đào tạo", "Ủy ban nhân dân huyện Đức Thọ",
        "Ủy ban nhân dân xã Thạch Đài", "Sở Nông nghiệp và Phát triển nông thôn"]
VI_SUBJECTS = ["V/v triển khai {topic}", "Công văn số {doc} về {topic}",
               "Đề nghị báo cáo kết quả {topic}", "Thông báo kết luận hội nghị giao ban tháng {m}",
               "Kế hoạch {topic} năm 2026", "Quyết định số {doc}", "Giấy mời họp về {topic}",
               "Re: Góp ý dự thảo {topic}", "Fwd: Công văn số {doc}"]
EN_WORDS = ("the province department report budget meeting schedule draft review approval "
            "request deadline attachment revision office quarterly regulation regulations "
            "regulatory committee implementation digital transformation please confirm "
            "attendance minutes project proposal funding plan council agenda document").split()
EN_SENTENCES = [
    "Please find attached the quarterly budget report for the department.",
    "The committee will review the draft regulation before the deadline.",
    "We request your confirmation of attendance at the council meeting.",
    "The implementation plan for digital transformation is under review.",
    "Regulatory changes require approval from the provincial council.",
    "Funding for the project was approved in the last meeting.",
    "Kindly refer to document {doc} for the official decision.",
]
EN_SUBJECTS = ["Quarterly budget report", "Meeting minutes {d}/{m}", "Draft regulation review",
               "Re: Project proposal", "Digital transformation plan", "Document {doc}"]
HTML_HEAD = ('<html><head><meta charset="utf-8"><style>p{margin:0}</style></head>'
             '<body><div class="msg">')
PDF_NAMES = ["Cong_van_{n}.pdf", "Quyet_dinh_{n}.pdf", "Bao_cao_{n}.pdf", "Ke_hoach_{n}.pdf"]


# --- folding (the ground truth's semantics) ---------------------------------------------------

def _strip_table():
    table = {}
    for cp in range(0xC0, 0x1F00):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if base != ch and base.isascii() and base:
            table[cp] = base
    table[ord("đ")] = "d"
    table[ord("Đ")] = "D"
    return table


STRIP = _strip_table()


def fold_case(s):
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", s).lower())


def fold_marks(s):
    """Case-folded and without Vietnamese marks (input already case-folded NFC)."""
    s = s.translate(STRIP)
    if not s.isascii():  # marks outside the table (combining ones): drop them
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    return s


def has_marks(s):
    return fold_marks(fold_case(s)) != fold_case(s)


# --- generation -------------------------------------------------------------------------------

def officials(rng):
    people, seen = [], {}
    while len(people) < 60:
        if len(people) < len(FIXED_PEOPLE):
            name = FIXED_PEOPLE[len(people)]
        else:
            name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        words = name.split()
        local = fold_marks(fold_case(words[-1] + "".join(w[0] for w in words[:-1])))
        n = seen.get(local, 0) + 1
        seen[local] = n
        if n > 1:
            local += str(n)
        people.append((name, f"{local}@{rng.choice(DOMAINS)}"))
    return people


def fill(rng, template):
    return template.format(
        org=rng.choice(ORGS), topic=rng.choice(TOPICS), doc=docnum(rng), n=rng.randint(1, 199),
        n3=rng.randint(1, 9), d=rng.randint(1, 28), m=rng.randint(1, 12), code2=rng.choice(ORG_CODES))


def docnum(rng):
    # Threads keep citing a few documents: 30% of the citations go to 50 "hot" numbers.
    if rng.random() < 0.3:
        return HOT_DOCS[rng.randrange(len(HOT_DOCS))]
    return f"{rng.randint(1, DOCNUM_MAX)}/{rng.choice(ORG_CODES)}"


def vi_paragraphs(rng, target):
    # Each message draws from its own few sentences, so that words differ in frequency.
    pool = rng.sample(VI_BODY, rng.randint(3, 8))
    paras = [fill(rng, rng.choice(VI_OPEN))]
    size = len(paras[0])
    while size < target:
        para = " ".join(fill(rng, rng.choice(pool)) for _ in range(rng.randint(2, 5)))
        paras.append(para)
        size += len(para.encode())
    paras.append(rng.choice(VI_CLOSE))
    return paras


def en_paragraphs(rng, target):
    paras, size = [], 0
    while size < target:
        sent = [fill(rng, rng.choice(EN_SENTENCES)) for _ in range(rng.randint(2, 4))]
        sent.append(" ".join(rng.choice(EN_WORDS) for _ in range(rng.randint(8, 16))).capitalize() + ".")
        para = " ".join(sent)
        paras.append(para)
        size += len(para) + 1
    paras.append("Best regards.")
    return paras


def wrap(text, width=76):
    out, line = [], ""
    for w in text.split(" "):
        if line and len(line) + 1 + len(w) > width:
            out.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    out.append(line)
    return "\n".join(out)


def encode_part(text, cte):
    raw = text.replace("\n", "\r\n").encode()
    if cte == "base64":
        b = base64.encodebytes(text.encode()).decode().replace("\n", "\r\n")
        return b
    if cte == "quoted-printable":
        return quopri.encodestring(raw).decode()
    return raw.decode()


def part(ctype, text, cte, extra=""):
    return (f"Content-Type: {ctype}; charset=utf-8\r\nContent-Transfer-Encoding: {cte}\r\n{extra}\r\n"
            + encode_part(text, cte) + "\r\n")


def html_of(paras):
    return HTML_HEAD + "".join(f"<p>{p}</p>\n" for p in paras) + "</div></body></html>"


def message(rng, i, people, to_people):
    sender = rng.choice(people)
    rcpt = rng.choice(to_people)
    english = rng.random() < 0.25
    target = rng.randint(1500, 5000)
    if english:
        subject = fill(rng, rng.choice(EN_SUBJECTS))
        paras = en_paragraphs(rng, target)
    else:
        subject = fill(rng, rng.choice(VI_SUBJECTS))
        paras = vi_paragraphs(rng, target)
        if rng.random() < 0.10:  # typed without diacritics
            paras = [fold_marks(p) for p in paras]
            subject = fold_marks(subject)
    greeting = "Dear colleagues," if english else f"Kính gửi anh/chị {rcpt[0].split()[-1]},"
    paras.insert(0, greeting)
    paras.append(sender[0])
    plain = "\n\n".join(wrap(p) for p in paras)
    cte = rng.choices(["8bit", "quoted-printable", "base64"], [60, 20, 20])[0]
    shape = rng.random()
    texts = []  # the decoded text parts, as the truth sees them
    boundary = f"=_bench_{i}_{rng.randrange(1 << 30):x}"
    if shape < 0.15:  # HTML alternative
        ctype = f'multipart/alternative; boundary="{boundary}"'
        html = html_of(paras)
        body = (f"--{boundary}\r\n" + part("text/plain", plain, cte) + f"--{boundary}\r\n"
                + part("text/html", html, "quoted-printable") + f"--{boundary}--\r\n")
        texts.append(plain)  # of an alternative, the text/plain part is the one searched
        ctype_line, mime = ctype, True
    elif shape < 0.20:  # HTML only
        html = html_of(paras)
        body = encode_part(html, "quoted-printable")
        texts.append("\n".join(paras))
        ctype_line, mime = "text/html; charset=utf-8", "quoted-printable"
    elif shape < 0.35:  # attachment
        n = rng.randint(1, 999)
        ctype = f'multipart/mixed; boundary="{boundary}"'
        body = f"--{boundary}\r\n" + part("text/plain", plain, cte)
        texts.append(plain)
        if rng.random() < 0.5:
            name = rng.choice(PDF_NAMES).format(n=n)
            blob = bytes(rng.randrange(256) for _ in range(rng.randint(600, 2400)))
            pdf = b"%PDF-1.4\n" + blob + b"\n%%EOF\n"
            body += (f"--{boundary}\r\nContent-Type: application/pdf; name=\"{name}\"\r\n"
                     f"Content-Disposition: attachment; filename=\"{name}\"\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n"
                     + base64.encodebytes(pdf).decode().replace("\n", "\r\n"))
        else:
            name = f"Ghi_chu_{n}.txt"
            note = wrap(" ".join(fill(rng, rng.choice(VI_BODY)) for _ in range(3)))
            body += f"--{boundary}\r\n" + part("text/plain", note, "base64",
                         f'Content-Disposition: attachment; filename="{name}"\r\n')
            texts.append(note)
        body += f"--{boundary}--\r\n"
        texts.append(name)  # attachment file names are searched as text too
        ctype_line, mime = ctype, True
    else:
        body = encode_part(plain, cte)
        texts.append(plain)
        ctype_line, mime = "text/plain; charset=utf-8", cte
    subj_hdr = subject if subject.isascii() else Header(subject, "utf-8").encode()
    from_hdr = f"{Header(sender[0], 'utf-8').encode()} <{sender[1]}>"
    to_hdr = f"{Header(rcpt[0], 'utf-8').encode()} <{rcpt[1]}>"
    day = 1 + (i * 7) // 10000 % 28
    headers = [
        f"Return-Path: <{sender[1]}>",
        f"From: {from_hdr}",
        f"To: {to_hdr}",
        f"Subject: {subj_hdr}",
        f"Date: {['Mon', 'Tue', 'Wed', 'Thu', 'Fri'][i % 5]}, {day:02d} Nov 2026 "
        f"{8 + i % 10:02d}:{i % 60:02d}:{(i * 7) % 60:02d} +0700",
        f"Message-ID: <corpus-{i}@bench.search>",
        "MIME-Version: 1.0",
        f"Content-Type: {ctype_line}",
    ]
    if mime is not True:
        headers.append(f"Content-Transfer-Encoding: {mime}")
    raw = ("\r\n".join(headers) + "\r\n\r\n" + body).encode()
    header_text = "\n".join([f"Return-Path: <{sender[1]}>", f"From: {sender[0]} <{sender[1]}>",
                             f"To: {rcpt[0]} <{rcpt[1]}>", f"Subject: {subject}"])
    fields = {"subject": subject, "from": f"{sender[0]} {sender[1]}",
              "body": "\n".join(texts), "header": header_text}
    return raw, fields


def strip_html(text):
    return re.sub(r"<[^>]*>", "", text)


class Truth:
    """Matches the benchmark queries against each message's texts as it is generated."""

    def __init__(self, qs):
        self.qs = qs
        self.hits = [[] for _ in qs]

    def add(self, i, fields):
        cased = {k: fold_case(v) for k, v in fields.items()}
        plain = {}

        def contains(field, needle):
            if field == "text":
                return contains("header", needle) or contains("body", needle)
            n = fold_case(needle)
            if n in cased[field]:
                return True
            if has_marks(needle):
                return False
            if field not in plain:
                plain[field] = fold_marks(cased[field])
            return n in plain[field]

        for qi, q in enumerate(self.qs):
            if all(contains(field, needle) for field, needle in q["keys"]):
                self.hits[qi].append(i)


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    rng = random.Random(SEED)
    people = officials(rng)
    to_people = people[:12]
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    qs = queries.QUERIES
    truth = Truth(qs)
    total = 0
    for i in range(1, count + 1):
        raw, fields = message(rng, i, people, to_people)
        total += len(raw)
        # Names sort in corpus order: importers that read a Maildir in name order keep it.
        with open(os.path.join(out, "cur", f"{1800000000 + i}.M{i:07d}P1.bench:2,S"), "wb") as f:
            f.write(raw)
        truth.add(i, fields)
    result = {"count": count, "bytes": total, "seed": SEED,
              "queries": [{"kind": q["kind"], "name": q["name"], "hits": h}
                          for q, h in zip(qs, truth.hits)]}
    with open(out.rstrip("/") + ".truth.json", "w") as f:
        json.dump(result, f)
    print(f"corpus: {count} messages, {total / count / 1024:.1f} KB mean, {total / 1e6:.0f} MB in {out}")


if __name__ == "__main__":
    main()
