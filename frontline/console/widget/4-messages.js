  // ---- widget part 4-messages.js (joined into /widget.js in name order) ----
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

