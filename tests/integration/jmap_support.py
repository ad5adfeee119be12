"""A JMAP client over raw HTTP (http.client, HTTP Basic) for the jmap_*_itest.py scripts."""
import base64
import http.client
import json

USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail",
         "urn:ietf:params:jmap:submission"]


class JmapClient:
    def __init__(self, port, user, password, account):
        self.port, self.account = port, account
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def batch(self, calls):
        """The methodResponses of one request; calls get this account's accountId."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        for call in calls:
            call[1].setdefault("accountId", self.account)
        conn.request("POST", "/jmap/api", json.dumps({"using": USING, "methodCalls": calls}),
                     {"Authorization": self.auth, "Content-Type": "application/json"})
        body = json.loads(conn.getresponse().read())
        conn.close()
        return body["methodResponses"]

    def one(self, name, args):
        """(response name, arguments) of one method call."""
        [[kind, out, _]] = self.batch([[name, args, "x"]])
        return kind, out

    def roles(self):
        [[_, out, _]] = self.batch([["Mailbox/get", {"ids": None}, "m"]])
        return {m["role"]: m["id"] for m in out["list"] if m.get("role")}
