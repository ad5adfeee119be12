#!/usr/bin/python3
# Regenerates the DKIM fixtures of tests/smtp/dkim_verify_test.cpp with an independent signer,
# Debian's dkimpy (python3-dkim 1.1.x, python3-nacl for Ed25519). Fresh keys every run: the
# private keys are thrown away, the public ones go to keys.zone (unbound local-data lines, RSA
# split into 255-byte character-strings). Each message is checked with dkimpy's own verifier.
#   cd tests/data/dkim && /usr/bin/python3 generate.py
import base64
import os
import subprocess
import tempfile

import dkim
import nacl.signing

DOMAIN = b"dkimpy.example"
MESSAGE = (
    b"Received: from relay.example (relay.example [192.0.2.7])\r\n"
    b"\tby mx.example with ESMTPS; Mon, 5 Jan 2026 09:00:00 +0700\r\n"
    b"From: =?UTF-8?B?Tmd1eeG7hW4gVsSDbiBB?= <a@dkimpy.example>\r\n"
    b"To:  b@receiver.example ,\r\n   c@receiver.example\t\r\n"
    b"Subject: C\xc3\xb4ng v\xc4\x83n  s\xe1\xbb\x91   12\r\n"
    b"Date: Mon, 5 Jan 2026 09:00:00 +0700\r\n"
    b"Message-ID: <fixture@dkimpy.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"K\xc3\xadnh g\xe1\xbb\xadi   anh ch\xe1\xbb\x8b,  \t\r\n"
    b"\r\n"
    b"  indented line with trailing space \r\n"
    b"last line\r\n"
    b"\r\n"
    b"\r\n"
)


def txt_line(name, record):
    parts = [record[i:i + 255] for i in range(0, len(record), 255)]
    return name + ". TXT " + " ".join('"' + p + '"' for p in parts)


def main():
    tmp = tempfile.mkdtemp()
    pem = os.path.join(tmp, "rsa.pem")
    subprocess.run(["openssl", "genrsa", "-out", pem, "2048"], check=True, capture_output=True)
    rsa_private = open(pem, "rb").read()
    der = subprocess.run(["openssl", "rsa", "-in", pem, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    ed = nacl.signing.SigningKey.generate()
    ed_private = base64.b64encode(bytes(ed))
    ed_public = base64.b64encode(bytes(ed.verify_key)).decode()
    zone = [
        txt_line("rsa._domainkey.dkimpy.example",
                 "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()),
        txt_line("ed._domainkey.dkimpy.example", "v=DKIM1; k=ed25519; p=" + ed_public),
    ]
    cases = [
        ("rsa-simple-simple", b"rsa", rsa_private, b"rsa-sha256", (b"simple", b"simple"), False),
        ("rsa-relaxed-relaxed", b"rsa", rsa_private, b"rsa-sha256", (b"relaxed", b"relaxed"), False),
        ("rsa-relaxed-simple", b"rsa", rsa_private, b"rsa-sha256", (b"relaxed", b"simple"), False),
        ("rsa-relaxed-length", b"rsa", rsa_private, b"rsa-sha256", (b"relaxed", b"relaxed"), True),
        ("ed25519-relaxed-relaxed", b"ed", ed_private, b"ed25519-sha256", (b"relaxed", b"relaxed"),
         False),
        ("ed25519-simple-simple", b"ed", ed_private, b"ed25519-sha256", (b"simple", b"simple"), False),
    ]
    keys = {}
    for line in zone:
        name, _, rest = line.partition(". TXT ")
        keys[name.encode() + b"."] = "".join(p.strip('"') for p in rest.split('" "')).encode()

    def dnsfunc(name, timeout=5):
        return keys.get(name if name.endswith(b".") else name + b".")

    for name, sel, key, alg, canon, length in cases:
        sig = dkim.sign(MESSAGE, sel, DOMAIN, key, canonicalize=canon, length=length,
                        signature_algorithm=alg)
        signed = sig + MESSAGE
        assert dkim.verify(signed, dnsfunc=dnsfunc), name
        with open(name + ".eml", "wb") as f:
            f.write(signed)
    with open("keys.zone", "w") as f:
        f.write("\n".join(zone) + "\n")


main()
