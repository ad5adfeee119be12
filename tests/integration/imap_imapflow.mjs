// imapflow against govmail (driven by imap_clients_itest.py): log in, open INBOX with QRESYNC,
// IDLE, report the EXISTS that an APPEND from Python causes, then fetch that message's source.
// argv: port user password. Prints JSON lines; reads "appended\n" on stdin to know the sender
// is done (only used to stop waiting on failure).
import { createRequire } from 'node:module';
import path from 'node:path';

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
say({ uid: msg.uid, modseq: String(msg.modseq ?? ''), source: msg.source.toString('base64') });
await client.logout();
clearTimeout(timer);
