// Drives govmail's JMAP mail methods with the npm library jmap-jam (argv: sessionUrl
// bearerToken bobAddress): Mailbox/get, Email/query + Email/get by result reference, Email/set
// (a keyword), upload + Email/import, Identity/get, a draft sent with EmailSubmission/set.
// Prints what it saw as JSON; used by jmap_jam_itest.py.
const { default: JamClient } = await import(
  process.env.GOVMAIL_NODE_MODULES + "/jmap-jam/dist/index.js");

const [sessionUrl, bearerToken, bob] = process.argv.slice(2);
const jam = new JamClient({ sessionUrl, bearerToken });
const out = {};
try {
const accountId = await jam.getPrimaryAccount();
out.accountId = accountId;

const [boxes] = await jam.api.Mailbox.get({ accountId });
const byRole = Object.fromEntries(boxes.list.filter((m) => m.role).map((m) => [m.role, m]));
out.roles = Object.keys(byRole).sort();
const inbox = byRole.inbox;
out.inboxUnread = inbox?.unreadEmails;

const [page] = await jam.requestMany((t) => {
  const query = t.Email.query({ accountId, filter: { inMailbox: inbox.id },
                                sort: [{ property: "receivedAt", isAscending: false }],
                                limit: 50 });
  const emails = t.Email.get({ accountId, ids: query.$ref("/ids"),
                               properties: ["subject", "from", "keywords", "mailboxIds",
                                            "blobId", "threadId"] });
  return { query, emails };
});
out.queryIds = page.query.ids;
out.subjects = page.emails.list.map((e) => e.subject);
const first = page.emails.list[0];

const [flagged] = await jam.api.Email.set({ accountId,
                                            update: { [first.id]: { "keywords/$flagged": true } } });
out.flagUpdated = Object.keys(flagged.updated ?? {});

const raw = "From: friend@example.com\r\nTo: alice@example.gov.vn\r\n" +
            "Subject: imported by jmap-jam\r\nMessage-ID: <jam-import@example.com>\r\n\r\n" +
            "Xin chào từ jmap-jam.\r\n";
const up = await jam.uploadBlob(accountId, new Blob([raw], { type: "message/rfc822" }));
const [imported] = await jam.api.Email.import({ accountId, emails: {
  k1: { blobId: up.blobId, mailboxIds: { [inbox.id]: true }, keywords: { $seen: true } } } });
out.importedId = imported.created?.k1?.id ?? null;
out.importNotCreated = imported.notCreated ?? null;
if (out.importedId) {
  const [importedGet] = await jam.api.Email.get({ accountId, ids: [out.importedId],
                                                  properties: ["subject", "keywords"] });
  out.importedSubject = importedGet.list[0]?.subject;
}

const [identities] = await jam.api.Identity.get({ accountId });
const identity = identities.list[0];
out.identityEmail = identity?.email;
const drafts = byRole.drafts ?? inbox;
const [sent, meta] = await jam.requestMany((t) => {
  const draft = t.Email.set({ accountId, create: { d1: {
    mailboxIds: { [drafts.id]: true }, keywords: { $draft: true, $seen: true },
    from: [{ email: identity.email }], to: [{ email: bob }],
    subject: "gửi bằng jmap-jam", bodyValues: { b: { value: "Nội dung thư." } },
    textBody: [{ partId: "b", type: "text/plain" }] } } });
  const submission = t.EmailSubmission.set({ accountId, create: { s1: {
    identityId: identity.id, emailId: "#d1" } } });
  return { draft, submission };
});
out.draftCreated = Object.keys(sent.draft.created ?? {});
out.submissionCreated = Object.keys(sent.submission.created ?? {});
out.submissionNotCreated = sent.submission.notCreated ?? null;
const [last] = await jam.api.Email.get({ accountId, ids: [], properties: ["id"] });
out.finalEmailState = last.state;
const [lastBoxes] = await jam.api.Mailbox.get({ accountId, ids: [], properties: ["id"] });
out.finalMailboxState = lastBoxes.state;
} catch (e) {
  out.error = e instanceof Error ? String(e) + " " + JSON.stringify(e.cause ?? null) : e;
}
console.log(JSON.stringify(out));
