  // ---- widget part 6-actions.js (joined into /widget.js in name order) ----
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
