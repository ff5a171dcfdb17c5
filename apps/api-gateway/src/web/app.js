// @ts-check
// The chat page: sign in with a key (GET /v1/me), pick a collection (GET /v1/collections), ask and read
// the answer as it is written, with its sources; with the ingest scope, load documents too.
// It uses only the public API, as any client would; see README.md and GET /openapi.json.
import { ApiError, api, session } from './api.js';
import { Conversation } from './chat.js';
import { byId, h, latestOnly, say } from './dom.js';
import { Documents } from './documents.js';

const COLLECTION = 'rag.collection';
const CONVERSATION = 'rag.conversation';

const views = {
  loading: byId('loading'),
  signin: byId('signin-view'),
  app: byId('app-view'),
  account: byId('account'),
};
const keyInput = /** @type {HTMLInputElement} */ (byId('api-key'));
const signinError = byId('signin-error');
const collectionSelect = /** @type {HTMLSelectElement} */ (byId('collection'));
const question = /** @type {HTMLTextAreaElement} */ (byId('question'));

const selectedCollection = () => collectionSelect.value;

const conversation = new Conversation({ collection: selectedCollection, onSignedOut: (message) => signOut(`That key was not accepted anymore: ${message}`) });
const documents = new Documents({
  collection: selectedCollection,
  created: async (name) => {
    await loadCollections(name);
    question.focus();
  },
  onSignedOut: (message) => signOut(`That key was not accepted anymore: ${message}`),
});

/**
 * Who the key is; null when it is refused (401).
 * @param {string | null} key
 */
async function whoAmI(key) {
  try {
    return await api('/v1/me', { key });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/** @param {string} [message] shown on the sign-in form */
function showSignIn(message = '') {
  views.loading.hidden = true;
  views.app.hidden = true;
  views.account.hidden = true;
  views.signin.hidden = false;
  say(signinError, message);
  keyInput.focus();
}

/**
 * @param {{ tenant: string, scopes: string[], key_id: string | null, auth: string }} me
 */
async function showApp(me) {
  views.loading.hidden = true;
  views.signin.hidden = true;
  views.app.hidden = false;
  views.account.hidden = false;
  byId('whoami').textContent = `Tenant ${me.tenant} · ${me.scopes.join(', ')}`;
  byId('sign-out').hidden = me.auth === 'off';
  documents.show(me.scopes.includes('ingest'));
  await loadCollections(sessionStorage.getItem(COLLECTION) ?? undefined);
  conversation.restore();
  question.focus();
}

const collectionLoads = latestOnly();

/**
 * Fills the collection picker; selects `wanted` when the tenant has it. Only
 * the latest call's answer is applied: the listing asked for at sign-in may
 * come back after the one asked for by creating a collection, and must not
 * take the new collection out of the picker.
 * @param {string} [wanted]
 */
async function loadCollections(wanted) {
  const current = collectionLoads();
  const hint = byId('collections-hint');
  /** @type {string[]} */
  let names = [];
  try {
    const body = await api('/v1/collections');
    if (!current()) return;
    names = body.collections.map((/** @type {{ name: string }} */ c) => c.name).sort();
  } catch (error) {
    if (!current()) return;
    if (error instanceof ApiError && error.status === 401) return signOut(`That key was not accepted anymore: ${error.describe()}`);
    say(byId('chat-error'), error instanceof ApiError ? error.describe() : String(error));
  }
  collectionSelect.replaceChildren(...names.map((name) => h('option', { value: name }, name)));
  const pick = wanted && names.includes(wanted) ? wanted : names.includes('sample') ? 'sample' : names[0];
  if (pick) collectionSelect.value = pick;
  collectionSelect.disabled = names.length === 0;
  hint.hidden = names.length > 0;
  hint.textContent = documents.section.hidden
    ? 'Your tenant has no collections yet: load documents with npm run ingest -- <folder> --collection <name>.'
    : 'Your tenant has no collections yet: create one under Documents and drop files into it.';
  if (pick) sessionStorage.setItem(COLLECTION, pick);
  await documents.refresh();
}

/** @param {string} [message] */
function signOut(message) {
  conversation.following?.abort();
  session.signOut();
  sessionStorage.removeItem(CONVERSATION);
  sessionStorage.removeItem(COLLECTION);
  conversation.turns = [];
  conversation.views.clear();
  byId('turns').replaceChildren();
  showSignIn(message);
}

byId('signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (!key) return say(signinError, 'Paste an API key first (npm start keeps the dev key in data/dev-api-key).');
  say(signinError, '');
  try {
    const me = await whoAmI(key);
    if (!me)
      return say(
        signinError,
        'That key was not accepted (401): it is unknown, revoked or mistyped. Check it, or create one with npm run ingest -- keys create.',
      );
    session.signIn(key);
    keyInput.value = '';
    await showApp(me);
  } catch (error) {
    say(signinError, error instanceof ApiError ? error.describe() : String(error));
  }
});

byId('sign-out').addEventListener('click', () => signOut());

collectionSelect.addEventListener('change', () => {
  sessionStorage.setItem(COLLECTION, collectionSelect.value);
  void documents.refresh();
});

byId('ask-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = question.value.trim();
  if (!text) return question.focus();
  if (conversation.running) return say(byId('chat-error'), 'An answer is still being written: wait for it, or cancel it.');
  question.value = '';
  void conversation.ask(text);
  question.focus();
});

question.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    /** @type {HTMLFormElement} */ (byId('ask-form')).requestSubmit();
  }
});

byId('cancel').addEventListener('click', () => void conversation.cancel());
byId('new-conversation').addEventListener('click', async () => {
  await conversation.reset();
  question.focus();
});

/** Signs in with the key kept in this tab (after a reload), else asks for one. */
async function start() {
  const key = session.key();
  if (!key) return showSignIn();
  try {
    const me = await whoAmI(key);
    if (me) return showApp(me);
    signOut('That key was not accepted (401): it is unknown, revoked or mistyped. Sign in again.');
  } catch (error) {
    showSignIn(error instanceof ApiError ? error.describe() : String(error));
  }
}

void start();
