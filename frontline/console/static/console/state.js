/* The conversation open in the console, shared by the views.
 *
 * `current` is null or {conv, loaded, messages: Map id -> message, streams: Map
 * stream_id -> node, contact, draft}. Importers see the live value (an ES module binding);
 * only conversation.js replaces it (setCurrent), the conversation's own modules update its
 * fields, every other view only reads it. */

export var current = null;

export function setCurrent(value) {
  current = value;
}
