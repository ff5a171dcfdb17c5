// @ts-check
// DOM helpers. The page never writes HTML from strings (the Content-Security-Policy enforces Trusted Types):
// every element is built here, every text set as text.

/**
 * An element with attributes and children (strings become text nodes; null/undefined/false are skipped).
 * @param {string} tag
 * @param {Record<string, string | boolean | undefined | null>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

/**
 * The element with this id (the page's fixed parts); throws if the page lacks it.
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return /** @type {T} */ (el);
}

/**
 * Shows a message in an alert element (empty: clears it).
 * @param {HTMLElement} el
 * @param {string} message
 */
export function say(el, message) {
  el.textContent = message;
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * For a load whose answers may come back out of order (a listing asked for
 * again before the last one answered): `const current = loads();` before
 * awaiting, then apply the answer only while `current()` holds, so an older
 * answer never overwrites a newer one.
 * @returns {() => () => boolean}
 */
export function latestOnly() {
  let started = 0;
  return () => {
    const mine = ++started;
    return () => mine === started;
  };
}
