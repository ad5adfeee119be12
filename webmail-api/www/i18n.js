// Interface text: Vietnamese by default, English on request (kept in localStorage).
// Elements carry data-t="key" (text), data-t-placeholder / data-t-title / data-t-aria (attributes).

const TEXT = {
  vi: {
    appName: 'Thư điện tử',
    loginTitle: 'Đăng nhập hộp thư',
    username: 'Địa chỉ thư (tên đăng nhập)',
    password: 'Mật khẩu',
    login: 'Đăng nhập',
    loginFailed: 'Sai tên đăng nhập hoặc mật khẩu.',
    loginBusy: 'Đang đăng nhập…',
    loginLocked: 'Đăng nhập sai quá nhiều lần. Hãy chờ vài phút rồi thử lại.',
    logout: 'Đăng xuất',
    compose: 'Soạn thư mới',
    search: 'Tìm thư (có thể gõ không dấu)',
    searchButton: 'Tìm',
    searchResults: 'Kết quả tìm kiếm',
    clearSearch: 'Bỏ tìm kiếm',
    folders: 'Các hộp thư',
    inbox: 'Hộp thư đến',
    sent: 'Thư đã gửi',
    drafts: 'Thư nháp',
    trash: 'Thùng rác',
    junk: 'Thư rác',
    archive: 'Lưu trữ',
    unread: 'chưa đọc',
    loading: 'Đang tải…',
    empty: 'Không có thư nào.',
    noSubject: '(không có tiêu đề)',
    older: 'Trang sau ›',
    newer: '‹ Trang trước',
    pageOf: 'Thư {from}–{to} trong {total}',
    selectMessage: 'Chọn một thư ở danh sách để đọc.',
    from: 'Người gửi',
    to: 'Gửi đến',
    cc: 'Đồng gửi (Cc)',
    bcc: 'Gửi ẩn (Bcc)',
    subject: 'Tiêu đề',
    date: 'Ngày',
    body: 'Nội dung thư',
    reply: 'Trả lời',
    replyAll: 'Trả lời tất cả',
    forward: 'Chuyển tiếp',
    delete: 'Xoá',
    deleteForever: 'Xoá hẳn thư này?',
    flag: 'Gắn cờ',
    unflag: 'Bỏ cờ',
    markUnread: 'Đánh dấu chưa đọc',
    markRead: 'Đánh dấu đã đọc',
    moveTo: 'Chuyển vào hộp thư…',
    back: '‹ Quay lại',
    attachments: 'Tệp đính kèm',
    attachmentBadge: 'Có tệp',
    download: 'Tải về',
    preview: 'Xem',
    close: 'Đóng',
    remoteBlocked: 'Ảnh từ Internet trong thư này đã bị chặn để bảo vệ bạn.',
    showImages: 'Hiện ảnh',
    send: 'Gửi thư',
    sending: 'Đang gửi…',
    sent_ok: 'Đã gửi thư.',
    saveDraft: 'Lưu nháp',
    draftSaved: 'Đã lưu nháp lúc {time}',
    discard: 'Huỷ bỏ',
    attach: 'Đính kèm tệp',
    uploading: 'Đang tải tệp lên…',
    newMessage: 'Thư mới',
    newMail: 'Có thư mới.',
    needRecipient: 'Hãy nhập ít nhất một người nhận.',
    badAddress: 'Địa chỉ không hợp lệ: {addr}',
    error: 'Có lỗi: {msg}',
    vacation: 'Trả lời tự động khi vắng mặt',
    vacationShort: 'Vắng mặt',
    vacationOn: 'Bật trả lời tự động',
    vacationFrom: 'Từ ngày',
    vacationTo: 'Đến ngày',
    vacationSubject: 'Tiêu đề thư trả lời',
    vacationText: 'Nội dung thư trả lời',
    signature: 'Chữ ký (thêm vào cuối thư mới)',
    save: 'Lưu',
    saved: 'Đã lưu.',
    language: 'English',
    me: 'tôi',
    shortcuts: 'Phím tắt: j/k thư sau/trước · c soạn thư · r trả lời · a trả lời tất cả · f chuyển tiếp · # xoá · / tìm',
    wrote: 'Vào {date}, {who} đã viết:',
    forwarded: '---------- Thư chuyển tiếp ----------',
    menu: 'Hộp thư',
  },
  en: {
    appName: 'Mail',
    loginTitle: 'Sign in to your mailbox',
    username: 'Email address (user name)',
    password: 'Password',
    login: 'Sign in',
    loginFailed: 'Wrong user name or password.',
    loginBusy: 'Signing in…',
    loginLocked: 'Too many failed sign-ins. Wait a few minutes and try again.',
    logout: 'Sign out',
    compose: 'New message',
    search: 'Search mail',
    searchButton: 'Search',
    searchResults: 'Search results',
    clearSearch: 'Clear search',
    folders: 'Folders',
    inbox: 'Inbox',
    sent: 'Sent',
    drafts: 'Drafts',
    trash: 'Trash',
    junk: 'Junk',
    archive: 'Archive',
    unread: 'unread',
    loading: 'Loading…',
    empty: 'No messages.',
    noSubject: '(no subject)',
    older: 'Older ›',
    newer: '‹ Newer',
    pageOf: '{from}–{to} of {total}',
    selectMessage: 'Choose a message from the list to read it.',
    from: 'From',
    to: 'To',
    cc: 'Cc',
    bcc: 'Bcc',
    subject: 'Subject',
    date: 'Date',
    body: 'Message',
    reply: 'Reply',
    replyAll: 'Reply all',
    forward: 'Forward',
    delete: 'Delete',
    deleteForever: 'Delete this message for good?',
    flag: 'Flag',
    unflag: 'Unflag',
    markUnread: 'Mark unread',
    markRead: 'Mark read',
    moveTo: 'Move to…',
    back: '‹ Back',
    attachments: 'Attachments',
    attachmentBadge: 'File',
    download: 'Download',
    preview: 'View',
    close: 'Close',
    remoteBlocked: 'Images from the Internet in this message were blocked to protect you.',
    showImages: 'Show images',
    send: 'Send',
    sending: 'Sending…',
    sent_ok: 'Message sent.',
    saveDraft: 'Save draft',
    draftSaved: 'Draft saved at {time}',
    discard: 'Discard',
    attach: 'Attach file',
    uploading: 'Uploading…',
    newMessage: 'New message',
    newMail: 'New mail.',
    needRecipient: 'Enter at least one recipient.',
    badAddress: 'Not a valid address: {addr}',
    error: 'Error: {msg}',
    vacation: 'Automatic reply while away',
    vacationShort: 'Away',
    vacationOn: 'Send automatic replies',
    vacationFrom: 'From',
    vacationTo: 'Until',
    vacationSubject: 'Reply subject',
    vacationText: 'Reply text',
    signature: 'Signature (added to new messages)',
    save: 'Save',
    saved: 'Saved.',
    language: 'Tiếng Việt',
    me: 'me',
    shortcuts: 'Shortcuts: j/k next/previous · c compose · r reply · a reply all · f forward · # delete · / search',
    wrote: 'On {date}, {who} wrote:',
    forwarded: '---------- Forwarded message ----------',
    menu: 'Folders',
  },
};

let lang = localStorage.getItem('govmail.lang') === 'en' ? 'en' : 'vi';

export function currentLang() {
  return lang;
}

export function t(key, vars = {}) {
  const s = TEXT[lang][key] ?? TEXT.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

export function applyText(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll('[data-t-placeholder]')) el.placeholder = t(el.dataset.tPlaceholder);
  for (const el of root.querySelectorAll('[data-t-title]')) el.title = t(el.dataset.tTitle);
  for (const el of root.querySelectorAll('[data-t-aria]')) el.setAttribute('aria-label', t(el.dataset.tAria));
}

export function toggleLang() {
  lang = lang === 'vi' ? 'en' : 'vi';
  localStorage.setItem('govmail.lang', lang);
  applyText();
}

export function formatDate(iso, full = false) {
  if (!iso) return '';
  const d = new Date(iso);
  const locale = lang === 'vi' ? 'vi-VN' : 'en-GB';
  const today = new Date();
  if (!full && d.toDateString() === today.toDateString()) {
    return d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  }
  return full
    ? d.toLocaleString(locale, { dateStyle: 'full', timeStyle: 'short' })
    : d.toLocaleDateString(locale, { day: '2-digit', month: '2-digit', year: 'numeric' });
}

export function formatSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
