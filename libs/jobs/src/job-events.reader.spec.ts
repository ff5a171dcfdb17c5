import { isPermanent } from '@rag/core';
import {
  InvalidEventIdError,
  JobEventsSubscription,
  SubscriberTooSlowError,
  compareEventIds,
  isTerminalEvent,
  parseEntry,
  parseEventId,
  type StreamedJobEvent,
} from './job-events.reader';

const event = (id: string, type: StreamedJobEvent['type'] = 'token', data = '{"text":"x"}'): StreamedJobEvent => ({ id, type, data });

describe('job event ids', () => {
  it('takes a full or a millisecond-only id, and 0 for the whole history', () => {
    expect(parseEventId('0')).toBe('0-0');
    expect(parseEventId('1700000000000')).toBe('1700000000000-0');
    expect(parseEventId(' 1700000000000-12 ')).toBe('1700000000000-12');
    expect(parseEventId('007-01')).toBe('7-1');
  });

  it.each(['', '-', '+', '$', '1-2-3', 'abc', '1-', '-1', '99999999999999999999-0', '1;FLUSHALL'])('refuses %j as a permanent error', (value) => {
    expect(() => parseEventId(value)).toThrow(InvalidEventIdError);
    try {
      parseEventId(value);
    } catch (error) {
      expect(isPermanent(error)).toBe(true);
    }
  });

  it('orders ids numerically, not as text', () => {
    expect(compareEventIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareEventIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareEventIds('10-10', '10-10')).toBe(0);
    expect(compareEventIds('1700000000001-0', '1700000000000-99')).toBeGreaterThan(0);
  });
});

describe('parseEntry', () => {
  it('reads the fields in any order and skips event types it does not know', () => {
    expect(parseEntry(['1-0', ['data', '{}', 'type', 'stage']])).toEqual({ id: '1-0', type: 'stage', data: '{}' });
    expect(parseEntry(['1-0', ['type', 'telemetry', 'data', '{}']])).toBeUndefined();
    expect(parseEntry(['1-0', ['type', 'token']])).toBeUndefined();
  });
});

describe('isTerminalEvent', () => {
  it('ends on done, on cancelled, and on an error no attempt follows', () => {
    expect(isTerminalEvent({ type: 'done', data: '{"status":"completed"}' })).toBe(true);
    expect(isTerminalEvent({ type: 'status', data: '{"status":"cancelled"}' })).toBe(true);
    expect(isTerminalEvent({ type: 'error', data: '{"code":"x","will_retry":false}' })).toBe(true);
    expect(isTerminalEvent({ type: 'error', data: 'not json' })).toBe(true);
  });

  it('goes on after an attempt that will be retried, and after an attempt marker', () => {
    expect(isTerminalEvent({ type: 'error', data: '{"code":"x","will_retry":true}' })).toBe(false);
    expect(isTerminalEvent({ type: 'status', data: '{"status":"active","attempt":2}' })).toBe(false);
    expect(isTerminalEvent({ type: 'token', data: '{"text":"done"}' })).toBe(false);
  });
});

describe('JobEventsSubscription', () => {
  const open = (maxBytes = 1024) => {
    const released: JobEventsSubscription[] = [];
    const subscription = new JobEventsSubscription('job-1', '0-0', maxBytes, (s) => released.push(s));
    return { subscription, released };
  };

  it('hands events over once, in order, skipping any not after the last one', async () => {
    const { subscription } = open();
    subscription.deliver(event('1-0'));
    subscription.deliver(event('1-0'));
    subscription.deliver(event('0-5'));
    const waiting = subscription.next();
    subscription.deliver(event('2-0'));
    expect((await subscription.next()).value?.id).toBe('2-0');
    expect((await waiting).value?.id).toBe('1-0');
    expect(subscription.lastId).toBe('2-0');
  });

  it('ends after the terminal event, once what was buffered is read, and frees its slot at once', async () => {
    const { subscription, released } = open();
    subscription.deliver(event('1-0'));
    expect(subscription.deliver(event('2-0', 'done', '{}'))).toBe(false);
    expect(released).toEqual([subscription]);
    expect(subscription.deliver(event('3-0'))).toBe(false);
    const seen: string[] = [];
    for await (const e of subscription) seen.push(e.id);
    expect(seen).toEqual(['1-0', '2-0']);
  });

  it('drops a subscriber still holding more than the bound when the next read comes, and says why', async () => {
    const { subscription, released } = open(100);
    // One read may overshoot the bound: a consumer that takes events as they come must not be dropped for it.
    for (let i = 1; i <= 5; i++) subscription.deliver(event(`${i}-0`, 'token', JSON.stringify({ text: 'x'.repeat(20) })));
    expect(released).toEqual([]);
    // 34 bytes an event: two read leave 102 bytes, still over the bound at the next read.
    await subscription.next();
    await subscription.next();
    expect(subscription.keepingUp()).toBe(false);
    expect(released).toEqual([subscription]);
    await expect(subscription.next()).rejects.toThrow(SubscriberTooSlowError);
    expect(await subscription.next()).toEqual({ value: undefined, done: true });
  });

  it('keeps a subscriber that has read down to the bound', async () => {
    const { subscription, released } = open(100);
    for (let i = 1; i <= 5; i++) subscription.deliver(event(`${i}-0`, 'token', JSON.stringify({ text: 'x'.repeat(20) })));
    for (let i = 0; i < 3; i++) await subscription.next();
    expect(subscription.keepingUp()).toBe(true);
    expect(released).toEqual([]);
  });

  it('paces history: room once at most half the bound is unread', async () => {
    const { subscription } = open(100);
    for (let i = 1; i <= 5; i++) subscription.deliver(event(`${i}-0`, 'token', JSON.stringify({ text: 'x'.repeat(20) })));
    let roomy = false;
    void subscription.room().then(() => (roomy = true));
    await subscription.next();
    await new Promise((r) => setImmediate(r));
    expect(roomy).toBe(false);
    // 34 bytes an event: room once at most half the bound (50) is left.
    for (let i = 0; i < 3; i++) await subscription.next();
    await new Promise((r) => setImmediate(r));
    expect(roomy).toBe(true);
  });

  it('stops and frees its slot when the consumer leaves the loop', async () => {
    const { subscription, released } = open();
    subscription.deliver(event('1-0'));
    for await (const e of subscription) {
      expect(e.id).toBe('1-0');
      break;
    }
    expect(released).toEqual([subscription]);
    expect(subscription.deliver(event('2-0'))).toBe(false);
    expect(await subscription.next()).toEqual({ value: undefined, done: true });
  });

  it('rejects the pending read when it fails', async () => {
    const { subscription } = open();
    const waiting = subscription.next();
    subscription.fail(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
  });
});
