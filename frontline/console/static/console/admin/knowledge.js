/* Knowledge base: drop (or pick) several files at once; each gets a row with its upload
 * progress (XMLHttpRequest upload events) and then its parse/index state, polled live until
 * ready or failed - an unsupported, oversized or broken file fails on its own row, in the
 * reader's language (the error's code, the document's failure_code), and the others go on.
 * The documents list: search, the chunks a document became, re-index one, delete. FAQ pairs
 * are edited inline (PUT /api/v1/knowledge/faq/{id}). */

import { api, query } from "../api.js";
import { CFG } from "../config.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { button, clearErrors, empty, errorText, field, form, row, section, showErrors, submitButton, table } from "./ui.js";

var DONE = { ready: true, failed: true };
var listBody = null;
var faqBody = null;

export function start(body) {
  upload(section(body, "admin.kb.upload", "kb-upload"));
  search(section(body, "admin.kb.search", "kb-search"));
  var docs = section(body, "admin.kb.documents", "kb-documents");
  reindexBox(docs);
  listBody = table(docs, [t("admin.kb.title"), t("admin.kb.kind"), t("admin.kb.size"), t("admin.kb.status"), t("admin.kb.chunks"), ""], "kb-list");
  var faq = section(body, "admin.kb.faq", "kb-faq");
  faqForm(faq);
  faqBody = table(faq, [t("admin.kb.question"), t("admin.kb.answer"), t("admin.kb.status"), ""], "faq-list");
  refresh();
}

/* The lists are drawn again after each upload, re-index, save or delete, and those
 * refreshes can overlap: an answer older than the one on screen is not drawn, and a FAQ
 * entry being edited keeps what was typed (and the focus) until it is saved. */
var refreshes = 0;
var drawn = 0;

function refresh() {
  var mine = ++refreshes;
  return api("GET", "/knowledge/documents?limit=200").then(function (page) {
    if (mine < drawn) { return page.items; }
    drawn = mine;
    var docs = page.items.filter(function (d) { return d.kind !== "faq"; });
    var faqs = page.items.filter(function (d) { return d.kind === "faq"; });
    clear(listBody);
    if (!docs.length) { empty(listBody, 6); }
    docs.forEach(docRow);
    var edits = unsavedFaqEdits();
    clear(faqBody);
    if (!faqs.length) { empty(faqBody, 4); }
    faqs.forEach(function (d) { faqRow(d, edits.rows[d.id]); });
    if (edits.focus) {
      var again = faqBody.querySelector('tr[data-id="' + edits.focus.id + '"] [data-testid="' + edits.focus.field + '"]');
      if (again) { again.focus(); }
    }
    return page.items;
  });
}

/* The FAQ rows whose question or answer differ from what was last saved, by id, and the
 * field that has the focus. */
function unsavedFaqEdits() {
  var found = { rows: {}, focus: null };
  Array.prototype.forEach.call(faqBody.querySelectorAll('tr[data-testid="faq-row"]'), function (tr) {
    var question = tr.querySelector('[data-testid="faq-question"]');
    var answer = tr.querySelector('[data-testid="faq-answer"]');
    var saved = tr.savedFaq;
    if (saved && (question.value !== saved.question || answer.value !== saved.answer)) {
      found.rows[tr.getAttribute("data-id")] = { question: question.value, answer: answer.value };
    }
    if (document.activeElement === question || document.activeElement === answer) {
      found.focus = { id: tr.getAttribute("data-id"), field: document.activeElement.getAttribute("data-testid") };
    }
  });
  return found;
}

/* "Re-index the knowledge base": POST /knowledge/reindex, then a progress bar of the
 * documents done (ready or failed) out of all, polled until every one is done. */
function reindexBox(parent) {
  var box = el("div", "reindex");
  var bar = el("progress");
  bar.setAttribute("data-testid", "reindex-progress");
  bar.hidden = true;
  var label = el("span", "reindex-state");
  label.setAttribute("data-testid", "reindex-state");
  var go = button(t("admin.kb.reindex"), function () {
    if (!window.confirm(t("admin.kb.reindex_confirm"))) { return; }
    go.disabled = true;
    api("POST", "/knowledge/reindex").then(function (r) {
      bar.max = Math.max(r.documents, 1);
      bar.value = 0;
      bar.hidden = false;
      label.textContent = t("admin.kb.reindex_progress", { done: 0, total: r.documents });
      poll(r.documents);
    }, function (e) { go.disabled = false; label.textContent = errorText(e); });
  }, "kb-reindex");
  function poll(total) {
    refresh().then(function (items) {
      var done = items.filter(function (d) { return DONE[d.status]; }).length;
      bar.value = done;
      label.textContent = t("admin.kb.reindex_progress", { done: done, total: total });
      if (done >= items.length) {
        var failed = items.filter(function (d) { return d.status === "failed"; }).length;
        label.textContent = t("admin.kb.reindex_done", { total: items.length, failed: failed });
        go.disabled = false;
        return;
      }
      window.setTimeout(function () { poll(total); }, 700);
    }, function () { window.setTimeout(function () { poll(total); }, 1500); });
  }
  box.appendChild(go);
  box.appendChild(bar);
  box.appendChild(label);
  parent.appendChild(box);
}

function statusText(d) {
  var text = t("admin.kb.state." + d.status);
  if (d.status === "failed" && (d.failure_code || d.failure_reason)) { text += ": " + failure(d); }
  if (d.status === "processing" && d.pages_total) { text += " (" + d.pages_done + "/" + d.pages_total + ")"; }
  return text;
}

/* Why a document could not be read, in the reader's language when the code is known. */
function failure(d) {
  var key = "admin.kb.failure." + d.failure_code;
  return d.failure_code && t(key) !== key ? t(key) : d.failure_reason;
}

function docRow(d) {
  var status = el("span", "doc-status status-" + d.status, statusText(d));
  status.setAttribute("data-testid", "doc-status");
  var actions = el("span", "actions");
  var preview = el("div", "chunks");
  actions.appendChild(button(t("admin.kb.preview"), function () { showChunks(d, preview); }, "doc-preview"));
  actions.appendChild(button(t("admin.kb.reindex_one"), function () {
    api("POST", "/knowledge/documents/" + d.id + "/reindex").then(function (fresh) {
      status.className = "doc-status status-" + fresh.status;
      status.textContent = statusText(fresh);
      follow(fresh, null, status);
    }, function (e) { status.textContent = errorText(e); });
  }, "doc-reindex"));
  actions.appendChild(button(t("admin.delete"), function () {
    if (!window.confirm(t("admin.confirm_delete"))) { return; }
    api("DELETE", "/knowledge/documents/" + d.id).then(refresh, function (e) { status.textContent = errorText(e); });
  }, "doc-delete", "danger"));
  var tr = row(listBody, [d.title || d.filename, d.kind, Math.ceil(d.size_bytes / 1024) + " " + t("admin.unit.kb"), status, d.chunks_done, actions], "doc-row");
  tr.setAttribute("data-filename", d.filename);
  var extra = el("tr", "chunk-row");
  var td = el("td");
  td.colSpan = 6;
  td.appendChild(preview);
  extra.appendChild(td);
  listBody.appendChild(extra);
}

function showChunks(d, holder) {
  if (holder.childNodes.length) { clear(holder); return; }
  api("GET", "/knowledge/documents/" + d.id + "/chunks").then(function (chunks) {
    clear(holder);
    if (!chunks.length) { holder.appendChild(el("p", "muted", t("admin.kb.no_chunks"))); }
    chunks.forEach(function (c) {
      var item = el("div", "chunk");
      item.setAttribute("data-testid", "chunk");
      item.appendChild(el("strong", null, "#" + (c.ordinal + 1) + (c.heading_path.length ? " · " + c.heading_path.join(" › ") : "") + (c.page ? " · p. " + c.page : "")));
      item.appendChild(el("p", null, c.text));
      holder.appendChild(item);
    });
  });
}

function upload(box) {
  var zone = el("div", "dropzone");
  zone.setAttribute("data-testid", "dropzone");
  zone.tabIndex = 0;
  zone.appendChild(el("p", null, t("admin.kb.drop")));
  var input = el("input");
  input.type = "file";
  input.multiple = true;
  input.accept = ".pdf,.docx,.html,.htm,.md,.markdown,.txt";
  input.setAttribute("data-testid", "kb-file-input");
  zone.appendChild(input);
  box.appendChild(zone);
  var rows = el("ul", "uploads");
  rows.setAttribute("data-testid", "uploads");
  box.appendChild(rows);
  function take(files) { Array.prototype.forEach.call(files, function (file) { send(file, rows); }); }
  input.addEventListener("change", function () { take(input.files); input.value = ""; });
  zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (e) { e.preventDefault(); zone.classList.remove("over"); take(e.dataTransfer.files); });
}

function csrf() {
  var m = document.cookie.match(new RegExp("(?:^|; )" + CFG.csrf_cookie + "=([^;]*)"));
  return m ? decodeURIComponent(m[1]) : "";
}

function send(file, rows) {
  var li = el("li", "upload");
  li.setAttribute("data-testid", "upload-row");
  li.setAttribute("data-filename", file.name);
  li.appendChild(el("span", "upload-name", file.name));
  var bar = el("progress");
  bar.max = 100;
  bar.value = 0;
  li.appendChild(bar);
  var state = el("span", "upload-state", t("admin.kb.uploading"));
  state.setAttribute("data-testid", "upload-state");
  li.appendChild(state);
  rows.appendChild(li);
  var data = new FormData();
  data.append("file", file, file.name);
  var xhr = new XMLHttpRequest();
  xhr.open("POST", CFG.api + "/knowledge/documents");
  xhr.setRequestHeader("X-CSRF-Token", csrf());
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", function (e) {
    if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
  });
  xhr.addEventListener("load", function () {
    var answer = null;
    try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
    if (xhr.status >= 200 && xhr.status < 300 && answer) {
      bar.value = 100;
      follow(answer, li, state);
    } else {
      li.classList.add("failed");
      state.textContent = t("admin.kb.failed") + ": " + (answer && answer.error ? errorText(answer.error) : xhr.status);
    }
  });
  xhr.addEventListener("error", function () {
    li.classList.add("failed");
    state.textContent = t("admin.kb.failed") + ": " + t("error.network");
  });
  xhr.send(data);
}

/* Poll a document until it is ready or failed, showing its state in state (and on the
 * upload row li, when it came from an upload). */
function follow(doc, li, state) {
  state.textContent = statusText(doc);
  if (li) { li.setAttribute("data-status", doc.status); }
  if (DONE[doc.status]) {
    if (doc.status === "failed" && li) { li.classList.add("failed"); }
    refresh();
    return;
  }
  setTimeout(function () {
    api("GET", "/knowledge/documents/" + doc.id).then(function (fresh) { follow(fresh, li, state); },
      function () { setTimeout(function () { follow(doc, li, state); }, 1000); });
  }, 500);
}

function search(box) {
  var f = form("kb-search");
  f.classList.add("inline-form");
  var q = field(f, { name: "q", label: "admin.kb.query" });
  submitButton(f, "admin.kb.find");
  box.appendChild(f);
  var out = el("ol", "hits");
  out.setAttribute("data-testid", "kb-hits");
  box.appendChild(out);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    api("GET", "/knowledge/search" + query({ q: q.value })).then(function (r) {
      clear(out);
      if (!r.passages.length) { out.appendChild(el("li", "muted", t("admin.empty"))); }
      r.passages.forEach(function (p) {
        var li = el("li");
        li.appendChild(el("strong", null, p.document_title + " (" + p.score.toFixed(3) + ")"));
        li.appendChild(el("p", null, p.text));
        out.appendChild(li);
      });
    }, function (error) { showErrors(f, error); });
  });
}

function faqForm(box) {
  var f = form("faq");
  var q = field(f, { name: "question", label: "admin.kb.question" });
  var a = field(f, { name: "answer", label: "admin.kb.answer", type: "textarea", rows: 2 });
  submitButton(f, "admin.add", "faq-add");
  box.appendChild(f);
  f.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors(f);
    api("POST", "/knowledge/faq", { question: q.value, answer: a.value }).then(function () {
      q.value = ""; a.value = "";
      refresh();
    }, function (error) { showErrors(f, error); });
  });
}

function faqRow(d, edit) {
  var question = el("input");
  question.value = edit ? edit.question : d.question;
  question.setAttribute("aria-label", t("admin.kb.question"));
  question.setAttribute("data-testid", "faq-question");
  var answer = el("textarea");
  answer.value = edit ? edit.answer : d.answer;
  answer.rows = 2;
  answer.setAttribute("aria-label", t("admin.kb.answer"));
  answer.setAttribute("data-testid", "faq-answer");
  var status = el("span", null, statusText(d));
  var actions = el("span", "actions");
  var tr;
  actions.appendChild(button(t("admin.save"), function () {
    var sent = { question: question.value, answer: answer.value };
    api("PUT", "/knowledge/faq/" + d.id, sent).then(function (fresh) {
      tr.savedFaq = sent;
      status.textContent = statusText(fresh);
      setTimeout(refresh, 800);
    }, function (e) { status.textContent = errorText(e); });
  }, "faq-save"));
  actions.appendChild(button(t("admin.delete"), function () {
    api("DELETE", "/knowledge/documents/" + d.id).then(refresh);
  }, "faq-delete", "danger"));
  tr = row(faqBody, [question, answer, status, actions], "faq-row");
  tr.setAttribute("data-id", String(d.id));
  tr.savedFaq = { question: d.question, answer: d.answer };
}
