// @ts-check
// The conversation: ask (POST /v1/chat), follow the answer live (GET /v1/jobs/:id/events, resumed with
// Last-Event-ID after a dropped connection and from the start after a reload), cancel (DELETE /v1/jobs/:id),
// read the final result (GET /v1/jobs/:id). The turns live in sessionStorage, so a reload resumes them.
import { ApiError, api, call, sseEvents } from './api.js';
import { byId, h, say, sleep } from './dom.js';

const STORE = 'rag.conversation';
/** History sent with a follow-up: the last turns, newest last (the gateway bounds it again by CHAT_HISTORY_MAX_TOKENS). */
const HISTORY_TURNS = 8;

/**
 * @typedef {{ id: string, source: string, title?: string, heading?: string, position: number, page?: number, chunk: string, score: number }} Citation
 * @typedef {{ queued_ms: number, retrieve_ms: number, generate_ms: number, total_ms: number }} Timings
 * @typedef {'sending'|'queued'|'retrieving'|'generating'|'retrying'|'cancelling'|'completed'|'cancelled'|'failed'} TurnStatus
 * @typedef {{
 *   id: string, question: string, collection: string, job_id?: string, status: TurnStatus, detail?: string,
 *   answer: string, citations: Citation[], timings?: Timings, model?: string, final: boolean
 * }} Turn
 */

const LABELS = {
  sending: 'Sending',
  queued: 'Queued',
  retrieving: 'Retrieving',
  generating: 'Generating',
  retrying: 'Retrying',
  cancelling: 'Cancelling',
  completed: 'Completed',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

export class Conversation {
  /** @param {{ collection: () => string, onSignedOut: (message: string) => void }} options */
  constructor(options) {
    this.options = options;
    /** @type {Turn[]} */
    this.turns = [];
    /** @type {Map<string, ReturnType<typeof turnView>>} */
    this.views = new Map();
    /** @type {AbortController | undefined} */
    this.following = undefined;
    this.list = byId('turns');
    this.error = byId('chat-error');
    this.cancelButton = /** @type {HTMLButtonElement} */ (byId('cancel'));
    this.askButton = /** @type {HTMLButtonElement} */ (byId('ask'));
  }

  /** The turn whose answer is still running, if any. */
  get running() {
    const last = this.turns[this.turns.length - 1];
    return last && !last.final ? last : undefined;
  }

  /** Shows the turns kept in this tab and resumes the one that was running when the page was left. */
  restore() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE) ?? '[]');
      if (Array.isArray(saved)) this.turns = saved;
    } catch {
      this.turns = [];
    }
    for (const turn of this.turns) this.render(turn);
    const running = this.running;
    if (running?.job_id) {
      // Its events are replayed from the start: the text is rebuilt, then continues live.
      running.answer = '';
      running.citations = [];
      void this.follow(running, undefined);
    } else if (running) {
      // It was never accepted (the page went away while sending): nothing to resume.
      this.settle(running, 'failed', 'the question was not sent; ask again');
    }
    this.controls();
  }

  save() {
    sessionStorage.setItem(STORE, JSON.stringify(this.turns));
  }

  /** @param {string} question */
  async ask(question) {
    say(this.error, '');
    const collection = this.options.collection();
    if (!collection) return say(this.error, 'Pick a collection first (or create one under Documents).');
    if (this.running) return say(this.error, 'An answer is still being written: wait for it, or cancel it.');
    const history = this.turns
      .filter((t) => t.status === 'completed' && t.answer)
      .slice(-HISTORY_TURNS)
      .flatMap((t) => [
        { role: 'user', content: t.question },
        { role: 'assistant', content: t.answer },
      ]);
    /** @type {Turn} */
    const turn = { id: crypto.randomUUID(), question, collection, status: 'sending', answer: '', citations: [], final: false };
    this.turns.push(turn);
    this.render(turn);
    this.controls();
    const body = { query: question, collection, ...(history.length ? { messages: history } : {}) };
    // One key for this question: a retry after a lost answer returns the same job instead of asking twice.
    const headers = { 'idempotency-key': crypto.randomUUID() };
    let accepted;
    for (let attempt = 1; ; attempt++) {
      try {
        accepted = await api('/v1/chat', { method: 'POST', json: body, headers });
        break;
      } catch (error) {
        if (error instanceof ApiError && error.status === 0 && attempt < 2) {
          await sleep(500);
          continue;
        }
        this.turns.pop();
        this.views.get(turn.id)?.root.remove();
        this.views.delete(turn.id);
        this.save();
        this.controls();
        return this.refused(error);
      }
    }
    turn.job_id = accepted.job_id;
    turn.status = 'queued';
    this.save();
    this.render(turn);
    await this.follow(turn, accepted.events_url);
  }

  /**
   * Reads the job's events until a terminal one, reconnecting after a dropped stream with the last event id.
   * @param {Turn} turn
   * @param {string | undefined} eventsUrl
   */
  async follow(turn, eventsUrl) {
    const url = eventsUrl ?? `/v1/jobs/${encodeURIComponent(turn.job_id ?? '')}/events`;
    const controller = new AbortController();
    this.following = controller;
    /** @type {string | undefined} */
    let lastId;
    let delay = 500;
    try {
      while (!turn.final && !controller.signal.aborted) {
        try {
          const res = await call(url, { signal: controller.signal, headers: lastId ? { 'last-event-id': lastId } : {} });
          delay = 500;
          for await (const event of sseEvents(/** @type {ReadableStream<Uint8Array>} */ (res.body))) {
            if (event.id) lastId = event.id;
            await this.apply(turn, event.event, event.data);
            if (turn.final) break;
          }
        } catch (error) {
          if (controller.signal.aborted) return;
          if (error instanceof ApiError && error.status === 401) return this.options.onSignedOut(error.describe());
          if (error instanceof ApiError && error.status === 404) return this.settle(turn, 'failed', 'this job no longer exists (its record expired)');
          if (error instanceof ApiError && error.retryAfter !== undefined) {
            this.show(turn, `${error.message}; reconnecting in ${error.retryAfter} s`);
            await sleep(error.retryAfter * 1000);
            continue;
          }
        }
        if (turn.final || controller.signal.aborted) break;
        // The stream ended without a terminal event (the gateway restarted, a proxy cut it): resume after the last event.
        await sleep(delay);
        delay = Math.min(delay * 2, 10000);
      }
    } finally {
      if (this.following === controller) this.following = undefined;
      this.controls();
    }
  }

  /**
   * @param {Turn} turn
   * @param {string} type
   * @param {string} raw
   */
  async apply(turn, type, raw) {
    let data;
    try {
      data = JSON.parse(raw);
    } catch {
      return;
    }
    switch (type) {
      case 'status':
        if (data.status === 'cancelled') return this.settle(turn, 'cancelled');
        // An attempt started (the first, or the next after a failed one).
        if (data.status === 'active' && ['sending', 'queued', 'retrying'].includes(turn.status)) return this.show(turn, undefined, 'retrieving');
        return;
      case 'stage':
        return this.show(turn, undefined, data.stage === 'generating' ? 'generating' : 'retrieving');
      case 'token':
        turn.answer += String(data.text ?? '');
        if (turn.status !== 'generating') turn.status = 'generating';
        return this.render(turn);
      case 'citation':
        turn.citations.push(data);
        return this.render(turn);
      case 'error':
        if (data.will_retry) {
          // The next attempt writes the answer again from the start.
          turn.answer = '';
          turn.citations = [];
          return this.show(turn, `${data.message ?? 'the attempt failed'}; trying again`, 'retrying');
        }
        return this.settle(turn, 'failed', `${data.code ?? 'failed'}: ${data.message ?? ''}`);
      case 'done':
        turn.timings = data.timings;
        turn.model = data.model;
        return this.complete(turn);
    }
  }

  /**
   * The stored result is the answer of record (tokens may have been batched or retried): read it once.
   * @param {Turn} turn
   */
  async complete(turn) {
    try {
      const view = await api(`/v1/jobs/${encodeURIComponent(turn.job_id ?? '')}?wait=10`);
      if (view.result) {
        turn.answer = view.result.answer;
        turn.citations = view.result.citations ?? turn.citations;
        turn.timings = view.result.timings ?? turn.timings;
        turn.model = view.result.model ?? turn.model;
      }
    } catch {
      // The streamed text and citations stand.
    }
    this.settle(turn, 'completed');
  }

  /**
   * @param {Turn} turn
   * @param {TurnStatus} status
   * @param {string} [detail]
   */
  settle(turn, status, detail) {
    turn.status = status;
    turn.detail = detail;
    turn.final = true;
    this.save();
    this.render(turn);
    this.controls();
  }

  /**
   * @param {Turn} turn
   * @param {string | undefined} detail
   * @param {TurnStatus} [status]
   */
  show(turn, detail, status = turn.status) {
    turn.status = status;
    turn.detail = detail;
    this.save();
    this.render(turn);
  }

  /** Cancels the running answer: a waiting job never runs, an active one stops within seconds. */
  async cancel() {
    const turn = this.running;
    if (!turn?.job_id) return;
    say(this.error, '');
    this.show(turn, undefined, 'cancelling');
    try {
      const view = await api(`/v1/jobs/${encodeURIComponent(turn.job_id)}`, { method: 'DELETE' });
      // The event stream ends with the cancelled status; a job removed before it started says so here too.
      if (view?.status === 'cancelled') {
        this.following?.abort();
        this.settle(turn, 'cancelled');
      }
    } catch (error) {
      // 409: it finished first; its stream ends it.
      if (!(error instanceof ApiError && error.status === 409)) this.refused(error);
    }
  }

  /** Starts over: the running answer, if any, is cancelled. */
  async reset() {
    if (this.running) await this.cancel();
    this.following?.abort();
    this.turns = [];
    this.views.clear();
    this.list.replaceChildren();
    say(this.error, '');
    this.save();
    this.controls();
  }

  /** @param {unknown} error */
  refused(error) {
    if (error instanceof ApiError && error.status === 401) return this.options.onSignedOut(error.describe());
    say(this.error, error instanceof ApiError ? error.describe() : `Something went wrong: ${String(error)}`);
  }

  controls() {
    const running = this.running;
    this.cancelButton.disabled = !running?.job_id || running.status === 'cancelling';
    this.askButton.disabled = Boolean(running);
  }

  /** @param {Turn} turn */
  render(turn) {
    let view = this.views.get(turn.id);
    if (!view) {
      view = turnView(turn);
      this.views.set(turn.id, view);
      this.list.append(view.root);
    }
    view.update(turn);
  }
}

/**
 * One question and its answer.
 * @param {Turn} turn
 */
function turnView(turn) {
  const status = h('p', { class: 'status', role: 'status', 'data-testid': 'job-status' });
  const answer = h('div', { class: 'answer', 'data-testid': 'answer', 'aria-live': 'polite' });
  const timings = h('p', { class: 'timings muted small', 'data-testid': 'timings' });
  const citations = h('ol', { class: 'citations', 'aria-label': 'Sources' });
  const root = h(
    'li',
    { class: 'turn', 'data-testid': 'turn' },
    h('p', { class: 'question', 'data-testid': 'question' }, turn.question),
    h('div', { class: 'reply' }, status, answer, citations, timings),
  );
  let shownCitations = -1;
  let shownAnswer = '';
  let linked = false;
  return {
    root,
    /** @param {Turn} t */
    update(t) {
      if (t.job_id) root.setAttribute('data-job-id', t.job_id);
      root.setAttribute('data-status', t.status);
      status.className = `status status-${t.status}`;
      status.textContent = t.detail ? `${LABELS[t.status]}: ${t.detail}` : LABELS[t.status];
      // Screen readers hear the answer once it is whole, not token by token.
      answer.setAttribute('aria-busy', String(!t.final));
      const link = t.final && t.citations.length > 0;
      if (t.answer !== shownAnswer || link !== linked) {
        answer.replaceChildren(...answerNodes(t, link));
        shownAnswer = t.answer;
        linked = link;
      }
      if (t.citations.length !== shownCitations) {
        citations.replaceChildren(...t.citations.map((c, i) => citationView(t, c, i + 1)));
        shownCitations = t.citations.length;
      }
      citations.hidden = t.citations.length === 0;
      timings.textContent = t.timings ? timingText(t) : '';
      timings.hidden = !t.timings;
    },
  };
}

/**
 * The answer's text, its `[n]` markers as links to the citations once they are known.
 * @param {Turn} turn
 * @param {boolean} link
 * @returns {(Node | string)[]}
 */
function answerNodes(turn, link) {
  if (!link) return [turn.answer];
  const nodes = [];
  let last = 0;
  for (const match of turn.answer.matchAll(/\[(\d+)\]/g)) {
    const n = Number(match[1]);
    if (n < 1 || n > turn.citations.length) continue;
    const at = /** @type {number} */ (match.index);
    nodes.push(turn.answer.slice(last, at));
    const anchor = h('a', { href: `#${citationId(turn, n)}`, class: 'marker', 'aria-label': `source ${n}` }, match[0]);
    anchor.addEventListener('click', (event) => {
      event.preventDefault();
      const details = /** @type {HTMLDetailsElement | null} */ (document.getElementById(citationId(turn, n)));
      if (!details) return;
      details.open = true;
      details.querySelector('summary')?.focus();
      details.scrollIntoView({ block: 'nearest' });
    });
    nodes.push(anchor);
    last = at + match[0].length;
  }
  nodes.push(turn.answer.slice(last));
  return nodes;
}

/**
 * @param {Turn} turn
 * @param {number} n
 */
const citationId = (turn, n) => `cite-${turn.id}-${n}`;

/**
 * @param {Turn} turn
 * @param {Citation} c
 * @param {number} n
 */
function citationView(turn, c, n) {
  const where = [c.source, c.heading, c.page ? `p. ${c.page}` : undefined].filter(Boolean).join(' · ');
  return h(
    'li',
    {},
    h(
      'details',
      { id: citationId(turn, n), 'data-testid': 'citation' },
      h('summary', {}, h('span', { class: 'marker' }, `[${n}]`), ' ', h('strong', {}, c.title || c.source), ' ', h('span', { class: 'muted' }, where)),
      h('blockquote', { 'data-testid': 'citation-chunk' }, c.chunk),
      h('p', { class: 'muted small' }, `chunk ${c.position + 1} of ${c.source} · score ${Number(c.score).toFixed(4)}`),
    ),
  );
}

/** @param {Turn} turn */
function timingText(turn) {
  const t = /** @type {Timings} */ (turn.timings);
  const parts = [`queued ${t.queued_ms} ms`, `retrieve ${t.retrieve_ms} ms`, `generate ${t.generate_ms} ms`, `total ${t.total_ms} ms`];
  if (turn.model) parts.push(turn.model);
  return parts.join(' · ');
}
