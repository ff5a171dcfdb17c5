// @ts-check
// For keys with the ingest scope: create a collection (POST /v1/collections), upload documents
// (POST /v1/collections/:name/documents, multipart; dropped or picked), follow the ingest run
// (GET /v1/ingest-runs/:id), list and delete documents.
import { ApiError, api, call } from './api.js';
import { byId, h, latestOnly, say, sleep } from './dom.js';

export class Documents {
  /** @param {{ collection: () => string, created: (name: string) => Promise<void>, onSignedOut: (message: string) => void }} options */
  constructor(options) {
    this.options = options;
    /** Starts a listing of the documents; see refresh. */
    this.listings = latestOnly();
    this.section = byId('documents');
    this.list = byId('document-list');
    this.error = byId('documents-error');
    this.status = byId('ingest-status');
    this.failures = byId('ingest-failures');
    this.progress = /** @type {HTMLProgressElement} */ (byId('ingest-progress'));
    this.files = /** @type {HTMLInputElement} */ (byId('files'));
    this.dropZone = byId('drop-zone');
    this.uploading = false;
    this.bind();
  }

  /** @param {boolean} visible */
  show(visible) {
    this.section.hidden = !visible;
  }

  bind() {
    const form = /** @type {HTMLFormElement} */ (byId('create-form'));
    const input = /** @type {HTMLInputElement} */ (byId('new-collection'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.create(input.value.trim()).then((ok) => {
        if (ok) input.value = '';
      });
    });
    this.files.addEventListener('change', () => {
      const picked = [...(this.files.files ?? [])];
      this.files.value = '';
      if (picked.length) void this.upload(picked);
    });
    const zone = this.dropZone;
    for (const type of ['dragenter', 'dragover']) {
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        zone.classList.add('dragging');
      });
    }
    zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('dragging');
      const dropped = [...(event.dataTransfer?.files ?? [])];
      if (dropped.length) void this.upload(dropped);
    });
  }

  /** @param {string} name */
  async create(name) {
    say(this.error, '');
    if (!name) return false;
    try {
      await api('/v1/collections', { method: 'POST', json: { name } });
      await this.options.created(name);
      return true;
    } catch (error) {
      this.fail(error);
      return false;
    }
  }

  /** @param {File[]} files */
  async upload(files) {
    say(this.error, '');
    const collection = this.options.collection();
    if (!collection) return say(this.error, 'Pick or create a collection first, then drop the files again.');
    if (this.uploading) return say(this.error, 'An upload is still running; drop the files again when it is done.');
    this.uploading = true;
    this.failures.replaceChildren();
    this.progress.hidden = false;
    this.progress.removeAttribute('value');
    say(this.status, `Uploading ${files.length} file${files.length === 1 ? '' : 's'} to ${collection}…`);
    try {
      const body = new FormData();
      for (const file of files) body.append('file', file, file.name);
      const res = await call(`/v1/collections/${encodeURIComponent(collection)}/documents`, { method: 'POST', body });
      const accepted = await res.json();
      await this.followRun(accepted.status_url);
    } catch (error) {
      this.progress.hidden = true;
      say(this.status, '');
      this.fail(error);
    } finally {
      this.uploading = false;
      await this.refresh();
    }
  }

  /**
   * Reads the run every half second until it has finished.
   * @param {string} statusUrl
   */
  async followRun(statusUrl) {
    for (;;) {
      const run = await api(statusUrl);
      const handled = run.added + run.updated + run.skipped + run.failed;
      this.progress.max = Math.max(run.queued, 1);
      this.progress.value = handled;
      const counts = `${run.added} added, ${run.updated} updated, ${run.skipped} skipped, ${run.failed} failed`;
      if (run.finished) {
        say(this.status, `done: ${counts} (${run.chunks} chunk${run.chunks === 1 ? '' : 's'})`);
        this.failures.replaceChildren(...(run.failures ?? []).map((/** @type {any} */ f) => h('li', { class: 'error' }, `${f.doc_id}: ${f.error}`)));
        return;
      }
      say(this.status, `${handled} of ${run.queued} documents: ${counts}`);
      await sleep(500);
    }
  }

  /** Lists the selected collection's documents. */
  async refresh() {
    // Only the latest listing is shown: one for the collection picked before may answer after it.
    const current = this.listings();
    const collection = this.options.collection();
    byId('documents-collection').textContent = collection || '—';
    byId('drop-target').textContent = collection || 'the selected collection';
    if (this.section.hidden || !collection) return this.list.replaceChildren();
    try {
      const page = await api(`/v1/collections/${encodeURIComponent(collection)}/documents?limit=1000`);
      if (!current()) return;
      const rows = page.items.map((/** @type {{ doc_id: string, chunks: number }} */ doc) => this.row(collection, doc));
      if (page.total > page.items.length)
        rows.push(h('li', { class: 'muted' }, `…and ${page.total - page.items.length} more (npm run ingest -- list --collection ${collection})`));
      if (rows.length === 0) rows.push(h('li', { class: 'muted' }, 'No documents yet: drop some above.'));
      this.list.replaceChildren(...rows);
    } catch (error) {
      if (!current()) return;
      this.list.replaceChildren();
      this.fail(error);
    }
  }

  /**
   * @param {string} collection
   * @param {{ doc_id: string, chunks: number }} doc
   */
  row(collection, doc) {
    const remove = h('button', { type: 'button', class: 'secondary small', 'aria-label': `Delete ${doc.doc_id}` }, 'Delete');
    remove.addEventListener('click', async () => {
      say(this.error, '');
      try {
        await call(`/v1/collections/${encodeURIComponent(collection)}/documents/${encodeURIComponent(doc.doc_id)}`, { method: 'DELETE' });
        say(this.status, `deleted ${doc.doc_id}`);
        await this.refresh();
      } catch (error) {
        this.fail(error);
      }
    });
    return h(
      'li',
      { 'data-testid': 'document-row' },
      h('span', { class: 'doc-id' }, doc.doc_id),
      h('span', { class: 'muted small' }, ` ${doc.chunks} chunk${doc.chunks === 1 ? '' : 's'} `),
      remove,
    );
  }

  /** @param {unknown} error */
  fail(error) {
    if (error instanceof ApiError && error.status === 401) return this.options.onSignedOut(error.describe());
    say(this.error, error instanceof ApiError ? error.describe() : `Something went wrong: ${String(error)}`);
  }
}
