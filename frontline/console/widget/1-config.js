/* Frontline web chat widget: protocol version 1 (docs/realtime.md), embedding guide in
 * docs/widget.md. Plain ES2020, no dependencies, no build step: the server joins the parts in
 * frontline/console/widget/ in name order into the one script it serves as /widget.js; the
 * parts are fragments of one function body, not modules.
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

