// A small JMAP client (RFC 8620 core, RFC 8621 mail) for the browser: login by cookie, the
// session resource, method batches with result references, blobs, and push over EventSource.
// Every request after login carries the CSRF token the login answer gave; the cookie itself is
// HttpOnly and never seen here.

export const CORE = 'urn:ietf:params:jmap:core';
export const MAIL = 'urn:ietf:params:jmap:mail';
export const SUBMISSION = 'urn:ietf:params:jmap:submission';
export const VACATION = 'urn:ietf:params:jmap:vacationresponse';
export const DIRECTORY = 'urn:govmail:params:jmap:directory';
const USING = [CORE, MAIL, SUBMISSION, VACATION, DIRECTORY];

const CSRF_KEY = 'govmail.csrf';
const CSRF_HEADER = 'X-CSRF-Token';

export class JmapError extends Error {
  constructor(type, description, status) {
    super(description || type);
    this.type = type;
    this.status = status;
  }
}

export class Jmap {
  constructor() {
    this.session = null;
    this.accountId = null;
    this.csrf = sessionStorage.getItem(CSRF_KEY) || '';
  }

  headers(extra = {}) {
    const h = { Accept: 'application/json', ...extra };
    if (this.csrf) h[CSRF_HEADER] = this.csrf;
    return h;
  }

  // POST /jmap/login: the server sets the session cookie and answers with the CSRF token.
  async login(username, password) {
    const res = await fetch('/jmap/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    let body = {};
    try {
      body = await res.json();
    } catch {
      body = {};
    }
    if (!res.ok) throw new JmapError(body.type || 'login', body.detail || body.error, res.status);
    this.csrf = body.csrfToken || body.csrf_token || body.csrf || res.headers.get(CSRF_HEADER) || '';
    sessionStorage.setItem(CSRF_KEY, this.csrf);
    return this.loadSession();
  }

  async logout() {
    try {
      await fetch('/jmap/logout', { method: 'POST', credentials: 'same-origin', headers: this.headers() });
    } finally {
      this.csrf = '';
      sessionStorage.removeItem(CSRF_KEY);
      this.session = null;
    }
  }

  // The session resource; null when not logged in (401).
  async loadSession() {
    const res = await fetch('/.well-known/jmap', { credentials: 'same-origin', headers: this.headers() });
    if (res.status === 401 || res.status === 403) return null;
    if (!res.ok) throw new JmapError('session', `HTTP ${res.status}`, res.status);
    this.session = await res.json();
    this.accountId =
      this.session.primaryAccounts?.[MAIL] || Object.keys(this.session.accounts || {})[0] || null;
    return this.session;
  }

  get username() {
    return this.session?.username || '';
  }

  // One request of several method calls: [[name, args, id], ...] -> {id: args} (errors thrown
  // per call as JmapError only when the caller asks for that call's result).
  async batch(calls) {
    const methodCalls = calls.map(([name, args, id], i) => [
      name,
      { accountId: this.accountId, ...args },
      id || `c${i}`,
    ]);
    const res = await fetch(this.session?.apiUrl || '/jmap/api', {
      method: 'POST',
      credentials: 'same-origin',
      headers: this.headers({ 'Content-Type': 'application/json' }),
      // Only what the server offers: an unknown capability fails the whole request.
      body: JSON.stringify({ using: USING.filter((c) => !this.session?.capabilities || c in this.session.capabilities), methodCalls }),
    });
    if (res.status === 401) throw new JmapError('unauthorized', 'session expired', 401);
    if (!res.ok) {
      let detail = `HTTP ${res.status}`;
      try {
        const p = await res.json();
        detail = p.detail || p.type || p.error || detail;
      } catch {
        /* not JSON */
      }
      throw new JmapError('request', detail, res.status);
    }
    const body = await res.json();
    if (body.sessionState && this.session && body.sessionState !== this.session.state) {
      this.session.state = body.sessionState;
    }
    const out = {};
    for (const [name, args, id] of body.methodResponses || []) {
      if (name === 'error') out[id] = new JmapError(args.type, args.description);
      else if (!(id in out)) out[id] = args;
      else out[`${id}:${name}`] = args; // implicit responses (Email/copy -> Email/set)
    }
    return out;
  }

  // A single call; throws its method error.
  async call(name, args) {
    const r = await this.batch([[name, args, 'x']]);
    if (r.x instanceof Error) throw r.x;
    return r.x;
  }

  downloadUrl(blobId, name, type) {
    const tpl = this.session?.downloadUrl || '/jmap/download/{accountId}/{blobId}/{name}?accept={type}';
    return tpl
      .replace('{accountId}', encodeURIComponent(this.accountId))
      .replace('{blobId}', encodeURIComponent(blobId))
      .replace('{name}', encodeURIComponent(name || 'tep'))
      .replace('{type}', encodeURIComponent(type || 'application/octet-stream'));
  }

  async download(blobId, name, type) {
    const res = await fetch(this.downloadUrl(blobId, name, type), {
      credentials: 'same-origin',
      headers: this.headers(),
    });
    if (!res.ok) throw new JmapError('download', `HTTP ${res.status}`, res.status);
    return res.blob();
  }

  async upload(file) {
    const tpl = this.session?.uploadUrl || '/jmap/upload/{accountId}/';
    const res = await fetch(tpl.replace('{accountId}', encodeURIComponent(this.accountId)), {
      method: 'POST',
      credentials: 'same-origin',
      headers: this.headers({ 'Content-Type': file.type || 'application/octet-stream' }),
      body: file,
    });
    if (!res.ok) throw new JmapError('upload', `HTTP ${res.status}`, res.status);
    return res.json(); // {accountId, blobId, type, size}
  }

  // Push (RFC 8620 7.3): calls onChange(StateChange) for every "state" event. EventSource
  // cannot send headers, so the CSRF token is not needed here (a GET that changes nothing).
  subscribe(onChange) {
    const tpl = this.session?.eventSourceUrl;
    if (!tpl || typeof EventSource === 'undefined') return null;
    const url = tpl
      .replace('{types}', '*')
      .replace('{closeafter}', 'no')
      .replace('{ping}', '30');
    const es = new EventSource(url, { withCredentials: true });
    es.addEventListener('state', (ev) => {
      try {
        onChange(JSON.parse(ev.data));
      } catch {
        /* a malformed event is ignored; the next one brings the state again */
      }
    });
    return es;
  }
}
