// Drives govmail's JMAP core with the npm library jmap-jam (argv: sessionUrl bearerToken
// accountId) and prints what it saw as JSON; used by jmap_core_itest.py.
const { default: JamClient } = await import(
  process.env.GOVMAIL_NODE_MODULES + "/jmap-jam/dist/index.js");

const [sessionUrl, bearerToken, accountId] = process.argv.slice(2);
const jam = new JamClient({ sessionUrl, bearerToken });
const out = {};
const session = await jam.session;
out.username = session.username;
out.coreCapability = session.capabilities["urn:ietf:params:jmap:core"];
const [echo] = await jam.api.Core.echo({ hello: "xin chào", n: 3 });
out.echo = echo;
const [many] = await jam.requestMany((t) => {
  const first = t.Core.echo({ list: [{ id: "x" }, { id: "y" }] });
  const second = t.Core.echo({ ids: first.$ref("/list/*/id") });
  return { first, second };
});
out.many = many;
const bytes = new TextEncoder().encode("tệp đính kèm của jmap-jam");
const uploaded = await jam.uploadBlob(accountId, new Blob([bytes], { type: "text/plain" }));
out.uploaded = uploaded;
const res = await jam.downloadBlob({ accountId, blobId: uploaded.blobId, mimeType: "text/plain",
                                     fileName: "tệp.txt" });
out.downloaded = await res.text();
out.disposition = res.headers.get("content-disposition");
try {
  await jam.api.Core.echo({ accountId: "a999999" });
  out.foreign = "accepted";
} catch (e) {
  out.foreign = e.type;
}
console.log(JSON.stringify(out));
