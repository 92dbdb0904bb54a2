  // ---- widget part 2-dom.js (joined into /widget.js in name order) ----
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

