// imapflow against govmail (driven by imap_clients_itest.py): log in, open INBOX with QRESYNC,
// IDLE, report the EXISTS that an APPEND from Python causes, fetch that message's source, then
// report a flag change and an expunge made from Python, then reopen INBOX with QRESYNC after
// changes made while it was closed.
// argv: port user password. Prints one JSON line per step; Python acts after reading each.
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(path.join(process.env.GOVMAIL_NODE_MODULES, 'x.js'));
const { ImapFlow } = require('imapflow');

const [port, user, pass] = process.argv.slice(2);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const client = new ImapFlow({
  host: '127.0.0.1',
  port: Number(port),
  secure: false,
  doSTARTTLS: false,
  auth: { user, pass },
  qresync: true,
  logger: false,
});

const timer = setTimeout(() => {
  say({ error: 'timeout' });
  process.exit(2);
}, 30000);

await client.connect();
const box = await client.mailboxOpen('INBOX');
let resolveExists;
const existsSeen = new Promise((r) => (resolveExists = r));
client.on('exists', (d) => resolveExists(d));
say({
  ready: true,
  exists: box.exists,
  qresync: client.enabled.has('QRESYNC'),
  condstore: client.enabled.has('CONDSTORE'),
  highestModseq: String(box.highestModseq ?? ''),
  idle: client.capabilities.has('IDLE'),
});
// imapflow IDLEs on its own when no command runs; idle() makes it explicit.
client.idle().catch(() => {});
const d = await existsSeen;
say({ exists: d.count, prevCount: d.prevCount });
const msg = await client.fetchOne(String(d.count), { source: true, uid: true, modseq: true });
// Python changes a flag, then expunges UID 1: with QRESYNC that must come as FETCH (with MODSEQ)
// and VANISHED (imapflow reports vanished: true).
const next = (event) => new Promise((r) => client.once(event, r));
let flagsSeen = next('flags');
say({ uid: msg.uid, modseq: String(msg.modseq ?? ''), source: msg.source.toString('base64') });
client.idle().catch(() => {});
const f = await flagsSeen;
const expungeSeen = next('expunge');
say({ flags: [...f.flags].sort(), uid: f.uid, modseq: String(f.modseq ?? '') });
client.idle().catch(() => {});
const e = await expungeSeen;
say({ expunged: e.uid ?? null, seq: e.seq ?? null, vanished: e.vanished });

// QRESYNC resynchronisation: close INBOX, let Python change it, reopen with
// SELECT INBOX (QRESYNC (uidvalidity modseq)) and report what the server said had changed.
const { uidValidity, highestModseq } = client.mailbox;
await client.mailboxClose();
const lines = readline.createInterface({ input: process.stdin });
const go = new Promise((r) => lines.once('line', r));
say({ closed: true, modseq: String(highestModseq) });
await go;
const vanished = [];
const changed = [];
client.on('expunge', (x) => vanished.push({ uid: x.uid, earlier: x.earlier }));
client.on('flags', (x) => changed.push({ uid: x.uid, flags: [...x.flags].sort() }));
const again = await client.mailboxOpen('INBOX', { changedSince: highestModseq, uidValidity });
say({ exists: again.exists, vanished, changed });
lines.close();
await client.logout();
clearTimeout(timer);
