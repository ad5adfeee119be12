// Turns a received message's HTML into a document for a sandboxed srcdoc frame. The message is
// parsed by DOMParser (an inert document: nothing in it runs or loads), then rebuilt from an
// allow-list of elements and attributes. Remote images (and CSS url()s) stay blocked unless the
// user asked for them; the frame also gets its own Content-Security-Policy that forbids every
// script and, while blocked, every remote load, so a gap in the allow-list still loads nothing.

const DROP = new Set([
  'script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'form', 'input', 'button',
  'textarea', 'select', 'option', 'noscript', 'template', 'svg', 'math', 'link', 'meta', 'base',
  'title', 'head', 'audio', 'video', 'source', 'track', 'canvas', 'portal', 'dialog',
]);
const KEEP = new Set([
  'a', 'abbr', 'address', 'b', 'bdi', 'bdo', 'big', 'blockquote', 'br', 'caption', 'center', 'cite',
  'code', 'col', 'colgroup', 'dd', 'del', 'details', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption',
  'figure', 'font', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'kbd', 'label',
  'li', 'mark', 'ol', 'p', 'pre', 'q', 's', 'samp', 'small', 'span', 'strike', 'strong', 'style',
  'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'tt', 'u', 'ul',
  'wbr', 'section', 'article', 'header', 'footer', 'main', 'nav', 'aside', 'time',
]);
const ATTRS = new Set([
  'href', 'src', 'alt', 'title', 'width', 'height', 'align', 'valign', 'bgcolor', 'color', 'face',
  'size', 'border', 'cellpadding', 'cellspacing', 'colspan', 'rowspan', 'style', 'dir', 'lang',
  'start', 'type', 'class', 'id', 'name', 'nowrap', 'span', 'abbr', 'scope', 'datetime',
]);

const REMOTE_URL = /url\(\s*(['"]?)\s*(?!data:|cid:|#)[^)]*\)/gi;

function safeHref(v) {
  const s = v.trim();
  return /^(https?:|mailto:|#)/i.test(s) ? s : null;
}

// cidUrls: {"<cid>": "data:..."} for inline parts; allowRemote: the user asked for images.
export function sanitizeHtml(html, { cidUrls = {}, allowRemote = false } = {}) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  let remoteCount = 0;

  const clean = (node) => {
    for (const child of [...node.childNodes]) {
      if (child.nodeType === Node.COMMENT_NODE) {
        child.remove();
        continue;
      }
      if (child.nodeType !== Node.ELEMENT_NODE) continue;
      const tag = child.localName;
      if (DROP.has(tag)) {
        child.remove();
        continue;
      }
      if (!KEEP.has(tag)) {
        clean(child);
        child.replaceWith(...child.childNodes);
        continue;
      }
      for (const attr of [...child.attributes]) {
        const name = attr.name.toLowerCase();
        if (!ATTRS.has(name)) {
          child.removeAttribute(attr.name);
          continue;
        }
        if (name === 'href') {
          const h = safeHref(attr.value);
          if (h) child.setAttribute('href', h);
          else child.removeAttribute(attr.name);
        } else if (name === 'src') {
          const v = attr.value.trim();
          if (/^cid:/i.test(v)) {
            const url = cidUrls[v.slice(4).replace(/^<|>$/g, '')];
            if (url) child.setAttribute('src', url);
            else child.removeAttribute('src');
          } else if (/^data:image\//i.test(v)) {
            /* inline image: keep */
          } else if (/^https?:/i.test(v) && tag === 'img') {
            remoteCount++;
            if (!allowRemote) {
              child.removeAttribute('src');
              child.setAttribute('alt', child.getAttribute('alt') || '[ảnh bị chặn]');
            }
          } else {
            child.removeAttribute('src');
          }
        } else if (name === 'style' && !allowRemote && REMOTE_URL.test(attr.value)) {
          remoteCount++;
          child.setAttribute('style', attr.value.replace(REMOTE_URL, 'none'));
        }
        REMOTE_URL.lastIndex = 0;
      }
      if (tag === 'a') {
        child.setAttribute('target', '_blank');
        child.setAttribute('rel', 'noopener noreferrer');
      }
      if (tag === 'style') {
        const css = child.textContent || '';
        if (/@import/i.test(css)) child.textContent = css.replace(/@import[^;]*;?/gi, '');
        if (!allowRemote && REMOTE_URL.test(child.textContent)) {
          remoteCount++;
          child.textContent = child.textContent.replace(REMOTE_URL, 'none');
        }
        REMOTE_URL.lastIndex = 0;
        continue;
      }
      clean(child);
    }
  };
  const styles = [...doc.head.querySelectorAll('style')];
  clean(doc.body);
  const styleText = styles.map((s) => s.textContent.replace(/@import[^;]*;?/gi, '')).join('\n');
  const safeStyle = allowRemote ? styleText : styleText.replace(REMOTE_URL, 'none');

  const img = allowRemote ? "img-src data: https: http:" : 'img-src data:';
  const policy = `default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; ${img}; font-src data:`;
  const srcdoc =
    `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${policy}">` +
    `<style>body{font:16px/1.5 system-ui,sans-serif;margin:12px;color:#111;word-wrap:break-word}` +
    `img{max-width:100%;height:auto}pre{white-space:pre-wrap}</style>` +
    `<style>${safeStyle.replace(/<\//g, '<\\/')}</style></head><body>${doc.body.innerHTML}</body></html>`;
  return { srcdoc, remoteCount };
}

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// A plain-text body as a srcdoc: escaped, links made clickable, quotes greyed.
export function textToSrcdoc(text) {
  const lines = escapeHtml(text)
    .split('\n')
    .map((l) => (l.startsWith('&gt;') ? `<span class="q">${l}</span>` : l))
    .join('\n')
    .replace(/\bhttps?:\/\/[^\s<]+/g, (u) => `<a href="${u}" target="_blank" rel="noopener noreferrer">${u}</a>`);
  const policy = "default-src 'none'; style-src 'unsafe-inline'";
  return (
    `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${policy}">` +
    `<style>body{font:16px/1.5 system-ui,sans-serif;margin:12px;color:#111}` +
    `pre{white-space:pre-wrap;word-wrap:break-word;font:inherit;margin:0}.q{color:#666}</style>` +
    `</head><body><pre>${lines}</pre></body></html>`
  );
}
