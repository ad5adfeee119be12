#!/usr/bin/env python3
"""JMAP core request cost: Core/echo through the real govmail on a fresh database, bearer token
(a session lookup in PostgreSQL per request) and HTTP Basic (the credentials cache), over 1 and 8
keep-alive connections; prints requests/s and p50/p99 latency. The client is Python on the same
machine, so the figures include its own cost.
  GOVMAIL_TEST_DATABASE_URL=... GOVMAIL_BIN=build/govmail /usr/bin/python3 bench/jmap/core_echo.py"""
import base64
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
from support import FreshDatabase
from smtp_support import DOMAIN, Server, add_account

def run(port, headers, threads, each):
    lat = []; lock = threading.Lock()
    body = json.dumps({"using": ["urn:ietf:params:jmap:core"],
                       "methodCalls": [["Core/echo", {"hello": True}, "c1"]]})
    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(each):
            t = time.perf_counter()
            conn.request("POST", "/jmap/api", body, headers)
            r = conn.getresponse(); r.read()
            assert r.status == 200, r.status
            mine.append(time.perf_counter() - t)
        with lock: lat.extend(mine)
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in ts: t.start()
    for t in ts: t.join()
    el = time.perf_counter() - t0
    lat.sort()
    return len(lat) / el, lat[len(lat)//2] * 1000, lat[int(len(lat)*0.99)] * 1000

with FreshDatabase() as db:
    s = Server(db.url, allow_plaintext=True)
    s.edit_config(lambda t: t + "\n[http]\nrate_per_network = 0\n[jmap]\nmax_concurrent_requests = 100\n")
    s.admin("domain", "add", DOMAIN)
    add_account(s, "alice", "correct horse battery")
    s.start()
    try:
        c = http.client.HTTPConnection("127.0.0.1", s.http)
        c.request("POST", "/jmap/login", json.dumps({"username": f"alice@{DOMAIN}", "password": "correct horse battery"}))
        tok = json.loads(c.getresponse().read())["accessToken"]
        bearer = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
        basic = {"Authorization": "Basic " + base64.b64encode(f"alice@{DOMAIN}:correct horse battery".encode()).decode(),
                 "Content-Type": "application/json"}
        for name, h in (("bearer", bearer), ("basic", basic)):
            for threads in (1, 8):
                rps, p50, p99 = run(s.http, h, threads, 2000 // threads)
                print(f"Core/echo {name:6} {threads} connections: {rps:7.0f} req/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms", flush=True)
    finally:
        s.stop(); s.cleanup()
