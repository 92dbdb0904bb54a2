/* The console's settings, from the page's JSON block "console-config" (filled once by the
 * entry module before any view starts): api, ws_path, csrf_cookie, login_url, lang,
 * user_id, tenant_id, conversation_id. */

export const CFG = {};

/** Fill CFG (at boot, once). */
export function configure(values) {
  Object.assign(CFG, values);
}
