/* Frontline web chat widget: protocol version 1 (docs/realtime.md), embedding guide in
 * docs/widget.md. One file, plain ES2020, no dependencies, no build step.
 *
 * Safety: every piece of text from the server or the visitor is put into the page with
 * textContent / text nodes; the only markup built from data is an <a> for an http(s) URL,
 * made with createElement. The widget lives in a Shadow DOM, so the host page's CSS does not
 * reach it and its CSS does not reach the page. */
(() => {
  'use strict';
  if (window.Frontline && window.Frontline.version) return; // loaded twice

  const script = document.currentScript ||
    [...document.getElementsByTagName('script')].reverse()
      .find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src || ''));
  if (!script || !script.src) return;
  const ds = script.dataset;
  const KEY = (ds.key || '').trim();
  if (!KEY) { console.error('Frontline widget: the data-key attribute is required'); return; }

  const SRC = new URL(script.src, location.href);
  const PATH = SRC.pathname.replace(/\/(?:static\/)?widget\.js$/, '');
  const BASE = SRC.origin + PATH;
  const WS_URL = (SRC.protocol === 'https:' ? 'wss://' : 'ws://') + SRC.host + PATH + '/ws/widget';
  const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
  const LANGS = ['ru', 'en'];
  const attr = {
    language: LANGS.includes((ds.language || '').toLowerCase()) ? ds.language.toLowerCase() : null,
    color: HEX.test((ds.color || '').trim()) ? ds.color.trim() : null,
    position: ['left', 'right'].includes(ds.position) ? ds.position : null,
    open: ds.open === 'true' || ds.open === '',
  };
  const NAV_LANG = /^ru\b/i.test(navigator.language || '') ? 'ru' : 'en';
  // a signed-in user of the host site: data-user-id with data-user-hash (HMAC-SHA256 of the
  // id with the channel's identity secret, computed by the host's backend), optional details
  const parseAttributes = (raw) => {
    if (!raw) return null;
    try { const v = JSON.parse(raw); return v && typeof v === 'object' && !Array.isArray(v) ? v : null; } catch (e) {
      console.error('Frontline widget: data-user-attributes must be a JSON object'); return null;
    }
  };
  const USER = (ds.userId || '').trim() ? {
    user_id: ds.userId.trim(), user_hash: (ds.userHash || '').trim(),
    name: ds.userName || null, email: ds.userEmail || null, phone: ds.userPhone || null,
    attributes: parseAttributes(ds.userAttributes),
  } : null;

  const STR = {
    en: {
      title: 'Support', launcher: 'Chat with us', unread: '{n} new', close: 'Close chat',
      label: 'Your message', placeholder: 'Type a message…', send: 'Send',
      human: 'Talk to a person', you: 'You', ai: 'AI assistant', operator: 'Operator',
      waiting: 'Waiting for an operator. You will be answered here.',
      joined: 'An operator has joined the conversation.',
      resolved: 'The conversation is resolved. Write to us if you need anything else.',
      offline: 'No operators are online right now. Leave your e-mail and we will reply.',
      email: 'Your e-mail', save: 'Send', badEmail: 'Please enter a valid e-mail address.',
      emailThanks: 'Thank you! We will reply by e-mail.',
      rate: 'How would you rate the conversation?', star: '{n} of 5',
      comment: 'Comment (optional)', submit: 'Send rating', thanks: 'Thank you for your rating!',
      typing: '{name} is typing…', aiTyping: 'AI is writing…',
      lost: 'Connection lost. Reconnecting…', unavailable: 'The chat is unavailable right now.',
      rateLimited: 'Too many messages. Try again in {s} s.',
      tooLong: 'The message is too long (at most {n} characters).',
      error: 'Something went wrong. Please try again.', sending: 'Sending…',
      failed: 'Not sent.', retry: 'Retry', describe: 'Describe your question and we will pass it to an operator.',
      attach: 'Attach a file', remove: 'Remove {name}', uploading: 'Uploading {name}…',
      uploadFailed: 'Could not upload {name}.', fileTooBig: 'The file is too large (at most {n} MB).',
      tooManyFiles: 'At most {n} files in one message.', filePending: '{name}: loading…',
      fileFailed: '{name}: not received', openFile: 'Open {name}', waitUpload: 'Wait until the files are uploaded.',
    },
    ru: {
      title: 'Поддержка', launcher: 'Чат с поддержкой', unread: 'новых: {n}', close: 'Закрыть чат',
      label: 'Ваше сообщение', placeholder: 'Напишите сообщение…', send: 'Отправить',
      human: 'Позвать оператора', you: 'Вы', ai: 'ИИ-ассистент', operator: 'Оператор',
      waiting: 'Ждём оператора. Ответ придёт сюда.',
      joined: 'Оператор подключился к разговору.',
      resolved: 'Вопрос решён. Напишите, если нужно что-то ещё.',
      offline: 'Сейчас нет операторов в сети. Оставьте e-mail, и мы ответим.',
      email: 'Ваш e-mail', save: 'Отправить', badEmail: 'Введите правильный адрес e-mail.',
      emailThanks: 'Спасибо! Мы ответим на e-mail.',
      rate: 'Оцените, пожалуйста, разговор', star: '{n} из 5',
      comment: 'Комментарий (необязательно)', submit: 'Отправить оценку', thanks: 'Спасибо за оценку!',
      typing: '{name} печатает…', aiTyping: 'ИИ пишет ответ…',
      lost: 'Нет связи. Переподключаемся…', unavailable: 'Чат сейчас недоступен.',
      rateLimited: 'Слишком много сообщений. Попробуйте через {s} с.',
      tooLong: 'Сообщение слишком длинное (не больше {n} символов).',
      error: 'Что-то пошло не так. Попробуйте ещё раз.', sending: 'Отправляется…',
      failed: 'Не отправлено.', retry: 'Повторить', describe: 'Опишите вопрос, и мы передадим его оператору.',
      attach: 'Прикрепить файл', remove: 'Убрать {name}', uploading: 'Загружаем {name}…',
      uploadFailed: 'Не удалось загрузить {name}.', fileTooBig: 'Файл слишком большой (не больше {n} МБ).',
      tooManyFiles: 'Не больше {n} файлов в одном сообщении.', filePending: '{name}: загружается…',
      fileFailed: '{name}: не получен', openFile: 'Открыть {name}', waitUpload: 'Дождитесь загрузки файлов.',
    },
  };
  let lang = attr.language || NAV_LANG;
  const t = (k, p) => (STR[lang][k] || k).replace(/\{(\w+)\}/g, (_, n) => String(p && p[n]));

  // storage that survives a browser refusing it (private mode, sandboxed frames)
  const mem = {};
  const area = (n) => { try { const s = window[n]; s.setItem('fl:t', '1'); s.removeItem('fl:t'); return s; } catch (e) { return null; } };
  const LS = area('localStorage'), SS = area('sessionStorage');
  const K = (s) => 'frontline:' + KEY + ':' + s;
  const load = (s, k) => { try { return s ? s.getItem(k) : (k in mem ? mem[k] : null); } catch (e) { return null; } };
  const save = (s, k, v) => { try { if (!s) mem[k] = v; else if (v == null) s.removeItem(k); else s.setItem(k, v); } catch (e) { /* full */ } };

  // ---- DOM helpers (text only, never markup from data) ----
  const h = (tag, props, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids) if (kid != null) el.append(kid);
    return el;
  };
  const NS = 'http://www.w3.org/2000/svg';
  const icon = (d) => {
    const s = document.createElementNS(NS, 'svg'), p = document.createElementNS(NS, 'path');
    s.setAttribute('viewBox', '0 0 24 24'); s.setAttribute('aria-hidden', 'true'); s.setAttribute('focusable', 'false');
    p.setAttribute('d', d); s.append(p); return s;
  };
  const labels = []; // [element, attribute or 'text', string key, params] re-applied on a language change
  const L = (el, at, k, p) => { labels.push([el, at, k, p]); return el; };
  const relabel = () => {
    for (const [el, at, k, p] of labels) { if (at === 'text') el.textContent = t(k, p); else el.setAttribute(at, t(k, p)); }
  };
  const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  const fillText = (el, text) => { // http(s) links become <a>, everything else is a text node
    el.textContent = '';
    let at = 0;
    for (const m of String(text).matchAll(URL_RE)) {
      const url = m[0].replace(/[.,;:!?)\]}»"]+$/, '');
      let href = null;
      try { const u = new URL(url); if (u.protocol === 'http:' || u.protocol === 'https:') href = u.href; } catch (e) { /* text */ }
      el.append(text.slice(at, m.index), href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow', text: url }) : url);
      at = m.index + url.length;
    }
    el.append(String(text).slice(at));
  };
  const clock = (iso) => {
    const d = iso ? new Date(iso) : new Date();
    return isNaN(d) ? '' : d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
  };
  const newId = () => (crypto.randomUUID ? crypto.randomUUID()
    : 'c-' + Date.now().toString(36) + '-' + Array.from(crypto.getRandomValues(new Uint32Array(3)), (n) => n.toString(36)).join(''));
  const textColor = (hex) => {
    let x = hex.slice(1); if (x.length === 3) x = [...x].map((c) => c + c).join('');
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(x.substr(i, 2), 16) / 255)
      .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 ? '#111827' : '#ffffff';
  };

  const CSS = `
:host{all:initial!important;display:block!important;position:static!important;visibility:visible!important}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.fl{--a:#2563eb;--on:#fff;-webkit-tap-highlight-color:transparent;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#111827;text-align:left;letter-spacing:normal;text-transform:none}
button,textarea,input{font:inherit;letter-spacing:inherit;margin:0}
button{cursor:pointer}
:focus-visible{outline:2px solid #111827;outline-offset:2px;box-shadow:0 0 0 4px #fff}
.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;padding:0;background:var(--a);color:var(--on);box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}
.left .launcher{right:auto;left:20px}
.launcher svg{width:28px;height:28px;fill:currentColor}
.badge{position:absolute;top:-3px;right:-3px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#dc2626;color:#fff;font-size:12px;font-weight:600;line-height:20px;text-align:center}
.panel{position:fixed;bottom:88px;right:20px;z-index:2147483001;width:370px;max-width:calc(100vw - 40px);height:600px;max-height:calc(100vh - 108px);background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}
.left .panel{right:auto;left:20px}
@media (max-width:480px){.panel{top:0;left:0!important;right:0;bottom:0;width:auto;max-width:none;height:auto;max-height:none;border-radius:0}.field{font-size:16px}}
.head{background:var(--a);color:var(--on);padding:10px 10px 10px 16px;display:flex;align-items:center;gap:8px}
h2{margin:0;font-size:16px;font-weight:600;flex:1;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:inherit}
.x{background:transparent;border:0;color:inherit;width:34px;height:34px;border-radius:8px;padding:0;display:flex;align-items:center;justify-content:center}
.x svg{width:20px;height:20px;fill:currentColor}
.banner{padding:8px 16px;font-size:13px;border-bottom:1px solid #fde68a;background:#fef3c7;color:#713f12}
.banner.ok{background:#dcfce7;color:#14532d;border-color:#bbf7d0}
.banner.info{background:#e0e7ff;color:#1e3a8a;border-color:#c7d2fe}
.banner.bad{background:#fee2e2;color:#7f1d1d;border-color:#fecaca}
.scroll{flex:1;overflow-y:auto;padding:12px;background:#f9fafb;display:flex;flex-direction:column;gap:8px}
.log{display:flex;flex-direction:column;gap:8px}
.msg{max-width:85%;padding:8px 11px;border-radius:12px;background:#fff;color:#111827;border:1px solid #e5e7eb;white-space:pre-wrap;overflow-wrap:anywhere;align-self:flex-start}
.msg.contact{align-self:flex-end;background:var(--a);color:var(--on);border-color:transparent}
.msg.system{align-self:center;background:transparent;border:0;color:#4b5563;font-size:12px;text-align:center}
.msg.pending{opacity:.75}
.msg.failed{border:2px solid #dc2626}
.msg a{color:inherit;text-decoration:underline}
.who{display:block;font-size:11px;font-weight:600;color:#4b5563;margin-bottom:2px}
.meta{display:block;font-size:11px;opacity:.75;margin-top:2px;text-align:right}
.meta button{background:none;border:0;padding:0 0 0 6px;color:inherit;text-decoration:underline;font-size:11px}
.sr{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;margin:-1px;padding:0;border:0}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:10px 12px;display:flex;flex-direction:column;gap:8px}
.card p{margin:0}
.row{display:flex;gap:6px}
.stars{display:flex;gap:2px}
.stars button{background:none;border:0;padding:0 2px;font-size:26px;line-height:1;color:#9ca3af}
.stars button.on{color:#d97706}
.field{width:100%;border:1px solid #9ca3af;border-radius:8px;padding:8px 10px;background:#fff;color:#111827;resize:none}
.btn{border:0;border-radius:8px;padding:8px 12px;background:var(--a);color:var(--on);white-space:nowrap}
.btn:disabled{opacity:.5;cursor:default}
.status{min-height:18px;padding:2px 16px 0;font-size:12px;color:#4b5563;font-style:italic}
.err{margin:0 10px;padding:6px 10px;border-radius:8px;font-size:13px;background:#fef2f2;color:#991b1b}
.err.note{background:#eff6ff;color:#1e3a8a}
.composer{display:flex;gap:8px;padding:8px 10px;align-items:flex-end;background:#fff}
.composer textarea{flex:1;min-height:40px;max-height:120px}
.send{flex:none;width:40px;height:40px;border-radius:8px;border:0;padding:0;background:var(--a);color:var(--on);display:flex;align-items:center;justify-content:center}
.send svg{width:20px;height:20px;fill:currentColor}
.foot{padding:0 10px 8px;background:#fff;display:flex}
.files{display:flex;flex-direction:column;gap:4px;margin-top:4px;white-space:normal}
.files a{color:inherit}
.thumb{display:block;max-width:220px;max-height:180px;border-radius:8px;background:#fff}
.file{display:inline-block;padding:3px 8px;border-radius:8px;background:rgba(0,0,0,.06);text-decoration:underline;overflow-wrap:anywhere}
.file.off{text-decoration:none;font-style:italic;opacity:.8}
.clip{flex:none;width:40px;height:40px;border-radius:8px;border:1px solid #d1d5db;padding:0;background:#fff;color:#374151;display:flex;align-items:center;justify-content:center}
.clip svg{width:20px;height:20px;fill:currentColor}
.tray{display:flex;flex-wrap:wrap;gap:6px;padding:4px 10px 0;background:#fff}
.chip{display:flex;align-items:center;gap:4px;max-width:100%;padding:2px 4px 2px 8px;border-radius:12px;background:#f3f4f6;font-size:12px}
.chip span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:200px}
.chip button{background:none;border:0;padding:0 4px;font-size:14px;line-height:1;color:#374151}
.human{background:none;border:0;padding:4px 2px;color:#1f2937;text-decoration:underline;font-size:13px}
@media (prefers-reduced-motion:no-preference){.panel{animation:fl-in .15s ease-out}@keyframes fl-in{from{opacity:0;transform:translateY(8px)}}}
`;

  // ---- the UI ----
  const host = h('div', { id: 'frontline-widget' });
  const root = host.attachShadow({ mode: 'open' });
  const badge = h('span', { class: 'badge', hidden: true, 'aria-hidden': 'true' });
  const launcher = h('button', { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'fl-panel' }, icon('M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z'), badge);
  const title = h('h2', { id: 'fl-title' });
  const closeBtn = L(h('button', { type: 'button', class: 'x' }, icon('M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z')), 'aria-label', 'close');
  const banner = h('div', { class: 'banner', role: 'status', hidden: true });
  const greeting = h('div', { class: 'msg ai greeting', hidden: true });
  const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const extras = h('div', { class: 'extras' });
  const scroller = h('div', { class: 'scroll' }, greeting, log, extras);
  const status = h('div', { class: 'status', role: 'status' });
  const err = h('div', { class: 'err', role: 'alert', hidden: true });
  const input = L(h('textarea', { id: 'fl-input', class: 'field', rows: 1, maxlength: 20000 }), 'placeholder', 'placeholder');
  const sendBtn = L(L(h('button', { type: 'button', class: 'send' }, icon('M2.01 21 23 12 2.01 3 2 10l15 2-15 2z')), 'aria-label', 'send'), 'title', 'send');
  const humanBtn = L(h('button', { type: 'button', class: 'human' }), 'text', 'human');
  const fileInput = h('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1', 'aria-hidden': 'true' });
  const clipBtn = L(L(h('button', { type: 'button', class: 'clip' }, icon('M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z')), 'aria-label', 'attach'), 'title', 'attach');
  const tray = h('div', { class: 'tray', hidden: true });
  const panel = h('div', { id: 'fl-panel', class: 'panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'fl-title', hidden: true },
    h('div', { class: 'head' }, title, closeBtn), banner, scroller, status, err,
    tray, h('div', { class: 'composer' }, L(h('label', { class: 'sr', for: 'fl-input' }), 'text', 'label'), clipBtn, fileInput, input, sendBtn),
    h('div', { class: 'foot' }, humanBtn));
  const wrap = h('div', { class: 'fl' }, launcher, panel);
  // a constructed style sheet is CSSOM, which a page's Content-Security-Policy does not
  // block (an inline <style> needs style-src 'unsafe-inline'); <style> for old browsers
  if ('adoptedStyleSheets' in root && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); root.adoptedStyleSheets = [sheet];
  } else root.append(h('style', { text: CSS }));
  root.append(wrap);

  // offline e-mail card
  const emailInput = L(h('input', { id: 'fl-email', class: 'field', type: 'email', autocomplete: 'email', required: true }), 'placeholder', 'email');
  const emailBtn = L(h('button', { type: 'submit', class: 'btn' }), 'text', 'save');
  const emailForm = h('form', { class: 'row', novalidate: true }, emailInput, emailBtn);
  const emailCard = h('div', { class: 'card email', hidden: true },
    L(h('p', {}), 'text', 'offline'), L(h('label', { class: 'sr', for: 'fl-email' }), 'text', 'email'), emailForm,
    L(h('p', { hidden: true }), 'text', 'emailThanks'));
  // rating card
  const stars = [1, 2, 3, 4, 5].map((n) => L(h('button', { type: 'button', 'aria-pressed': 'false', text: '★' }), 'aria-label', 'star', { n }));
  const comment = L(h('textarea', { class: 'field', rows: 2, maxlength: 1000 }), 'aria-label', 'comment');
  L(comment, 'placeholder', 'comment');
  const rateBtn = L(h('button', { type: 'submit', class: 'btn', disabled: true }), 'text', 'submit');
  const rateForm = h('form', { class: 'card', novalidate: true },
    L(h('p', { id: 'fl-rate' }), 'text', 'rate'), h('div', { class: 'stars', role: 'group', 'aria-labelledby': 'fl-rate' }, ...stars),
    comment, h('div', {}, rateBtn));
  const rateThanks = L(h('p', { class: 'card', hidden: true }), 'text', 'thanks');
  const rateCard = h('div', { class: 'rating', hidden: true }, rateForm, rateThanks);
  extras.append(emailCard, rateCard);

  // ---- state ----
  let session = null, token = load(LS, K('token')), visitorId = null, convId = null;
  let ws = null, helloed = false, connecting = false, started = false, fatal = false, wasUp = false;
  let attempt = 0, retryTimer = 0, lastSeen = 0, lastSent = 0, heartbeat = 25, lastId = null;
  let state = 'bot', online = true, isOpen = false, unread = 0, wantHandoff = false, rating = 0;
  let maxFiles = 10, maxFileBytes = 20 * 1024 * 1024, staged = [], uploads = 0;
  let maxChars = 4000, aiTyping = false, opTyping = null, aiTimer = 0, opTimer = 0, errTimer = 0;
  let typingSentAt = 0, typingTimer = 0, sessionCall = null, awaiting = null;
  const sentAt = new Map(); // client_id -> when message.send went out on this socket
  const byId = new Map(), pending = new Map(), streams = new Map(), doneStreams = new Set();
  let outbox = [];
  const validItem = (o) => o && typeof o.client_id === 'string' && typeof o.text === 'string' &&
    (o.attachments == null || (Array.isArray(o.attachments) && o.attachments.every((n) => Number.isInteger(n))));
  try { outbox = (JSON.parse(load(SS, K('outbox'))) || []).filter(validItem); } catch (e) { outbox = []; }
  const saveOutbox = () => save(SS, K('outbox'), outbox.length ? JSON.stringify(outbox) : null);
  const unqueue = (cid) => { const n = outbox.length; outbox = outbox.filter((o) => o.client_id !== cid); if (n !== outbox.length) saveOutbox(); };
  const emit = (name, detail) => { try { window.dispatchEvent(new CustomEvent('frontline:' + name, { detail })); } catch (e) { /* old browser */ } };

  const paint = (color, position) => {
    wrap.style.setProperty('--a', color); wrap.style.setProperty('--on', textColor(color));
    wrap.classList.toggle('left', position === 'left');
  };
  const paintLauncher = () => {
    badge.hidden = !unread; badge.textContent = unread > 9 ? '9+' : String(unread);
    launcher.setAttribute('aria-label', t('launcher') + (unread ? ' (' + t('unread', { n: unread }) + ')' : ''));
  };
  const applyConfig = (c) => {
    c = c || {};
    lang = attr.language || (LANGS.includes(c.language) ? c.language : NAV_LANG);
    paint(attr.color || (HEX.test(c.color || '') ? c.color : '#2563eb'), attr.position || (c.position === 'left' ? 'left' : 'right'));
    title.textContent = c.title || t('title');
    greeting.hidden = !c.greeting;
    if (c.greeting) { greeting.textContent = ''; greeting.append(h('span', { class: 'who', text: t('ai') }), h('span', { text: c.greeting })); }
    relabel(); paintLauncher(); render();
  };
  applyConfig(null);

  // ---- messages ----
  const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const toBottom = () => { scroller.scrollTop = scroller.scrollHeight; };
  const bubble = (m, extra) => {
    const sender = ['contact', 'ai', 'operator', 'system'].includes(m.sender) ? m.sender : 'system';
    const el = h('div', { class: 'msg ' + sender + (extra ? ' ' + extra : '') });
    if (sender === 'ai' || sender === 'operator') el.append(h('span', { class: 'who', text: sender === 'ai' ? t('ai') : (m.author_name || t('operator')) }));
    else if (sender === 'contact') el.append(h('span', { class: 'sr', text: t('you') + ': ' }));
    const body = h('span', { class: 'body' }); fillText(body, m.text || ''); el.append(body);
    el.append(fileList(m.attachments));
    el.append(h('span', { class: 'meta', text: extra === 'pending' ? t('sending') : (extra === 'streaming' ? '' : clock(m.created_at)) }));
    return el;
  };
  const fileUrl = (u) => { // the server's links are paths on it (signed, short-lived)
    if (typeof u !== 'string' || !u) return null;
    try { const url = new URL(u.charAt(0) === '/' ? BASE + u : u); return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null; } catch (e) { return null; }
  };
  function fileList(files) { // images as thumbnails, other files as links, never markup from data
    const box = h('span', { class: 'files' });
    for (const f of Array.isArray(files) ? files : []) {
      if (!f || typeof f !== 'object') continue;
      const name = String(f.filename || 'file'), url = fileUrl(f.url);
      if (url && f.inline) {
        box.append(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', 'aria-label': t('openFile', { name }) },
          h('img', { class: 'thumb', src: url, alt: name, loading: 'lazy' })));
      } else if (url) {
        box.append(h('a', { class: 'file', href: url, target: '_blank', rel: 'noopener noreferrer', text: name }));
      } else {
        box.append(h('span', { class: 'file off', text: t(f.status === 'failed' ? 'fileFailed' : 'filePending', { name }) }));
      }
    }
    box.hidden = !box.childElementCount;
    return box;
  }
  const updateFiles = (m) => { // message.updated: a file was fetched (or failed)
    const el = m && byId.get(m.id); if (!el) return;
    const old = el.querySelector('.files'); if (old) old.replaceWith(fileList(m.attachments));
  };
  const place = (el, id) => { // stored messages in id order; pending and streaming ones after them
    let ref = null;
    for (let c = log.lastElementChild; c; c = c.previousElementSibling) {
      if (c === el) continue;
      if (!c.dataset.id || +c.dataset.id > id) ref = c; else break;
    }
    if (el.parentNode !== log || el.nextElementSibling !== ref) log.insertBefore(el, ref);
  };
  const showPending = (item) => {
    const el = bubble({ sender: 'contact', text: item.text, attachments: (item.files || []).map((f) => ({ filename: f.filename, status: 'pending' })) }, 'pending');
    pending.set(item.client_id, el); log.append(el); toBottom();
  };
  const confirmed = (el, id, createdAt) => {
    el.classList.remove('pending', 'failed'); el.dataset.id = id;
    el.querySelector('.meta').textContent = clock(createdAt);
    byId.set(id, el); place(el, id);
  };
  const addMessage = (m, live) => {
    if (!m || typeof m.id !== 'number') return;
    if (lastId == null || m.id > lastId) lastId = m.id;
    if (m.conversation_id) convId = m.conversation_id;
    if (byId.has(m.id)) { updateFiles(m); return; } // acked already, another tab's echo, or the gap
    const stick = nearBottom() || m.sender === 'contact';
    const mine = m.client_id && pending.get(m.client_id);
    if (mine) {
      pending.delete(m.client_id); sentAt.delete(m.client_id); unqueue(m.client_id);
      confirmed(mine, m.id, m.created_at); updateFiles(m);
    } else {
      if (m.stream_id) {
        doneStreams.add(m.stream_id);
        const s = streams.get(m.stream_id); if (s) { s.el.remove(); clearTimeout(s.timer); streams.delete(m.stream_id); }
      }
      const el = bubble(m); el.dataset.id = m.id; byId.set(m.id, el); place(el, m.id);
      if (live && m.sender !== 'contact' && (!isOpen || document.hidden)) { unread++; paintLauncher(); }
    }
    if (m.sender === 'ai') setAiTyping(false);
    if (m.sender === 'operator') setOpTyping(null);
    if (stick) toBottom();
    emit('message', { id: m.id, sender: m.sender, text: m.text, created_at: m.created_at });
  };
  const onDelta = (d) => {
    const sid = d.stream_id;
    if (!sid || doneStreams.has(sid)) return;
    let s = streams.get(sid);
    if (d.done) {
      if (d.discarded) { doneStreams.add(sid); if (s) { s.el.remove(); clearTimeout(s.timer); streams.delete(sid); } }
      return; // not discarded: message.created with this stream_id replaces the bubble
    }
    if (!s) {
      if (!d.delta) return;
      // hidden from screen readers while written: the stored message is announced once
      const el = bubble({ sender: 'ai', text: '' }, 'streaming'); el.setAttribute('aria-hidden', 'true');
      s = { el, body: el.querySelector('.body'), timer: 0 }; streams.set(sid, s); log.append(el);
    }
    const stick = nearBottom();
    if (d.reset) s.body.textContent = '';
    if (d.delta) s.body.append(String(d.delta));
    clearTimeout(s.timer); // a stream whose end we missed (a dropped connection) does not linger
    s.timer = setTimeout(() => { s.el.remove(); streams.delete(sid); }, 90000);
    if (stick) toBottom();
  };
  const resetView = () => {
    log.textContent = ''; byId.clear(); pending.clear(); lastId = null; convId = null; state = 'bot';
    for (const s of streams.values()) clearTimeout(s.timer);
    streams.clear(); outbox.forEach(showPending);
  };

  // ---- status, banners, cards ----
  const setStatusLine = () => {
    status.textContent = opTyping != null ? t('typing', { name: opTyping || t('operator') }) : (aiTyping ? t('aiTyping') : '');
  };
  function setAiTyping(on) {
    aiTyping = on; clearTimeout(aiTimer);
    if (on) aiTimer = setTimeout(() => setAiTyping(false), 90000);
    setStatusLine();
  }
  function setOpTyping(name) {
    opTyping = name; clearTimeout(opTimer);
    if (name != null) opTimer = setTimeout(() => setOpTyping(null), 10000);
    setStatusLine();
  }
  // errTooLong: the error shown is "too long"; it clears as soon as the text fits again
  let errTooLong = false;
  const showError = (text, seconds, note, tooLong) => {
    errTooLong = !!tooLong;
    err.textContent = text; err.hidden = false; err.classList.toggle('note', !!note);
    clearTimeout(errTimer); errTimer = setTimeout(() => { err.hidden = true; }, (seconds || 8) * 1000);
  };
  const isRated = () => convId != null && load(LS, K('rated:' + convId)) === '1';
  function render() {
    let text = '', kind = '';
    if (fatal) { text = t('unavailable'); kind = 'bad'; }
    else if (started && !helloed && (wasUp || attempt > 0)) { text = t('lost'); kind = 'bad'; }
    else if (state === 'waiting') text = t('waiting');
    else if (state === 'operator_joined') { text = t('joined'); kind = 'ok'; }
    else if (state === 'resolved') { text = t('resolved'); kind = 'info'; }
    wrap.hidden = fatal; // a refused key or origin: the console says why, visitors see nothing
    banner.hidden = !text; banner.textContent = text; banner.className = 'banner ' + kind;
    humanBtn.hidden = state === 'waiting' || state === 'operator_joined' || fatal;
    emailCard.hidden = !(state === 'waiting' && !online && (load(LS, K('email')) !== '1' || emailForm.hidden));
    rateCard.hidden = !(state === 'resolved' && convId != null && (!isRated() || !rateThanks.hidden));
  }
  const STATES = { bot: 'bot', pending: 'waiting', open: 'operator_joined', resolved: 'resolved' };
  const setState = (d) => {
    if (typeof d.operators_online === 'boolean') online = d.operators_online;
    if (d.conversation_id) convId = d.conversation_id;
    const s = d.state || STATES[d.status];
    if (s && s !== state) {
      state = s;
      if (s !== 'resolved') {
        if (convId != null) save(LS, K('rated:' + convId), null);
        rateForm.hidden = false; rateThanks.hidden = true; rating = 0; rateBtn.disabled = true; comment.value = '';
        stars.forEach((b) => { b.classList.remove('on'); b.setAttribute('aria-pressed', 'false'); });
      }
      if (s !== 'bot') setAiTyping(false);
      emit('status', { state: s });
    }
    render();
  };

  // ---- the connection ----
  const ready = () => ws && ws.readyState === 1 && helloed;
  const sendFrame = (type, data) => {
    if (!ready()) return false;
    try { ws.send(JSON.stringify({ type, data })); } catch (e) { return false; }
    lastSent = Date.now();
    if (type === 'message.send') sentAt.set(data.client_id, lastSent);
    return true;
  };
  const getSession = () => { // one call at a time
    if (!sessionCall) sessionCall = requestSession().finally(() => { sessionCall = null; });
    return sessionCall;
  };
  // a token of a signed-in user is not reused once nobody is signed in (a shared computer)
  const storedToken = () => {
    const kept = load(LS, K('token')) || token || null;
    if (kept && !USER && load(LS, K('identified')) === '1') { save(LS, K('token'), null); save(LS, K('identified'), null); return null; }
    return kept;
  };
  async function requestSession() {
    const res = await fetch(BASE + '/api/v1/widget/session', {
      method: 'POST', mode: 'cors', credentials: 'omit',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(Object.assign({ key: KEY, visitor_token: storedToken(), language: attr.language || NAV_LANG }, USER || {})),
    });
    if (!res.ok) {
      const e = new Error('Frontline widget: session refused (' + res.status + ')');
      e.fatal = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      throw e;
    }
    const s = await res.json();
    if (visitorId && s.visitor_id !== visitorId) resetView(); // the old token was refused
    session = s; token = s.visitor_token; visitorId = s.visitor_id;
    save(LS, K('token'), token);
    save(LS, K('identified'), s.identified ? '1' : null);
    if (s.conversation_id) convId = s.conversation_id;
    if (s.limits && s.limits.max_message_chars > 0) maxChars = s.limits.max_message_chars;
    if (s.limits && s.limits.max_files > 0) maxFiles = s.limits.max_files;
    if (s.limits && s.limits.max_file_bytes > 0) maxFileBytes = s.limits.max_file_bytes;
    applyConfig(s.config);
    setState({ state: s.state, status: s.status, operators_online: s.operators_online, conversation_id: s.conversation_id });
    return s;
  }
  async function connect() {
    clearTimeout(retryTimer); retryTimer = 0;
    if (ws || connecting || fatal) return;
    connecting = true;
    try {
      if (!session) await getSession();
    } catch (e) {
      connecting = false;
      if (e && e.fatal) { fatal = true; console.error(e.message); render(); return; }
      retry(); return;
    }
    connecting = false;
    const q = new URLSearchParams({ key: KEY, token, lang });
    if (lastId != null) q.set('last_id', String(lastId));
    let sock;
    try { sock = new WebSocket(WS_URL + '?' + q); } catch (e) { retry(); return; }
    ws = sock; helloed = false; lastSeen = Date.now(); sentAt.clear();
    sock.onmessage = (ev) => { if (ws === sock) onFrame(ev.data); };
    sock.onclose = (ev) => { if (ws === sock) { ws = null; lost(ev.code); } };
  }
  function lost(code) {
    helloed = false; awaiting = null; setAiTyping(false); setOpTyping(null);
    if (code === 4401) session = null; // key or token refused: ask for a session again
    if (code === 4408) attempt = 0; // the server asks for a resync: reconnect at once
    render(); retry();
  }
  function retry() {
    if (retryTimer || fatal) return;
    const base = Math.min(30000, 1000 * 2 ** Math.min(attempt++, 5));
    retryTimer = setTimeout(() => { retryTimer = 0; connect(); }, base / 2 + Math.random() * base / 2);
    render();
  }
  const drop = () => { const s = ws; if (!s) return; ws = null; try { s.close(); } catch (e) { /* gone */ } lost(1006); };
  const nudge = () => { // back online or back in view: do not wait for the backoff
    if (!started || fatal || navigator.onLine === false) return;
    if (ws && Date.now() - lastSeen > (heartbeat * 2 + 10) * 1000) drop();
    if (!ws && !connecting) { attempt = 0; connect(); }
  };
  setInterval(() => { // a silent socket is a dead one (sleeping laptop, changed network)
    if (!ws) return;
    const now = Date.now();
    // the server pings after a heartbeat in which *we* said nothing, hence the max()
    if (now - Math.max(lastSeen, helloed ? lastSent : 0) > (helloed ? heartbeat * 2 + 10 : 20) * 1000) drop();
    else for (const at of sentAt.values()) if (now - at > 20000) { drop(); break; } // no ack
  }, 5000);
  addEventListener('online', nudge);
  addEventListener('offline', () => { if (ws) drop(); });
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) return;
    if (isOpen && unread) { unread = 0; paintLauncher(); }
    nudge();
  });

  function onFrame(raw) {
    lastSeen = Date.now();
    let f; try { f = JSON.parse(raw); } catch (e) { return; }
    if (!f || typeof f.type !== 'string') return;
    const d = (f.data && typeof f.data === 'object') ? f.data : {};
    switch (f.type) {
      case 'hello': onHello(d); break;
      case 'message.created': addMessage(d, true); break;
      case 'message.updated': updateFiles(d); break;
      case 'message.ack': onAck(d); break;
      case 'message.delta': onDelta(d); break;
      case 'ai.typing': setAiTyping(!!d.active); break;
      case 'typing': setOpTyping(d.active ? (d.author_name || '') : null); break;
      case 'conversation.status': setState(d); break;
      case 'error': onError(d); break;
      case 'ping': sendFrame('pong', {}); break;
      case 'csat.ack': if (awaiting === 'csat') rated(true); break;
      case 'contact.updated': if (awaiting === 'contact') emailSaved(); break;
      default: break;
    }
  }
  function onHello(d) {
    const reconnect = lastId != null;
    helloed = true; wasUp = true; attempt = 0;
    if (d.heartbeat_seconds > 0) heartbeat = d.heartbeat_seconds;
    if (d.visitor_id && visitorId && d.visitor_id !== visitorId) resetView();
    if (d.visitor_id) visitorId = d.visitor_id;
    if (d.conversation_id) convId = d.conversation_id;
    for (const m of Array.isArray(d.messages) ? d.messages : []) addMessage(m, reconnect);
    setState(d);
    for (const item of outbox) sendFrame('message.send', item); // same client_id: a no-op if stored
    if (wantHandoff && convId != null) { wantHandoff = false; sendFrame('handoff.request', {}); }
    toBottom();
    emit('ready', { visitor_id: visitorId, conversation_id: convId });
  }
  function onAck(d) {
    if (d.conversation_id) convId = d.conversation_id;
    sentAt.delete(d.client_id); unqueue(d.client_id);
    const el = pending.get(d.client_id);
    if (el && typeof d.message_id === 'number' && !byId.has(d.message_id)) {
      pending.delete(d.client_id); confirmed(el, d.message_id, null);
    }
    if (wantHandoff && convId != null) { wantHandoff = false; sendFrame('handoff.request', {}); }
    render();
  }
  const failed = (cid, canRetry) => {
    sentAt.delete(cid);
    const item = outbox.find((o) => o.client_id === cid); unqueue(cid);
    const el = pending.get(cid); if (!el) return;
    el.classList.add('failed');
    const meta = el.querySelector('.meta'); meta.textContent = t('failed');
    if (canRetry && item) {
      meta.append(h('button', { type: 'button', text: t('retry'), onclick: () => {
        el.classList.remove('failed'); meta.textContent = t('sending');
        outbox.push(item); saveOutbox(); sendFrame('message.send', item);
      } }));
    }
  };
  function onError(d) {
    const cid = typeof d.client_id === 'string' ? d.client_id : null;
    const was = cid ? null : awaiting; awaiting = null;
    if (was === 'contact' && d.code === 'invalid') { emailBtn.disabled = false; showError(t('badEmail')); emailInput.focus(); return; }
    if (was === 'csat') rateBtn.disabled = false;
    if (d.code === 'rate_limited') {
      const s = Math.max(1, Math.ceil(Number(d.retry_after) || 5));
      showError(t('rateLimited', { s }), s + 1);
      if (cid) { // still queued: sent again after the wait (or after a reconnect)
        sentAt.delete(cid);
        setTimeout(() => { const item = outbox.find((o) => o.client_id === cid); if (item) sendFrame('message.send', item); }, s * 1000 + 200);
      }
    } else if (d.code === 'too_long') {
      showError(t('tooLong', { n: maxChars }), 0, false, true); if (cid) failed(cid, false);
    } else if (d.code === 'no_conversation') {
      wantHandoff = true; showError(t('describe'), 10, true); input.focus();
    } else {
      if (cid) failed(cid, true);
      showError(t('error'));
    }
  }

  // ---- visitor actions ----
  function start() { if (started || fatal) return; started = true; connect(); }
  function sendText(text) {
    text = String(text || '').trim();
    if (uploads) { showError(t('waitUpload'), 3, true); return false; }
    if (!text && !staged.length) return false;
    if (text.length > maxChars) { showError(t('tooLong', { n: maxChars }), 0, false, true); return false; }
    const item = { client_id: newId(), text };
    if (staged.length) {
      item.attachments = staged.map((f) => f.id);
      item.files = staged.map((f) => ({ filename: f.filename }));
      staged = []; renderTray();
    }
    outbox.push(item); saveOutbox(); showPending(item);
    stopTyping();
    if (!sendFrame('message.send', item)) start(); // queued: sent on (re)connect
    return true;
  }
  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingSentAt) { typingSentAt = 0; sendFrame('typing', { active: false }); }
  }
  const autosize = () => { input.style.height = 'auto'; input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px'; };
  const submit = () => { if (sendText(input.value)) { input.value = ''; autosize(); } input.focus(); };
  // ---- files: uploaded when chosen, sent with the next message ----
  function renderTray() {
    tray.textContent = '';
    for (const f of staged) {
      tray.append(h('span', { class: 'chip' }, h('span', { text: f.filename, title: f.filename }),
        h('button', { type: 'button', text: '×', 'aria-label': t('remove', { name: f.filename }), onclick: () => {
          staged = staged.filter((x) => x !== f); renderTray(); input.focus();
        } })));
    }
    tray.hidden = !staged.length;
  }
  async function uploadFile(file) {
    const name = file.name || 'file';
    if (file.size > maxFileBytes) { showError(t('fileTooBig', { n: Math.floor(maxFileBytes / 1048576) })); return; }
    if (staged.length + uploads >= maxFiles) { showError(t('tooManyFiles', { n: maxFiles })); return; }
    uploads++; status.textContent = t('uploading', { name });
    try {
      if (!session) await getSession();
      const form = new FormData();
      form.append('key', KEY); form.append('visitor_token', token || ''); form.append('file', file, name);
      const res = await fetch(BASE + '/api/v1/widget/attachments', { method: 'POST', mode: 'cors', credentials: 'omit', body: form });
      const data = await res.json().catch(() => null);
      if (res.status === 429) showError(t('rateLimited', { s: Number(res.headers.get('Retry-After')) || 5 }));
      else if (res.status === 413) showError(t('fileTooBig', { n: Math.floor(maxFileBytes / 1048576) }));
      else if (!res.ok || !data || typeof data.id !== 'number') showError(t('uploadFailed', { name }));
      else { staged.push({ id: data.id, filename: String(data.filename || name) }); renderTray(); }
    } catch (e) {
      showError(t('uploadFailed', { name }));
    } finally {
      uploads--; setStatusLine();
    }
  }
  clipBtn.addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    const files = [...(fileInput.files || [])]; fileInput.value = '';
    files.reduce((p, f) => p.then(() => uploadFile(f)), Promise.resolve()).then(() => input.focus());
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
  });
  input.addEventListener('input', () => {
    autosize();
    if (errTooLong && !err.hidden && input.value.trim().length <= maxChars) { err.hidden = true; errTooLong = false; }
    if (!input.value.trim()) { stopTyping(); return; }
    if (convId != null && Date.now() - typingSentAt > 3000 && sendFrame('typing', { active: true })) typingSentAt = Date.now();
    clearTimeout(typingTimer); typingTimer = setTimeout(stopTyping, 4000);
  });
  sendBtn.addEventListener('click', submit);
  humanBtn.addEventListener('click', () => {
    if (convId == null) { wantHandoff = true; showError(t('describe'), 10, true); input.focus(); start(); return; }
    if (!sendFrame('handoff.request', {})) { wantHandoff = true; start(); }
  });
  emailForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const email = emailInput.value.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) { showError(t('badEmail')); emailInput.focus(); return; }
    if (!sendFrame('contact.update', { email })) { showError(t('lost')); return; }
    awaiting = 'contact'; emailBtn.disabled = true;
  });
  function emailSaved() {
    awaiting = null; emailBtn.disabled = false; err.hidden = true; save(LS, K('email'), '1');
    emailForm.hidden = true; emailCard.lastElementChild.hidden = false; emailCard.lastElementChild.setAttribute('role', 'status');
    emit('contact', {});
    render();
  }
  stars.forEach((b, i) => b.addEventListener('click', () => {
    rating = i + 1; rateBtn.disabled = false;
    stars.forEach((s, j) => { s.classList.toggle('on', j <= i); s.setAttribute('aria-pressed', String(j === i)); });
  }));
  rateForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!rating) return;
    const data = { rating }; const c = comment.value.trim(); if (c) data.comment = c;
    if (!sendFrame('csat.submit', data)) { showError(t('lost')); return; }
    awaiting = 'csat'; rateBtn.disabled = true;
  });
  function rated() {
    awaiting = null; err.hidden = true; save(LS, K('rated:' + convId), '1');
    rateForm.hidden = true; rateThanks.hidden = false; rateThanks.setAttribute('role', 'status');
    emit('rated', { rating });
    render();
  }

  // ---- open / close ----
  function open(focus) {
    if (!isOpen) {
      isOpen = true; panel.hidden = false; launcher.setAttribute('aria-expanded', 'true');
      unread = 0; paintLauncher(); start(); toBottom(); emit('open', {});
    }
    if (focus !== false) input.focus();
  }
  function close(refocus) {
    if (!isOpen) return;
    isOpen = false; panel.hidden = true; launcher.setAttribute('aria-expanded', 'false');
    stopTyping();
    if (refocus !== false) launcher.focus();
    emit('close', {});
  }
  launcher.addEventListener('click', () => (isOpen ? close() : open()));
  closeBtn.addEventListener('click', () => close());
  wrap.addEventListener('keydown', (e) => { if (e.key === 'Escape' && isOpen) { e.stopPropagation(); close(); } });

  window.Frontline = Object.freeze({
    version: 1,
    open: () => open(true),
    close: () => close(false),
    toggle: () => (isOpen ? close(false) : open(true)),
    isOpen: () => isOpen,
  });

  const mount = () => {
    document.body.append(host);
    outbox.forEach(showPending);
    // the session (cheap, no socket) brings the channel's look; a visitor who already has a
    // conversation, or unsent messages, gets it live at once; anyone else connects when they
    // open the chat: no socket per page view
    if (attr.open) open(false);
    else if (outbox.length) start();
    else {
      getSession().then((s) => { if (s.conversation_id != null) start(); }, (e) => {
        if (e && e.fatal) { fatal = true; console.error(e.message); render(); }
      });
    }
  };
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
