// The webmail: one page on JMAP. State lives here; jmap.js talks to the server, sanitize.js
// makes received HTML safe, i18n.js holds every word the user sees.
import { Jmap, JmapError, DIRECTORY } from './jmap.js?v=__GOVMAIL_V__';
import { applyText, t, toggleLang, formatDate, formatSize, currentLang } from './i18n.js?v=__GOVMAIL_V__';
import { sanitizeHtml, textToSrcdoc } from './sanitize.js?v=__GOVMAIL_V__';

const PAGE = 50;
// How the list was refreshed (the browser test reads it): full loads and queryChanges updates.
const listStats = (window.govmailListStats = { loads: 0, queryChanges: 0, busy: 0 }); // busy: list requests in flight
const LIST_PROPS = ['id', 'threadId', 'mailboxIds', 'keywords', 'from', 'to', 'subject', 'receivedAt', 'preview', 'hasAttachment', 'size'];
const READ_PROPS = [
  'id', 'threadId', 'mailboxIds', 'keywords', 'from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'receivedAt',
  'sentAt', 'messageId', 'references', 'inReplyTo', 'hasAttachment', 'preview', 'size', 'textBody',
  'htmlBody', 'attachments', 'bodyValues',
];
const ROLE_ORDER = ['inbox', 'drafts', 'sent', 'archive', 'junk', 'trash'];

const jmap = new Jmap();
const $ = (id) => document.getElementById(id);
const state = {
  mailboxes: [],
  byRole: {},
  mailboxId: null,
  search: '',
  position: 0,
  total: 0,
  ids: [],
  emails: new Map(),
  selected: null,
  thread: [],
  allowRemote: new Set(),
  identity: null, // the account's own identity (Identity/get), the default sender
  identities: [], // every identity: the own one first, then those added for aliases
  contacts: new Map(), // lower-case email -> {name, email}
  eventSource: null,
};

// ---------- small helpers ----------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function notice(text, kind = 'info') {
  const n = $('notice');
  n.textContent = text;
  n.dataset.kind = kind;
  clearTimeout(notice.timer);
  if (text) notice.timer = setTimeout(() => (n.textContent = ''), 6000);
}

function fail(e) {
  console.error(e);
  if (e instanceof JmapError && e.status === 401) return showLogin();
  notice(t('error', { msg: e.message || e }), 'error');
}

function who(addrs) {
  return (addrs || []).map((a) => a.name || a.email).join(', ');
}

function addrText(addrs) {
  return (addrs || []).map((a) => (a.name ? `${a.name} <${a.email}>` : a.email)).join(', ');
}

function rememberContacts(addrs) {
  for (const a of addrs || []) {
    if (a?.email && !state.contacts.has(a.email.toLowerCase())) state.contacts.set(a.email.toLowerCase(), a);
  }
}

// Vietnamese without diacritics: "đ" has no decomposition, so it is mapped by hand.
function fold(s) {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
}

function mailboxName(mb) {
  return mb.role && ROLE_ORDER.includes(mb.role) ? t(mb.role) : mb.name;
}

// ---------- login ----------

function showLogin(message = '') {
  state.eventSource?.close();
  state.eventSource = null;
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('login-user').focus();
}

async function onLogin(ev) {
  ev.preventDefault();
  const button = ev.target.querySelector('button[type=submit]');
  button.disabled = true;
  $('login-error').textContent = t('loginBusy');
  try {
    const session = await jmap.login($('login-user').value.trim(), $('login-pass').value);
    if (!session) throw new JmapError('login', t('loginFailed'), 401);
    $('login-pass').value = '';
    await start();
  } catch (e) {
    $('login-error').textContent =
      e.status === 429 ? t('loginLocked') : e.status === 401 || e.status === 400 ? t('loginFailed') : t('error', { msg: e.message });
  } finally {
    button.disabled = false;
  }
}

async function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('whoami').textContent = jmap.username;
  await loadMailboxes();
  const inbox = state.byRole.inbox || state.mailboxes[0];
  await openMailbox(inbox?.id);
  state.eventSource?.close();
  state.eventSource = jmap.subscribe(onPush);
  loadIdentity().catch(() => {});
}

// ---------- mailboxes ----------

async function loadMailboxes() {
  const r = await jmap.call('Mailbox/get', { ids: null });
  state.mailboxes = r.list;
  state.byRole = {};
  for (const mb of r.list) if (mb.role) state.byRole[mb.role] = mb;
  renderMailboxes();
}

function sortedTree() {
  const children = new Map();
  for (const mb of state.mailboxes) {
    const p = mb.parentId || '';
    if (!children.has(p)) children.set(p, []);
    children.get(p).push(mb);
  }
  const rank = (mb) => {
    const i = ROLE_ORDER.indexOf(mb.role);
    return i < 0 ? 100 + (mb.sortOrder || 0) : i;
  };
  const out = [];
  const walk = (parent, depth) => {
    const list = (children.get(parent) || []).sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name, 'vi'));
    for (const mb of list) {
      out.push([mb, depth]);
      walk(mb.id, depth + 1);
    }
  };
  walk('', 0);
  return out;
}

function renderMailboxes() {
  const ul = $('mailboxes');
  ul.replaceChildren(
    ...sortedTree().map(([mb, depth]) => {
      const unread = mb.unreadEmails || 0;
      return el(
        'li',
        {},
        el(
          'button',
          {
            type: 'button',
            class: `mailbox${mb.id === state.mailboxId && !state.search ? ' current' : ''}${unread ? ' has-unread' : ''}`,
            style: `padding-left:${0.75 + depth * 1.1}rem`,
            'data-id': mb.id,
            'data-role': mb.role || '',
            onclick: () => {
              document.body.classList.remove('nav-open');
              openMailbox(mb.id).catch(fail);
            },
          },
          el('span', { class: 'name', text: mailboxName(mb) }),
          unread ? el('span', { class: 'count', title: `${unread} ${t('unread')}`, text: String(unread) }) : null,
        ),
      );
    }),
  );
}

// ---------- message list ----------

async function openMailbox(id, position = 0) {
  state.mailboxId = id;
  state.search = '';
  $('search').value = '';
  state.position = position;
  renderMailboxes();
  await loadList();
}

function listFilter() {
  if (state.search) return { text: state.search };
  return { inMailbox: state.mailboxId };
}

// Every list load and push refresh counts itself busy while in flight (for tests and tools that
// must know the list has settled).
async function tracked(fn) {
  listStats.busy += 1;
  try {
    return await fn();
  } finally {
    listStats.busy -= 1;
  }
}

function loadList(options) {
  return tracked(() => loadListNow(options));
}

async function loadListNow({ keepSelection = false } = {}) {
  const title = state.search
    ? `${t('searchResults')}: “${state.search}”`
    : mailboxName(state.mailboxes.find((m) => m.id === state.mailboxId) || { name: '' });
  $('list-title').textContent = title;
  $('clear-search').hidden = !state.search;
  if (!state.ids.length) $('messages').replaceChildren(el('li', { class: 'empty', text: t('loading') }));
  const calls = [
    ['Email/query', { filter: listFilter(), sort: [{ property: 'receivedAt', isAscending: false }], position: state.position, limit: PAGE, calculateTotal: true }, 'q'],
    ['Email/get', { '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: LIST_PROPS }, 'g'],
  ];
  if (state.search) calls.push(['SearchSnippet/get', { filter: listFilter(), '#emailIds': { resultOf: 'q', name: 'Email/query', path: '/ids' } }, 's']);
  const r = await jmap.batch(calls);
  if (r.q instanceof Error) throw r.q;
  if (r.g instanceof Error) throw r.g;
  state.snippets = new Map();
  if (r.s && !(r.s instanceof Error)) for (const sn of r.s.list || []) state.snippets.set(sn.emailId, sn);
  state.ids = r.q.ids;
  state.total = r.q.total ?? r.q.ids.length;
  // Followed on push by Email/queryChanges (refreshList) when the server can.
  state.queryState = r.q.canCalculateChanges && state.position === 0 ? r.q.queryState : null;
  listStats.loads += 1;
  for (const e of r.g.list) {
    state.emails.set(e.id, { ...(state.emails.get(e.id) || {}), ...e });
    rememberContacts(e.from);
    rememberContacts(e.to);
  }
  if (!keepSelection) state.selected = null;
  renderList();
}

// On push: the first page follows its query with Email/queryChanges (removed, then added at
// their index; RFC 8620 5.6) and fetches only the added Emails. A full reload when the server
// cannot calculate the changes, or when removals leave the page short of what exists.
function refreshList() {
  return tracked(refreshListNow);
}

async function refreshListNow() {
  const since = state.queryState;
  if (!since || state.search) return loadList({ keepSelection: true });
  const args = { filter: listFilter(), sort: [{ property: 'receivedAt', isAscending: false }], sinceQueryState: since, maxChanges: 500, calculateTotal: true };
  const r = await jmap.batch([
    ['Email/queryChanges', args, 'c'],
    ['Email/get', { '#ids': { resultOf: 'c', name: 'Email/queryChanges', path: '/added/*/id' }, properties: LIST_PROPS }, 'g'],
  ]);
  if (r.c instanceof Error || r.g instanceof Error) return loadList({ keepSelection: true });
  const removed = new Set(r.c.removed);
  const ids = state.ids.filter((id) => !removed.has(id));
  for (const a of [...r.c.added].sort((x, y) => x.index - y.index)) if (a.index <= ids.length) ids.splice(a.index, 0, a.id);
  state.total = r.c.total ?? state.total;
  if (ids.length < Math.min(PAGE, state.total)) return loadList({ keepSelection: true });
  for (const e of r.g.list) state.emails.set(e.id, { ...(state.emails.get(e.id) || {}), ...e });
  state.ids = ids.slice(0, PAGE);
  state.queryState = r.c.newQueryState;
  listStats.queryChanges += 1;
  renderList();
}

function renderList() {
  const ul = $('messages');
  if (!state.ids.length) {
    ul.replaceChildren(el('li', { class: 'empty', text: t('empty') }));
  } else {
    const inSent = state.mailboxId && [state.byRole.sent?.id, state.byRole.drafts?.id].includes(state.mailboxId) && !state.search;
    ul.replaceChildren(
      ...state.ids.map((id) => {
        const e = state.emails.get(id);
        if (!e) return null;
        const unread = !e.keywords?.$seen;
        const flagged = !!e.keywords?.$flagged;
        return el(
          'li',
          {
            class: `message${unread ? ' unread' : ''}${id === state.selected ? ' selected' : ''}`,
            'data-id': id,
            tabindex: '-1',
            onclick: () => openEmail(id).catch(fail),
          },
          el('span', { class: 'who', text: (inSent ? who(e.to) : who(e.from)) || '—' }),
          el('span', { class: 'when', text: formatDate(e.receivedAt) }),
          el('span', { class: 'subject' }, flagged ? el('span', { class: 'flag', title: t('flag'), text: '⚑ ' }) : null, e.hasAttachment ? el('span', { class: 'clip', title: t('attachments'), text: t('attachmentBadge') }) : null, ...(state.snippets?.get(id)?.subject ? highlighted(state.snippets.get(id).subject) : [e.subject || t('noSubject')])),
          state.snippets?.get(id)?.preview ? el('span', { class: 'preview' }, ...highlighted(state.snippets.get(id).preview)) : el('span', { class: 'preview', text: e.preview || '' }),
        );
      }),
    );
  }
  const from = state.total ? state.position + 1 : 0;
  const to = Math.min(state.position + state.ids.length, state.total);
  $('page-info').textContent = state.total ? t('pageOf', { from, to, total: state.total }) : '';
  $('newer').disabled = state.position === 0;
  $('older').disabled = state.position + PAGE >= state.total;
}

// A SearchSnippet (RFC 8621 5.1) is HTML-escaped text with <mark> around the matches: only
// those marks become elements, everything else stays text.
function highlighted(snippet) {
  const doc = new DOMParser().parseFromString(`<p>${snippet}</p>`, 'text/html');
  return [...doc.body.firstChild.childNodes].map((n) => (n.nodeName === 'MARK' ? el('mark', { text: n.textContent }) : document.createTextNode(n.textContent)));
}

// ---------- reading ----------

async function openEmail(id) {
  state.selected = id;
  document.body.classList.add('reading');
  for (const li of $('messages').children) li.classList.toggle('selected', li.dataset.id === id);
  const summary = state.emails.get(id);
  const r = await jmap.batch([
    ['Thread/get', { ids: [summary.threadId] }, 't'],
    ['Email/get', { '#ids': { resultOf: 't', name: 'Thread/get', path: '/list/*/emailIds' }, properties: READ_PROPS, fetchAllBodyValues: true, maxBodyValueBytes: 2000000 }, 'g'],
  ]);
  let thread = r.g instanceof Error || !r.g?.list?.length ? null : r.g.list;
  if (!thread) {
    const one = await jmap.call('Email/get', { ids: [id], properties: READ_PROPS, fetchAllBodyValues: true, maxBodyValueBytes: 2000000 });
    thread = one.list;
  }
  // The trash holds what was deleted: show the rest of a conversation only outside it.
  const trash = state.byRole.trash?.id;
  thread = thread.filter((e) => e.id === id || !trash || !e.mailboxIds?.[trash]);
  thread.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : 1));
  state.thread = thread;
  for (const e of thread) {
    state.emails.set(e.id, { ...(state.emails.get(e.id) || {}), ...e });
    rememberContacts(e.from);
    rememberContacts(e.to);
    rememberContacts(e.cc);
  }
  renderReader();
  const current = state.emails.get(id);
  if (!current.keywords?.$seen) setKeyword([id], '$seen', true).catch(fail);
}

function renderReader() {
  const reader = $('reader');
  const current = state.emails.get(state.selected);
  if (!current) {
    reader.replaceChildren(el('p', { class: 'placeholder', text: t('selectMessage') }));
    return;
  }
  const flagged = !!current.keywords?.$flagged;
  const moveSelect = el(
    'select',
    { 'aria-label': t('moveTo'), onchange: (ev) => ev.target.value && moveTo([current.id], ev.target.value).catch(fail) },
    el('option', { value: '', text: t('moveTo') }),
    ...sortedTree()
      .filter(([mb]) => !current.mailboxIds?.[mb.id])
      .map(([mb, depth]) => el('option', { value: mb.id, text: `${'  '.repeat(depth)}${mailboxName(mb)}` })),
  );
  const toolbar = el(
    'div',
    { class: 'toolbar' },
    el('button', { type: 'button', class: 'back', onclick: closeReader, text: t('back') }),
    el('button', { type: 'button', 'data-action': 'reply', onclick: () => compose('reply'), text: t('reply') }),
    el('button', { type: 'button', 'data-action': 'reply-all', onclick: () => compose('replyAll'), text: t('replyAll') }),
    el('button', { type: 'button', 'data-action': 'forward', onclick: () => compose('forward'), text: t('forward') }),
    el('button', { type: 'button', 'data-action': 'flag', onclick: () => setKeyword([current.id], '$flagged', !flagged).catch(fail), text: flagged ? t('unflag') : t('flag') }),
    el('button', { type: 'button', 'data-action': 'unread', onclick: () => setKeyword([current.id], '$seen', false).then(closeReader).catch(fail), text: t('markUnread') }),
    el('button', { type: 'button', 'data-action': 'delete', class: 'danger', onclick: () => deleteEmails([current.id]).catch(fail), text: t('delete') }),
    moveSelect,
  );
  const items = state.thread.map((e) => renderThreadItem(e, e.id === state.selected || !e.keywords?.$seen || state.thread.length === 1));
  reader.replaceChildren(toolbar, el('h2', { class: 'reader-subject', text: current.subject || t('noSubject') }), ...items);
}

function renderThreadItem(e, open) {
  const head = el(
    'div',
    { class: 'msg-head' },
    el('div', { class: 'msg-from' }, el('strong', { text: who(e.from) || '—' }), ' ', el('span', { class: 'addr', text: e.from?.[0]?.email ? `<${e.from[0].email}>` : '' })),
    el('div', { class: 'msg-date', text: formatDate(e.receivedAt, true) }),
    open ? el('div', { class: 'msg-to', text: `${t('to')}: ${addrText(e.to)}${e.cc?.length ? ` · ${t('cc')}: ${addrText(e.cc)}` : ''}` }) : el('div', { class: 'msg-preview', text: e.preview || '' }),
  );
  const item = el('article', { class: `thread-item${open ? ' open' : ''}`, 'data-id': e.id }, head);
  if (!open) {
    head.addEventListener('click', () => {
      item.replaceWith(renderThreadItem(e, true));
    });
    return item;
  }
  const body = el('div', { class: 'msg-body' });
  item.append(body);
  renderBody(e, body).catch(fail);
  const files = (e.attachments || []).filter((p) => !(p.disposition === 'inline' && p.cid && p.type?.startsWith('image/')));
  if (files.length) {
    item.append(
      el('h3', { class: 'att-title', text: t('attachments') }),
      el(
        'ul',
        { class: 'attachments' },
        ...files.map((p) =>
          el(
            'li',
            {},
            el('span', { class: 'att-name', text: p.name || 'tep' }),
            el('span', { class: 'att-size', text: formatSize(p.size || 0) }),
            el('button', { type: 'button', 'data-action': 'download', onclick: () => downloadPart(p).catch(fail), text: t('download') }),
            /^image\/|^application\/pdf/.test(p.type || '') ? el('button', { type: 'button', 'data-action': 'preview', onclick: () => previewPart(p).catch(fail), text: t('preview') }) : null,
          ),
        ),
      ),
    );
  }
  return item;
}

async function blobToDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = reject;
    r.readAsDataURL(blob);
  });
}

async function renderBody(e, container) {
  const html = (e.htmlBody || []).filter((p) => p.type === 'text/html');
  const values = e.bodyValues || {};
  let srcdoc;
  let remoteCount = 0;
  if (html.length) {
    const cidUrls = {};
    for (const p of e.attachments || []) {
      if (p.cid && p.type?.startsWith('image/') && (p.size || 0) < 2_000_000) {
        try {
          cidUrls[p.cid.replace(/^<|>$/g, '')] = await blobToDataUrl(await jmap.download(p.blobId, p.name, p.type));
        } catch {
          /* an inline image that does not load is left out */
        }
      }
    }
    const source = html.map((p) => values[p.partId]?.value || '').join('\n');
    ({ srcdoc, remoteCount } = sanitizeHtml(source, { cidUrls, allowRemote: state.allowRemote.has(e.id) }));
  } else {
    const text = (e.textBody || []).map((p) => values[p.partId]?.value || '').join('\n');
    srcdoc = textToSrcdoc(text || e.preview || '');
  }
  const frame = el('iframe', { class: 'msg-frame', sandbox: 'allow-popups allow-popups-to-escape-sandbox', referrerpolicy: 'no-referrer', title: e.subject || '' });
  frame.srcdoc = srcdoc;
  const parts = [];
  if (remoteCount && !state.allowRemote.has(e.id)) {
    parts.push(
      el(
        'div',
        { class: 'remote-bar' },
        el('span', { text: t('remoteBlocked') }),
        el('button', {
          type: 'button',
          'data-action': 'show-images',
          onclick: () => {
            state.allowRemote.add(e.id);
            renderBody(e, container).catch(fail);
          },
          text: t('showImages'),
        }),
      ),
    );
  }
  parts.push(frame);
  container.replaceChildren(...parts);
}

async function downloadPart(p) {
  const blob = await jmap.download(p.blobId, p.name, p.type);
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: p.name || 'tep' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function previewPart(p) {
  const blob = await jmap.download(p.blobId, p.name, p.type);
  const url = URL.createObjectURL(new Blob([blob], { type: p.type }));
  const body = $('preview-body');
  body.replaceChildren(p.type.startsWith('image/') ? el('img', { src: url, alt: p.name || '' }) : el('iframe', { src: url, title: p.name || '', class: 'pdf' }));
  const dlg = $('preview');
  dlg.showModal();
  dlg.addEventListener('close', () => URL.revokeObjectURL(url), { once: true });
}

function closeReader() {
  state.selected = null;
  document.body.classList.remove('reading');
  renderReader();
  for (const li of $('messages').children) li.classList.remove('selected');
}

// ---------- changes ----------

async function setKeyword(ids, keyword, on) {
  const update = {};
  for (const id of ids) update[id] = { [`keywords/${keyword}`]: on ? true : null };
  const r = await jmap.call('Email/set', { update });
  for (const id of ids) {
    if (r.notUpdated?.[id]) throw new JmapError(r.notUpdated[id].type, r.notUpdated[id].description);
    const e = state.emails.get(id);
    if (e) {
      e.keywords = { ...(e.keywords || {}) };
      if (on) e.keywords[keyword] = true;
      else delete e.keywords[keyword];
    }
  }
  renderList();
  if (state.selected && ids.includes(state.selected)) renderReaderHeadOnly();
  loadMailboxes().catch(() => {});
}

// Keeps the opened message's frame: only the toolbar changes (a flag toggled).
function renderReaderHeadOnly() {
  const e = state.emails.get(state.selected);
  const b = $('reader').querySelector('[data-action=flag]');
  if (b && e) b.textContent = e.keywords?.$flagged ? t('unflag') : t('flag');
}

async function moveTo(ids, mailboxId) {
  const update = {};
  for (const id of ids) update[id] = { mailboxIds: { [mailboxId]: true } };
  const r = await jmap.call('Email/set', { update });
  for (const id of ids) if (r.notUpdated?.[id]) throw new JmapError(r.notUpdated[id].type, r.notUpdated[id].description);
  afterRemoval(ids);
}

async function deleteEmails(ids) {
  const trash = state.byRole.trash?.id;
  const e = state.emails.get(ids[0]);
  if (trash && !e?.mailboxIds?.[trash]) return moveTo(ids, trash);
  if (!confirm(t('deleteForever'))) return;
  const r = await jmap.call('Email/set', { destroy: ids });
  for (const id of ids) if (r.notDestroyed?.[id]) throw new JmapError(r.notDestroyed[id].type, r.notDestroyed[id].description);
  afterRemoval(ids);
}

function afterRemoval(ids) {
  const index = state.ids.indexOf(ids[0]);
  state.ids = state.ids.filter((id) => !ids.includes(id));
  const next = state.ids[Math.min(index, state.ids.length - 1)];
  renderList();
  if (next && index >= 0 && !document.body.classList.contains('narrow')) openEmail(next).catch(fail);
  else closeReader();
  loadMailboxes().catch(() => {});
  loadList({ keepSelection: true }).catch(fail);
}

// ---------- push ----------

let pushTimer = null;
function onPush(change) {
  const changed = change?.changed?.[jmap.accountId];
  if (changed && !changed.Email && !changed.Mailbox && !changed.Thread && !changed.EmailDelivery) return;
  clearTimeout(pushTimer);
  pushTimer = setTimeout(async () => {
    try {
      const before = new Set(state.ids);
      await loadMailboxes();
      await refreshList();
      if (state.ids.some((id) => !before.has(id))) notice(t('newMail'));
    } catch (e) {
      fail(e);
    }
  }, 150);
}

// ---------- compose ----------

const draft = { id: null, kind: 'new', source: null, attachments: [], dirty: false, timer: null, saving: null };

function parseAddresses(text) {
  const out = [];
  for (const raw of text.split(/[,;]/)) {
    const s = raw.trim();
    if (!s) continue;
    const m = s.match(/^(.*)<([^>]+)>$/);
    const email = (m ? m[2] : s).trim();
    const name = m ? m[1].trim().replace(/^"|"$/g, '') : state.contacts.get(email.toLowerCase())?.name || '';
    out.push({ name: name || null, email });
  }
  return out;
}

function quote(e) {
  const text = (e.textBody || []).map((p) => e.bodyValues?.[p.partId]?.value || '').join('\n') || e.preview || '';
  return `\n\n${t('wrote', { date: formatDate(e.receivedAt, true), who: addrText(e.from) })}\n${text
    .split('\n')
    .map((l) => `> ${l}`)
    .join('\n')}`;
}

function prefixed(prefix, subject) {
  const s = subject || '';
  return new RegExp(`^${prefix}:`, 'i').test(s) ? s : `${prefix}: ${s}`;
}

function compose(kind = 'new', source = state.emails.get(state.selected)) {
  if (kind !== 'new' && !source) return;
  Object.assign(draft, { id: null, kind, source: kind === 'new' ? null : source, attachments: [], dirty: false, saving: null });
  const me = (jmap.username || '').toLowerCase();
  let to = [];
  let cc = [];
  let subject = '';
  let body = '';
  if (kind === 'reply' || kind === 'replyAll') {
    to = source.replyTo?.length ? source.replyTo : source.from || [];
    if (kind === 'replyAll') {
      const seen = new Set(to.map((a) => a.email.toLowerCase()).concat(me));
      cc = [...(source.to || []), ...(source.cc || [])].filter((a) => !seen.has(a.email.toLowerCase()) && seen.add(a.email.toLowerCase()));
    }
    subject = prefixed('Re', source.subject);
    body = quote(source);
  } else if (kind === 'forward') {
    subject = prefixed('Fwd', source.subject);
    const text = (source.textBody || []).map((p) => source.bodyValues?.[p.partId]?.value || '').join('\n');
    body = `\n\n${t('forwarded')}\n${t('from')}: ${addrText(source.from)}\n${t('date')}: ${formatDate(source.receivedAt, true)}\n${t('subject')}: ${source.subject || ''}\n${t('to')}: ${addrText(source.to)}\n\n${text}`;
    draft.attachments = (source.attachments || []).map((p) => ({ blobId: p.blobId, type: p.type, name: p.name, size: p.size }));
  }
  // The sender: the own identity, or the alias identity a replied message was addressed to.
  fillSenders();
  if (source && kind !== 'new' && kind !== 'forward') {
    const named = new Set([...(source.to || []), ...(source.cc || [])].map((a) => a.email.toLowerCase()));
    const alias = state.identities.find((i) => i !== state.identity && named.has(i.email.toLowerCase()));
    if (alias) $('c-from').value = alias.id;
  }
  $('c-from').dataset.last = $('c-from').value;
  // A new message ends with the identity's signature after the usual "-- " separator.
  const sig = chosenIdentity()?.textSignature;
  if (kind === 'new' && sig) body = `\n\n-- \n${sig}`;
  $('c-to').value = addrText(to);
  $('c-cc').value = addrText(cc);
  $('c-subject').value = subject;
  $('c-body').value = body;
  $('c-status').textContent = '';
  renderDraftAttachments();
  $('compose').showModal();
  (kind === 'new' || kind === 'forward' ? $('c-to') : $('c-body')).focus();
  if (kind !== 'new' && kind !== 'forward') $('c-body').setSelectionRange(0, 0);
}

function renderDraftAttachments() {
  $('c-attachments').replaceChildren(
    ...draft.attachments.map((a, i) =>
      el(
        'li',
        {},
        el('span', { class: 'att-name', text: a.name }),
        el('span', { class: 'att-size', text: formatSize(a.size || 0) }),
        el('button', {
          type: 'button',
          text: '✕',
          'aria-label': t('delete'),
          onclick: () => {
            draft.attachments.splice(i, 1);
            markDirty();
            renderDraftAttachments();
          },
        }),
      ),
    ),
  );
}

function markDirty() {
  draft.dirty = true;
  clearTimeout(draft.timer);
  draft.timer = setTimeout(() => saveDraft().catch(fail), 3000);
}

function emailObject() {
  const who = chosenIdentity();
  const from = who ? [{ name: who.name || null, email: who.email }] : [{ email: jmap.username }];
  const obj = {
    mailboxIds: { [state.byRole.drafts?.id]: true },
    keywords: { $draft: true, $seen: true },
    from,
    to: parseAddresses($('c-to').value),
    cc: parseAddresses($('c-cc').value),
    subject: $('c-subject').value,
    textBody: [{ partId: 'body', type: 'text/plain' }],
    bodyValues: { body: { value: $('c-body').value } },
  };
  if (!obj.cc.length) delete obj.cc;
  if (who?.replyTo?.length) obj.replyTo = who.replyTo;
  if (who?.bcc?.length) obj.bcc = who.bcc;
  if (draft.attachments.length) obj.attachments = draft.attachments.map((a) => ({ blobId: a.blobId, type: a.type, name: a.name, disposition: 'attachment' }));
  const src = draft.source;
  if (src && (draft.kind === 'reply' || draft.kind === 'replyAll') && src.messageId?.length) {
    obj.inReplyTo = src.messageId;
    obj.references = [...(src.references || []), ...src.messageId];
  }
  return obj;
}

// Drafts are saved by replacing the previous one (JMAP Emails are immutable): create + destroy
// in one Email/set.
async function saveDraft() {
  if (!draft.dirty || !state.byRole.drafts) return;
  if (draft.saving) await draft.saving;
  draft.dirty = false;
  const old = draft.id;
  draft.saving = jmap
    .call('Email/set', { create: { d: emailObject() }, destroy: old ? [old] : undefined })
    .then((r) => {
      if (r.notCreated?.d) throw new JmapError(r.notCreated.d.type, r.notCreated.d.description);
      draft.id = r.created.d.id;
      $('c-status').textContent = t('draftSaved', { time: new Date().toLocaleTimeString(currentLang() === 'vi' ? 'vi-VN' : 'en-GB') });
    })
    .finally(() => (draft.saving = null));
  return draft.saving;
}

async function loadIdentity() {
  const r = await jmap.call('Identity/get', { ids: null });
  const me = (jmap.username || '').toLowerCase();
  state.identity = r.list.find((i) => i.email?.toLowerCase() === me) || r.list[0] || null;
  state.identities = [state.identity, ...r.list.filter((i) => i !== state.identity)].filter(Boolean);
}

// The compose's sender: a choice only when the account has more than one identity (an
// alias such as the văn thư address); its replyTo and bcc go with the message.
function fillSenders() {
  const many = state.identities.length > 1;
  document.querySelectorAll('.c-from').forEach((e) => (e.hidden = !many));
  $('c-from').replaceChildren(
    ...state.identities.map((i) => el('option', { value: i.id, text: i.name ? `${i.name} <${i.email}>` : i.email })),
  );
  if (state.identity) $('c-from').value = state.identity.id;
}

function chosenIdentity() {
  return state.identities.find((i) => i.id === $('c-from').value) || state.identity;
}

// Another sender chosen: its signature replaces the previous one if the text still ends with it.
function senderChanged(previous) {
  const now = chosenIdentity();
  const body = $('c-body').value;
  const old = previous?.textSignature ? `\n\n-- \n${previous.textSignature}` : '';
  const next = now?.textSignature ? `\n\n-- \n${now.textSignature}` : '';
  if (old && body.endsWith(old)) $('c-body').value = body.slice(0, -old.length) + next;
  else if (!old && next && draft.kind === 'new' && !body.includes('\n-- \n')) $('c-body').value = body + next;
  markDirty();
}

async function send() {
  const to = parseAddresses($('c-to').value);
  const cc = parseAddresses($('c-cc').value);
  if (!to.length) return void ($('c-status').textContent = t('needRecipient'));
  const bad = [...to, ...cc].find((a) => !/^[^@\s]+@[^@\s]+$/.test(a.email));
  if (bad) return void ($('c-status').textContent = t('badAddress', { addr: bad.email }));
  clearTimeout(draft.timer);
  if (draft.saving) await draft.saving;
  if (!state.identity) await loadIdentity();
  $('c-status').textContent = t('sending');
  $('c-send').disabled = true;
  try {
    const sent = state.byRole.sent?.id;
    // Once sent: out of Drafts into Sent, no longer a draft, in the same request (RFC 8621
    // 7.5 onSuccessUpdateEmail; the server answers that implicit Email/set after ours).
    const afterSend = sent ? { onSuccessUpdateEmail: { '#s': { mailboxIds: { [sent]: true }, keywords: { $seen: true } } } } : {};
    const r = await jmap.batch([
      ['Email/set', { create: { m: emailObject() }, destroy: draft.id ? [draft.id] : undefined }, 'e'],
      ['EmailSubmission/set', { create: { s: { identityId: chosenIdentity()?.id, emailId: '#m' } }, ...afterSend }, 's'],
    ]);
    if (r.e instanceof Error) throw r.e;
    if (r.e.notCreated?.m) throw new JmapError(r.e.notCreated.m.type, r.e.notCreated.m.description);
    if (r.s instanceof Error) throw r.s;
    if (r.s.notCreated?.s) throw new JmapError(r.s.notCreated.s.type, r.s.notCreated.s.description);
    draft.id = null;
    draft.dirty = false;
    $('compose').close();
    notice(t('sent_ok'));
    if (draft.source && (draft.kind === 'reply' || draft.kind === 'replyAll')) {
      jmap.call('Email/set', { update: { [draft.source.id]: { 'keywords/$answered': true } } }).catch(() => {});
    }
    loadMailboxes().catch(() => {});
    loadList({ keepSelection: true }).catch(() => {});
  } catch (e) {
    $('c-status').textContent = t('error', { msg: e.message });
  } finally {
    $('c-send').disabled = false;
  }
}

async function discard() {
  clearTimeout(draft.timer);
  if (draft.saving) await draft.saving.catch(() => {});
  if (draft.id) await jmap.call('Email/set', { destroy: [draft.id] }).catch(() => {});
  draft.id = null;
  draft.dirty = false;
  $('compose').close();
}

async function attachFiles(files) {
  for (const f of files) {
    $('c-status').textContent = t('uploading');
    const up = await jmap.upload(f);
    draft.attachments.push({ blobId: up.blobId, type: up.type || f.type || 'application/octet-stream', name: f.name, size: up.size ?? f.size });
  }
  $('c-status').textContent = '';
  renderDraftAttachments();
  markDirty();
}

// Recipient completion: addresses seen in mail, then the server's address book (Directory/query,
// govmail's own method: JMAP mail has none) as the user types.
let contactsLoaded = false;
async function loadContacts() {
  if (contactsLoaded) return;
  contactsLoaded = true;
  const sent = state.byRole.sent?.id;
  const r = await jmap.batch([
    ['Email/query', { filter: sent ? { inMailbox: sent } : {}, sort: [{ property: 'receivedAt', isAscending: false }], limit: 200 }, 'q'],
    ['Email/get', { '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['from', 'to', 'cc'] }, 'g'],
  ]);
  if (r.g && !(r.g instanceof Error)) for (const e of r.g.list) [e.from, e.to, e.cc].forEach(rememberContacts);
}

function setupSuggest(input) {
  const list = input.parentElement.querySelector('.suggest');
  let items = [];
  let active = -1;
  const hide = () => {
    list.hidden = true;
    items = [];
    active = -1;
  };
  const choose = (a) => {
    const parts = input.value.split(',');
    parts[parts.length - 1] = ` ${a.name ? `${a.name} <${a.email}>` : a.email}`;
    input.value = `${parts.join(',').trim()}, `;
    hide();
    input.focus();
    markDirty();
  };
  const show = (found) => {
    items = found.slice(0, 8);
    active = -1;
    list.replaceChildren(...items.map((a) => el('li', { onmousedown: (ev) => (ev.preventDefault(), choose(a)), text: a.name ? `${a.name} <${a.email}>` : a.email })));
    list.hidden = !items.length;
  };
  let lookup = null;
  input.addEventListener('focus', () => loadContacts().catch(() => {}));
  input.addEventListener('input', () => {
    const typed = input.value.split(',').pop().trim();
    const term = fold(typed);
    clearTimeout(lookup);
    if (term.length < 1) return hide();
    const known = [...state.contacts.values()].filter((a) => fold(`${a.name || ''} ${a.email}`).includes(term));
    show(known);
    if (term.length < 2 || !jmap.session?.capabilities?.[DIRECTORY]) return;
    lookup = setTimeout(async () => {
      const r = await jmap.call('Directory/query', { text: typed, limit: 8 }).catch(() => null);
      if (!r || fold(input.value.split(',').pop().trim()) !== term) return;  // typed on since
      const emails = new Set(known.map((a) => a.email.toLowerCase()));
      show(known.concat(r.list.filter((a) => !emails.has(a.email.toLowerCase()))));
    }, 200);
  });
  input.addEventListener('keydown', (ev) => {
    if (list.hidden) return;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      active = (active + (ev.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      [...list.children].forEach((li, i) => li.classList.toggle('active', i === active));
    } else if (ev.key === 'Enter' || ev.key === 'Tab') {
      if (active >= 0 || items.length === 1) {
        ev.preventDefault();
        choose(items[Math.max(active, 0)]);
      }
    } else if (ev.key === 'Escape') {
      ev.stopPropagation();
      hide();
    }
  });
  input.addEventListener('blur', () => setTimeout(hide, 100));
}

// ---------- vacation ----------

async function openVacation() {
  const r = await jmap.call('VacationResponse/get', { ids: ['singleton'] });
  const v = r.list[0] || {};
  $('v-enabled').checked = !!v.isEnabled;
  $('v-from').value = v.fromDate ? v.fromDate.slice(0, 10) : '';
  $('v-to').value = v.toDate ? v.toDate.slice(0, 10) : '';
  $('v-subject').value = v.subject || '';
  $('v-text').value = v.textBody || '';
  await loadIdentity();
  $('v-signature').value = state.identity?.textSignature || '';
  $('v-status').textContent = '';
  $('vacation').showModal();
}

async function saveVacation() {
  const day = (v, end) => (v ? `${v}T${end ? '23:59:59' : '00:00:00'}Z` : null);
  const r = await jmap.call('VacationResponse/set', {
    update: {
      singleton: {
        isEnabled: $('v-enabled').checked,
        fromDate: day($('v-from').value, false),
        toDate: day($('v-to').value, true),
        subject: $('v-subject').value || null,
        textBody: $('v-text').value || null,
      },
    },
  });
  if (r.notUpdated?.singleton) throw new JmapError(r.notUpdated.singleton.type, r.notUpdated.singleton.description);
  await saveSignature($('v-signature').value);
  $('v-status').textContent = t('saved');
}

async function saveSignature(text) {
  const id = state.identity?.id;
  if (!id || text === (state.identity.textSignature || '')) return;
  const r = await jmap.call('Identity/set', { update: { [id]: { textSignature: text } } });
  if (r.notUpdated?.[id]) throw new JmapError(r.notUpdated[id].type, r.notUpdated[id].description);
  state.identity.textSignature = text;
}

// ---------- keyboard ----------

function moveSelection(step) {
  if (!state.ids.length) return;
  const i = state.ids.indexOf(state.selected);
  const next = state.ids[Math.max(0, Math.min(state.ids.length - 1, i < 0 ? 0 : i + step))];
  openEmail(next).catch(fail);
  $('messages').querySelector(`[data-id="${CSS.escape(next)}"]`)?.scrollIntoView({ block: 'nearest' });
}

function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const tag = ev.target.tagName;
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || ev.target.isContentEditable) return;
  if (document.querySelector('dialog[open]')) return;
  if ($('app').hidden) return;
  const actions = {
    j: () => moveSelection(1),
    k: () => moveSelection(-1),
    c: () => compose('new'),
    r: () => compose('reply'),
    a: () => compose('replyAll'),
    f: () => compose('forward'),
    '#': () => state.selected && deleteEmails([state.selected]).catch(fail),
    '/': () => $('search').focus(),
    Escape: () => closeReader(),
  };
  const fn = actions[ev.key];
  if (fn) {
    ev.preventDefault();
    fn();
  }
}

// ---------- wiring ----------

function wire() {
  $('login-form').addEventListener('submit', onLogin);
  for (const b of document.querySelectorAll('.lang-switch'))
    b.addEventListener('click', () => {
      toggleLang();
      if (!$('app').hidden) {
        renderMailboxes();
        renderList();
        renderReader();
      }
    });
  $('logout').addEventListener('click', async () => {
    await jmap.logout();
    showLogin();
  });
  $('menu-button').addEventListener('click', () => document.body.classList.toggle('nav-open'));
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = $('search').value.trim();
    state.search = q;
    state.position = 0;
    if (!q) return openMailbox(state.mailboxId).catch(fail);
    renderMailboxes();
    loadList().catch(fail);
  });
  $('clear-search').addEventListener('click', () => openMailbox(state.mailboxId).catch(fail));
  $('newer').addEventListener('click', () => {
    state.position = Math.max(0, state.position - PAGE);
    loadList().catch(fail);
  });
  $('older').addEventListener('click', () => {
    state.position += PAGE;
    loadList().catch(fail);
  });
  $('compose-button').addEventListener('click', () => compose('new'));
  for (const id of ['c-to', 'c-cc', 'c-subject', 'c-body']) $(id).addEventListener('input', markDirty);
  $('c-from').addEventListener('change', () => {
    senderChanged(state.identities.find((i) => i.id === $('c-from').dataset.last));
    $('c-from').dataset.last = $('c-from').value;
  });
  setupSuggest($('c-to'));
  setupSuggest($('c-cc'));
  $('c-file').addEventListener('change', (ev) => {
    const files = [...ev.target.files];
    ev.target.value = '';
    attachFiles(files).catch((e) => ($('c-status').textContent = t('error', { msg: e.message })));
  });
  $('c-send').addEventListener('click', () => send().catch(fail));
  $('c-save').addEventListener('click', () => {
    draft.dirty = true;
    saveDraft().catch((e) => ($('c-status').textContent = t('error', { msg: e.message })));
  });
  $('c-discard').addEventListener('click', () => discard().catch(fail));
  $('compose').addEventListener('cancel', (ev) => {
    // Esc keeps what was typed as a draft rather than losing it.
    ev.preventDefault();
    saveDraft()
      .catch(() => {})
      .finally(() => $('compose').close());
  });
  $('vacation-button').addEventListener('click', () => openVacation().catch(fail));
  $('v-save').addEventListener('click', () => saveVacation().catch((e) => ($('v-status').textContent = t('error', { msg: e.message }))));
  $('v-close').addEventListener('click', () => $('vacation').close());
  $('preview-close').addEventListener('click', () => $('preview').close());
  document.addEventListener('keydown', onKey);
  const narrow = matchMedia('(max-width: 760px)');
  const setNarrow = () => document.body.classList.toggle('narrow', narrow.matches);
  narrow.addEventListener('change', setNarrow);
  setNarrow();
}

async function main() {
  applyText();
  wire();
  // Without a CSRF token from a login in this tab there is nothing to resume: the login form
  // shows at once, without a round trip (the first page on a slow line).
  if (!jmap.csrf) return showLogin();
  try {
    const session = await jmap.loadSession();
    if (session) await start();
    else showLogin();
  } catch (e) {
    showLogin(t('error', { msg: e.message }));
  }
}

main();
