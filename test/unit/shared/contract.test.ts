import { describe, expect, it } from 'vitest';
import { requests, type EventName } from '../../../src/shared/api';
import { APP_ORIGIN, APP_SCHEME, EVENT_METHODS, EVENT_NAMES, IPC, REQUEST_METHODS } from '../../../src/shared/contract';

const camel = (name: string) => name.replace(/\.([a-z])/g, (_m, c: string) => c.toUpperCase());

describe("the contract's runtime names", () => {
  it('names one bridge method per request, and no other', () => {
    expect(Object.keys(REQUEST_METHODS).sort()).toEqual(Object.keys(requests).sort());
    for (const [name, method] of Object.entries(REQUEST_METHODS)) expect(method).toBe(camel(name));
    expect(new Set(Object.values(REQUEST_METHODS)).size).toBe(Object.keys(requests).length);
  });

  it('names one on<Event> method per event, and lists every event once', () => {
    const events: EventName[] = [
      'job.progress',
      'job.done',
      'job.error',
      'train.run',
      'train.step',
      'train.epoch',
      'train.warning',
      'train.paused',
      'review.changed',
    ];
    expect([...EVENT_NAMES].sort()).toEqual([...events].sort());
    for (const e of EVENT_NAMES) {
      const c = camel(e);
      expect(EVENT_METHODS[e]).toBe(`on${c[0]!.toUpperCase()}${c.slice(1)}`);
    }
  });

  it('keeps the IPC channels distinct and the app origin on its own scheme', () => {
    expect(new Set(Object.values(IPC)).size).toBe(3);
    expect(APP_ORIGIN).toBe(`${APP_SCHEME}://app`);
  });
});

describe('src/shared stays pure', () => {
  it('imports nothing from node, electron or the DOM', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = new URL('../../../src/shared/', import.meta.url);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      for (const m of text.matchAll(/from '([^']+)'/g)) expect(`${f}: ${m[1]}`).toMatch(/: (\.\/[a-z-]+|zod)$/);
    }
  });
});
