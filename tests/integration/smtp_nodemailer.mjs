// Sends with nodemailer (argv: port secure user password to rawfile) and prints the server's
// answer as JSON; used by smtp_nodemailer_itest.py.
import fs from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.GOVMAIL_NODE_MODULES + "/");
const nodemailer = require("nodemailer");

const [port, secure, user, pass, to, rawFile] = process.argv.slice(2);
const transport = nodemailer.createTransport({
  host: "127.0.0.1",
  port: Number(port),
  secure: secure === "true",
  requireTLS: secure !== "true",
  auth: { user, pass },
  tls: { rejectUnauthorized: false },
});
const results = [];
// A raw message: the bytes reach the server as given, so the store copy can be compared exactly.
results.push(await transport.sendMail({
  envelope: { from: user, to: [to] },
  raw: fs.readFileSync(rawFile),
}));
// A message nodemailer composes itself (8-bit UTF-8, quoted-printable, HTML alternative).
results.push(await transport.sendMail({
  from: `"Nguyễn Văn An" <${user}>`,
  to,
  subject: "Giấy mời họp giao ban",
  text: "Kính gửi đồng chí, trân trọng kính mời.",
  html: "<p>Kính gửi đồng chí, <b>trân trọng</b> kính mời.</p>",
}));
let refused = null;
try {
  await transport.sendMail({ from: to, to, subject: "spoof", text: "x" });
} catch (e) {
  refused = e.responseCode ?? String(e);
}
console.log(JSON.stringify({ accepted: results.map((r) => r.response), refused }));
