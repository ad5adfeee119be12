// The webmail in headless Chromium (playwright-core, /usr/bin/chromium), driven by
// webmail_browser_itest.py. argv[2]: a JSON object {base, user, password, peer, artefacts,
// recorder, steps: [...]}. Prints one JSON line per result: {step, ok, detail}; for things only
// Python does (SMTP delivery), prints {want: ...} and waits for a line on stdin.
// Every step runs only when listed in `steps` (what the backend supports); none is assumed.
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const require = createRequire(path.join(process.env.GOVMAIL_NODE_MODULES, 'x.js'));
const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.argv[2]);
const steps = new Set(cfg.steps);
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const result = (step, ok, detail = '') => say({ step, ok: !!ok, detail: String(detail).slice(0, 800) });
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(want, extra = {}) {
  say({ want, ...extra });
  const { value } = await lines.next();
  return value;
}
const shot = (page, name) => page.screenshot({ path: path.join(cfg.artefacts, `${name}.png`) });

const timer = setTimeout(() => {
  say({ step: 'overall', ok: false, detail: 'timeout after 240 s' });
  process.exit(2);
}, 240_000);

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });

// Runs one step; an exception is that step's failure (with a screenshot), never swallowed.
async function step(name, page, fn) {
  if (!steps.has(name)) return;
  try {
    const r = await fn();
    result(name, r === undefined ? true : r.ok, r?.detail ?? '');
  } catch (e) {
    result(name, false, e.stack || e);
    if (page) {
      await shot(page, `fail-${name}`).catch(() => {});
      await reset(page).catch(() => {});
    }
  }
}

async function listSubjects(page) {
  return page.$$eval('#messages .message .subject', (els) => els.map((e) => e.textContent));
}

// Opens a message from the list and waits for its new rendering (not the one already shown).
async function openBySubject(page, subject) {
  await page.evaluate(() => document.querySelectorAll('.thread-item').forEach((e) => e.setAttribute('data-old', '')));
  await page.locator('#messages .message', { hasText: subject }).first().click();
  await page.waitForSelector('.thread-item.open:not([data-old]) .msg-frame');
}

// After a failed step: dialogs closed, search cleared, back to the inbox, so the next step
// starts from a known place.
async function reset(page) {
  for (const id of ['compose', 'vacation', 'preview']) {
    await page.evaluate((i) => document.getElementById(i)?.close(), id);
  }
  if (await page.isVisible('#clear-search')) await page.click('#clear-search');
  if (await page.isVisible('.mailbox[data-role=inbox]')) await page.click('.mailbox[data-role=inbox]');
  await page.waitForTimeout(500);
}

async function frameText(page) {
  const frame = page.frameLocator('.thread-item.open .msg-frame').first();
  return frame.locator('body').innerText({ timeout: 10_000 });
}

// ---------- first page: size and time on a slow line ----------

async function measure() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 100, // ms added to every request's round trip
    downloadThroughput: (1.5 * 1000 * 1000) / 8,
    uploadThroughput: (0.75 * 1000 * 1000) / 8,
  });
  let bytes = 0;
  let requests = 0;
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
    requests++;
  });
  const figures = {};
  let t0 = Date.now();
  await page.goto(cfg.base);
  await page.waitForSelector('#login-user', { state: 'visible' });
  figures.login_page_ms = Date.now() - t0;
  figures.login_page_bytes = bytes;
  figures.login_page_requests = requests;
  if (steps.has('login')) {
    await page.fill('#login-user', cfg.user);
    await page.fill('#login-pass', cfg.password);
    bytes = 0;
    requests = 0;
    t0 = Date.now();
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#messages .message');
    figures.login_to_list_ms = Date.now() - t0;
    figures.login_to_list_bytes = bytes;
    // A returning user (logged in, files cached): reload until the list shows.
    bytes = 0;
    requests = 0;
    t0 = Date.now();
    await page.reload();
    await page.waitForSelector('#messages .message');
    figures.warm_reload_to_list_ms = Date.now() - t0;
    figures.warm_reload_bytes = bytes;
    figures.warm_reload_requests = requests;
  }
  await context.close();
  return figures;
}

// ---------- the user's day ----------

async function main() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // A script that ran inside a message would post to the top page: recorded here.
  await page.addInitScript(() => {
    window.__messages = [];
    window.addEventListener('message', (ev) => window.__messages.push(String(ev.data)));
  });

  await step('page', page, async () => {
    const res = await page.goto(cfg.base);
    await page.waitForSelector('#login-user', { state: 'visible' });
    await shot(page, '01-login');
    const label = await page.textContent('#login-form button[type=submit]');
    return { ok: res.status() === 200 && label.trim() === 'Đăng nhập', detail: `status ${res.status()}, button "${label}"` };
  });

  await step('login', page, async () => {
    await page.fill('#login-user', cfg.user);
    await page.fill('#login-pass', 'wrong password');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('Sai'));
    const refused = await page.textContent('#login-error');
    await page.fill('#login-pass', cfg.password);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#messages .message', { timeout: 20_000 });
    await shot(page, '02-inbox');
    const inbox = await page.textContent('.mailbox.current .name');
    const unread = await page.textContent('.mailbox.current .count').catch(() => '');
    return { ok: inbox === 'Hộp thư đến' && Number(unread) >= 1, detail: `wrong password: "${refused}"; current "${inbox}", unread "${unread}"` };
  });

  await step('read', page, async () => {
    await openBySubject(page, cfg.plainSubject);
    const text = await frameText(page);
    await page.waitForTimeout(300);
    await shot(page, '03-read');
    const stillUnread = await page.locator('#messages .message.unread', { hasText: cfg.plainSubject }).count();
    return { ok: text.includes(cfg.plainBodyText) && stillUnread === 0, detail: `body ${JSON.stringify(text.slice(0, 120))}, unread rows ${stillUnread}` };
  });

  await step('html-script-blocked', page, async () => {
    await openBySubject(page, cfg.htmlSubject);
    const text = await frameText(page);
    await page.waitForTimeout(1500); // time for a script, an onerror or a refresh to act
    await shot(page, '04-html-message');
    const sandbox = await page.getAttribute('.thread-item.open .msg-frame', 'sandbox');
    const srcdoc = await page.getAttribute('.thread-item.open .msg-frame', 'srcdoc');
    const posted = await page.evaluate(() => window.__messages);
    const title = await page.title();
    const hits = JSON.parse(await ask('recorder-hits'));
    const ok =
      text.includes(cfg.htmlBodyText) &&
      !sandbox.includes('allow-scripts') && !sandbox.includes('allow-same-origin') &&
      !/<script/i.test(srcdoc) && !/onerror/i.test(srcdoc) && !/javascript:/i.test(srcdoc) && !/<iframe/i.test(srcdoc) &&
      posted.length === 0 && title === 'Thư điện tử' && !hits.some((h) => h.includes('script'));
    return { ok, detail: `sandbox "${sandbox}", posted ${JSON.stringify(posted)}, title "${title}", recorder ${JSON.stringify(hits)}` };
  });

  await step('remote-images', page, async () => {
    // Still the HTML message: its remote image was not fetched; after "Hiện ảnh" it is.
    const before = JSON.parse(await ask('recorder-hits'));
    await page.click('[data-action=show-images]');
    await page.waitForTimeout(1500);
    const after = JSON.parse(await ask('recorder-hits'));
    await shot(page, '05-images-shown');
    const img = (h) => h.filter((x) => x.includes('/remote-image.png')).length;
    return { ok: img(before) === 0 && img(after) >= 1, detail: `remote image fetches before ${img(before)}, after ${img(after)}` };
  });

  await step('attachment-preview', page, async () => {
    await openBySubject(page, cfg.htmlSubject);
    const names = await page.$$eval('.thread-item.open .att-name', (els) => els.map((e) => e.textContent));
    await page.locator('.thread-item.open [data-action=preview]').first().click();
    await page.waitForSelector('#preview[open] img');
    const loaded = await page.$eval('#preview img', (img) => img.complete && img.naturalWidth > 0);
    await shot(page, '06-preview');
    await page.click('#preview-close');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('.thread-item.open [data-action=download]').first().click(),
    ]);
    const file = path.join(cfg.artefacts, 'downloaded-' + download.suggestedFilename());
    await download.saveAs(file);
    const { statSync } = await import('node:fs');
    const size = statSync(file).size;
    return { ok: names.includes(cfg.imageName) && loaded && size === cfg.imageSize, detail: `names ${names}, preview loaded ${loaded}, download ${download.suggestedFilename()} ${size} bytes` };
  });

  await step('send', page, async () => {
    await page.keyboard.press('Escape');
    await page.click('#compose-button');
    await page.fill('#c-to', cfg.peer);
    await page.fill('#c-subject', cfg.sendSubject);
    await page.fill('#c-body', cfg.sendBody);
    await shot(page, '07-compose');
    await page.click('#c-send');
    await page.waitForSelector('#compose', { state: 'hidden', timeout: 20_000 });
    const got = await ask('imap-subject', { subject: cfg.sendSubject });
    // Filed by the same request's onSuccessUpdateEmail: in Sent only, no longer a draft.
    const filed = await ask('sent-filed', { subject: cfg.sendSubject });
    return { ok: got === 'found' && filed === 'filed', detail: `IMAP (peer's INBOX): ${got}; sender's copy: ${filed}` };
  });

  // Recipients completed from the directory: an official never written to, typed without
  // diacritics, is offered by name (Directory/query) and chosen with the keyboard.
  await step('directory', page, async () => {
    await page.click('#compose-button');
    await page.locator('#c-to').pressSequentially(cfg.directoryTyped, { delay: 30 });
    const offer = page.locator('.suggest li', { hasText: cfg.directoryAddress });
    await offer.waitFor({ timeout: 10_000 });
    const text = await offer.textContent();
    await shot(page, '07b-directory');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const to = await page.inputValue('#c-to');
    await page.click('#c-discard');
    await page.waitForSelector('#compose', { state: 'hidden' });
    return { ok: text.includes('Nguyễn Quang Vinh') && to.includes(cfg.directoryAddress), detail: `offered "${text}", To: "${to}"` };
  });

  await step('draft-autosave', page, async () => {
    await page.click('#compose-button');
    await page.fill('#c-to', cfg.peer);
    await page.fill('#c-subject', cfg.draftSubject);
    await page.fill('#c-body', 'nháp');
    await page.waitForFunction(() => document.querySelector('#c-status').textContent.includes('nháp'), null, { timeout: 15_000 });
    const status = await page.textContent('#c-status');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#compose', { state: 'hidden' });
    await page.click('.mailbox[data-role=drafts]');
    await page.waitForTimeout(500);
    const subjects = await listSubjects(page);
    await shot(page, '08-drafts');
    await page.click('.mailbox[data-role=inbox]');
    await page.waitForSelector('#messages .message');
    return { ok: subjects.some((s) => s.includes(cfg.draftSubject)), detail: `status "${status}", drafts ${JSON.stringify(subjects)}` };
  });

  await step('reply-attachment', page, async () => {
    await openBySubject(page, cfg.plainSubject);
    await page.keyboard.press('r');
    await page.waitForSelector('#compose[open]');
    const to = await page.inputValue('#c-to');
    const subject = await page.inputValue('#c-subject');
    await page.fill('#c-body', `${cfg.replyBody}\n${await page.inputValue('#c-body')}`);
    await page.setInputFiles('#c-file', { name: cfg.replyFileName, mimeType: 'text/plain', buffer: Buffer.from(cfg.replyFileText) });
    await page.waitForSelector('#c-attachments li');
    await shot(page, '09-reply');
    await page.click('#c-send');
    await page.waitForSelector('#compose', { state: 'hidden', timeout: 20_000 });
    const got = await ask('imap-reply', { subject });
    return { ok: to.includes(cfg.peer) && subject === `Re: ${cfg.plainSubject}` && got === 'found', detail: `to "${to}", subject "${subject}", IMAP: ${got}` };
  });

  await step('search-folded', page, async () => {
    // The server indexes new mail in the background: search again until it is found (bounded).
    let subjects = [];
    let tries = 0;
    for (; tries < 12 && !subjects.some((s) => s.includes(cfg.plainSubject)); tries++) {
      if (tries) await page.waitForTimeout(1500);
      await page.fill('#search', cfg.foldedQuery);
      await page.press('#search', 'Enter');
      await page.waitForFunction(() => document.querySelector('#list-title').textContent.includes('Kết quả'));
      await page.waitForSelector('#messages .message, #messages .empty:not(:empty)');
      await page.waitForTimeout(300);
      subjects = await listSubjects(page);
    }
    // SearchSnippet/get marks the accented words that the unaccented query matched.
    const marked = await page.$$eval('#messages .message mark', (els) => els.map((e) => e.textContent));
    await shot(page, '10-search');
    await page.click('#clear-search');
    await page.waitForSelector('#messages .message');
    return { ok: subjects.some((s) => s.includes(cfg.plainSubject)) && marked.includes('Công văn số 45'), detail: `"${cfg.foldedQuery}" -> ${JSON.stringify(subjects)} after ${tries} searches; highlighted ${JSON.stringify(marked)}` };
  });

  await step('push', page, async () => {
    await page.evaluate(() => (window.__sameDocument = true));
    // A list load of an earlier step (clearing the search) may still be in flight.
    await page.waitForFunction(() => window.govmailListStats.busy === 0, null, { timeout: 15_000 });
    const before = await page.evaluate(() => ({ ...window.govmailListStats }));
    const t0 = Date.now();
    await ask('deliver-push');
    await page.locator('#messages .message', { hasText: cfg.pushSubject }).waitFor({ timeout: 15_000 });
    const ms = Date.now() - t0;
    const same = await page.evaluate(() => window.__sameDocument === true);
    await page.waitForFunction(() => window.govmailListStats.busy === 0, null, { timeout: 15_000 });
    const after = await page.evaluate(() => ({ ...window.govmailListStats }));
    // Listed through Email/queryChanges, not by reloading the list with Email/query.
    const viaChanges = after.queryChanges > before.queryChanges && after.loads === before.loads;
    await shot(page, '11-push');
    return { ok: same && viaChanges, detail: `new message listed ${ms} ms after delivery, without reload: ${same}; list refreshes ${JSON.stringify(before)} -> ${JSON.stringify(after)}` };
  });

  await step('vacation', page, async () => {
    await page.click('#vacation-button');
    await page.waitForSelector('#vacation[open]');
    await page.check('#v-enabled');
    await page.fill('#v-subject', 'Vắng mặt');
    await page.fill('#v-text', 'Tôi đi công tác đến thứ Sáu.');
    await page.click('#v-save');
    await page.waitForFunction(() => document.querySelector('#v-status').textContent === 'Đã lưu.', null, { timeout: 10_000 });
    await shot(page, '12-vacation');
    await page.click('#v-close');
    const got = await ask('vacation-state');
    return { ok: got === 'enabled', detail: `server says ${got}` };
  });

  // The signature set in the settings dialog (Identity/set) ends a new message; the peer's
  // IMAP INBOX gets it.
  await step('signature', page, async () => {
    await page.click('#vacation-button');
    await page.waitForSelector('#vacation[open]');
    await page.fill('#v-signature', cfg.signature);
    await page.click('#v-save');
    await page.waitForFunction(() => document.querySelector('#v-status').textContent === 'Đã lưu.', null, { timeout: 10_000 });
    await page.click('#v-close');
    await page.click('#compose-button');
    const prefilled = await page.inputValue('#c-body');
    await page.fill('#c-to', cfg.peer);
    await page.fill('#c-subject', cfg.signatureSubject);
    await page.fill('#c-body', `Kính gửi anh An,${prefilled}`);
    await page.click('#c-send');
    await page.waitForSelector('#compose', { state: 'hidden', timeout: 20_000 });
    const got = await ask('imap-signature', { subject: cfg.signatureSubject });
    return { ok: prefilled.endsWith(`-- \n${cfg.signature}`) && got === 'found', detail: `compose body ${JSON.stringify(prefilled)}; IMAP: ${got}` };
  });

  // binh's alias identity (created through Identity/set before login): compose offers it as
  // the sender; the peer gets the message from the alias with the identity's Reply-To.
  await step('identity', page, async () => {
    await page.click('#compose-button');
    const shown = await page.isVisible('#c-from');
    const options = await page.$$eval('#c-from option', (os) => os.map((o) => o.value));
    await page.selectOption('#c-from', cfg.aliasIdentity);
    await page.fill('#c-to', cfg.peer);
    await page.fill('#c-subject', cfg.identitySubject);
    await page.fill('#c-body', 'Kính gửi anh An,\nVăn thư xin gửi công văn.');
    await shot(page, '12b-compose-alias');
    await page.click('#c-send');
    await page.waitForSelector('#compose', { state: 'hidden', timeout: 20_000 });
    const got = await ask('imap-identity', { subject: cfg.identitySubject });
    return { ok: shown && options.length === 2 && options.includes(cfg.aliasIdentity) && got === 'found', detail: `sender choice shown ${shown}, options ${JSON.stringify(options)}; IMAP: ${got}` };
  });

  await step('csrf', page, async () => {
    // Logged in through the page when the 'login' step could not run (no mail methods yet).
    if (!(await page.evaluate(() => sessionStorage.getItem('govmail.csrf')))) {
      await page.goto(cfg.base);
      const st = await page.evaluate(async ({ user, password }) => {
        const r = await fetch('/jmap/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
        const j = await r.json();
        sessionStorage.setItem('govmail.csrf', j.csrfToken);
        return r.status;
      }, { user: cfg.user, password: cfg.password });
      if (st !== 200) throw new Error(`login by fetch: ${st}`);
    }
    // Same page, the session cookie, with and without the X-CSRF-Token header.
    const echo = (withToken) =>
      page.evaluate(async (withToken) => {
        const headers = { 'Content-Type': 'application/json' };
        if (withToken) headers['X-CSRF-Token'] = sessionStorage.getItem('govmail.csrf');
        const r = await fetch('/jmap/api', {
          method: 'POST',
          credentials: 'same-origin',
          headers,
          body: JSON.stringify({ using: ['urn:ietf:params:jmap:core'], methodCalls: [['Core/echo', { a: 1 }, '0']] }),
        });
        return r.status;
      }, withToken);
    const withToken = await echo(true);
    const status = await echo(false);
    // Another site's page (the recorder) posting a form at the API: the browser sends the
    // cookie (same site, other port), the server must refuse it and change nothing.
    const attacker = await context.newPage();
    await attacker.goto(`${cfg.recorder}/attacker`);
    const [response] = await Promise.all([
      attacker.waitForNavigation(),
      attacker.evaluate(({ api, prefix }) => {
        const f = document.createElement('form');
        f.method = 'POST';
        f.action = api;
        f.enctype = 'text/plain';
        const i = document.createElement('input');
        i.name = prefix; // text/plain sends name=value: {..."pad":"=" + "}
        i.value = '"}';
        f.append(i);
        document.body.append(f);
        f.submit();
      }, { api: `${cfg.base}jmap/api`, prefix: cfg.csrfPrefix }),
    ]);
    const crossStatus = response.status();
    await attacker.close();
    const unchanged = await ask('csrf-unchanged');
    const stateOk = unchanged === 'unchanged' || (!cfg.canCheckState && unchanged === 'not checked');
    return { ok: withToken === 200 && status === 403 && crossStatus === 403 && stateOk, detail: `same page: with token ${withToken}, without ${status}; cross-site form ${crossStatus}; server state ${unchanged}` };
  });

  await step('english-and-phone', page, async () => {
    await page.click('.top .lang-switch');
    const en = await page.textContent('#compose-button');
    await page.click('.top .lang-switch');
    const vi = await page.textContent('#compose-button');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
    await shot(page, '13-phone-list');
    const navHidden = !(await page.isVisible('#nav'));
    await page.locator('#messages .message').first().click();
    await page.waitForSelector('.thread-item.open .msg-frame');
    const listHidden = !(await page.isVisible('#list-pane'));
    await shot(page, '14-phone-read');
    return { ok: en === 'New message' && vi === 'Soạn thư mới' && navHidden && listHidden, detail: `en "${en}", vi "${vi}", phone: nav hidden ${navHidden}, list hidden while reading ${listHidden}` };
  });

  if (steps.has('page')) result('no-page-errors', pageErrors.length === 0, JSON.stringify(pageErrors));
  await context.close();
}

try {
  await main();
  if (steps.has('measure')) {
    try {
      say({ figures: await measure() });
    } catch (e) {
      result('measure', false, e.stack || e);
    }
  }
} finally {
  clearTimeout(timer);
  await browser.close();
  lines.return?.();
  process.stdin.destroy();
}
