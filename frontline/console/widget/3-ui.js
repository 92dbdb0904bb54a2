  // ---- widget part 3-ui.js (joined into /widget.js in name order) ----
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

