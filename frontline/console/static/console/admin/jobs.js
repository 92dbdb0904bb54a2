/* Background jobs: filter by state; a dead job (out of attempts, or failed for good) shows
 * its last error and can be re-queued. */

import { api, query } from "../api.js";
import { clear, el } from "../dom.js";
import { t } from "../i18n.js";
import { button, empty, field, form, formatDate, row, section, table } from "./ui.js";

var STATES = ["dead", "queued", "running", "done"];

export function start(body) {
  var box = section(body, null, "jobs");
  var f = form("jobs");
  f.classList.add("inline-form");
  var state = field(f, { name: "status", label: "filter.status", type: "select", value: "dead",
    options: [["", t("filter.any")]].concat(STATES.map(function (s) { return [s, t("admin.jobs.state." + s)]; })) });
  box.appendChild(f);
  var tbody = table(box, [t("admin.jobs.kind"), t("admin.jobs.state"), t("admin.jobs.attempts"), t("admin.jobs.error"), t("admin.jobs.created"), ""], "job-list");
  function load() {
    return api("GET", "/jobs" + query({ status: state.value, limit: 200 })).then(function (jobs) {
      clear(tbody);
      if (!jobs.length) { empty(tbody, 6); }
      jobs.forEach(function (j) {
        var actions = el("span", "actions");
        if (j.status === "dead") {
          actions.appendChild(button(t("admin.jobs.retry"), function () {
            api("POST", "/jobs/" + j.id + "/requeue").then(load);
          }, "job-retry"));
        }
        row(tbody, [j.kind, t("admin.jobs.state." + j.status), j.attempts + "/" + j.max_attempts, j.last_error, formatDate(j.created_at), actions], "job-row");
      });
    });
  }
  state.addEventListener("change", load);
  f.addEventListener("submit", function (e) { e.preventDefault(); load(); });
  load();
}
