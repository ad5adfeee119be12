#!/usr/bin/env python3
"""Writes a deterministic mbox of N messages (default 2,000) for bench/imap: plain-text memos,
replies with quoted text, HTML alternatives and a few base64 attachments, sized like an office's
mail (most 2-8 KB, some 10-60 KB, a few 100-300 KB). Same seed, same bytes.
Usage: gen_mbox.py OUT.mbox [N]"""
import base64
import random
import sys

OUT = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
rng = random.Random(20261121)
WORDS = ("công văn quyết định thông báo kế hoạch báo cáo tổng hợp ngân sách dự án hồ sơ "
         "meeting report budget draft minutes review schedule province department circular "
         "approval request deadline attachment revision office quarterly").split()


def sentence():
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."


def paragraph(min_bytes):
    lines, line = [], ""
    while sum(len(x) + 1 for x in lines) < min_bytes:
        for w in sentence().split():
            if len(line) + len(w) + 1 > 72:
                lines.append(line)
                line = ""
            line = f"{line} {w}" if line else w
    lines.append(line)
    return "\n".join(lines)


def size_class():
    r = rng.random()
    return rng.randint(1500, 8000) if r < 0.75 else rng.randint(10000, 60000) if r < 0.97 \
        else rng.randint(100000, 300000)


def message(i):
    frm = f"user{rng.randint(1, 200)}@sender.test"
    to = f"official{rng.randint(1, 100)}@bench.test"
    subject = ("Re: " if i % 3 == 1 else "") + " ".join(rng.choice(WORDS) for _ in range(5))
    day = 1 + i % 28
    head = (f"From: Sender {i} <{frm}>\nTo: <{to}>\nSubject: {subject}\n"
            f"Date: Mon, {day:02d} Nov 2026 {i % 24:02d}:{i % 60:02d}:00 +0700\n"
            f"Message-ID: <bench.{i}@sender.test>\nMIME-Version: 1.0\n")
    if i % 3 == 1:
        head += f"In-Reply-To: <bench.{i - 1}@sender.test>\n"
    size = size_class()
    text = paragraph(min(size, 6000))
    if size <= 8000 and i % 4:
        return head + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" \
            + paragraph(size) + "\n"
    b = f"b{i}x"
    body = (f"Content-Type: multipart/mixed; boundary=\"{b}\"\n\n--{b}\n"
            f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{text}\n")
    if size > 8000:
        blob = base64.encodebytes(rng.randbytes(max(1000, (size - len(text)) * 3 // 4))).decode()
        body += (f"--{b}\nContent-Type: application/pdf; name=\"doc{i}.pdf\"\n"
                 f"Content-Disposition: attachment; filename=\"doc{i}.pdf\"\n"
                 f"Content-Transfer-Encoding: base64\n\n{blob}")
    else:
        body += (f"--{b}\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>"
                 + text.replace("\n", " ") + "</p></body></html>\n")
    return head + body + f"--{b}--\n"


with open(OUT, "w", encoding="utf-8") as f:
    for i in range(N):
        msg = message(i)
        # mboxrd quoting of body lines that look like separators.
        msg = "\n".join(">" + line if line.lstrip(">").startswith("From ") else line
                        for line in msg.split("\n"))
        f.write(f"From bench@sender.test Mon Nov  2 10:00:00 2026\n{msg}\n")
