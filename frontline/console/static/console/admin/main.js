/* The owner's console: the entry module of every settings, analytics and platform page
 * (admin.html). It reads the page's JSON blocks and starts the page's module; each module
 * exports start(body) and builds its page from the REST API (../api.js: session cookie,
 * X-CSRF-Token, errors with their failing fields). Text from the server goes into the page
 * with textContent only (../dom.js). */

import { configure, CFG } from "../config.js";
import { setup } from "../i18n.js";
import { $ } from "../dom.js";
import * as analytics from "./analytics.js";
import * as ai from "./ai.js";
import * as knowledge from "./knowledge.js";
import * as channels from "./channels.js";
import * as team from "./team.js";
import * as categories from "./categories.js";
import * as resources from "./resources.js";
import * as bookingTemplates from "./bookingtemplates.js";
import * as canned from "./canned.js";
import * as apikeys from "./apikeys.js";
import * as jobs from "./jobs.js";
import * as ailog from "./ailog.js";
import * as audit from "./audit.js";
import * as platform from "./platform.js";

var PAGES = {
  analytics: analytics, ai: ai, knowledge: knowledge, channels: channels, team: team,
  categories: categories, resources: resources, "booking-templates": bookingTemplates,
  "canned-replies": canned, "api-keys": apikeys, jobs: jobs, "ai-log": ailog, audit: audit,
  platform: platform
};

configure(JSON.parse($("console-config").textContent));
setup(JSON.parse($("i18n").textContent), CFG.lang);
var page = PAGES[CFG.page];
if (page) { page.start($("page-body")); }
