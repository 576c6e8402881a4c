// The review store over a fake core holding a million flags: pages are fetched by position, End
// and go-to load one page near their target instead of everything before it, the held pages stay
// bounded, and a decision that takes a flag out of the open queue shifts later offsets.
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { ref } from 'vue';
import { setApi, type Api } from '../../../src/renderer/src/api';
import { useReviewStore } from '../../../src/renderer/src/stores/review';
import { MAX_PAGES, QUEUE_PAGE } from '../../../src/renderer/src/queue-window';
import type { QueueItem } from '../../../src/shared/api';

const N = 1_000_000;

function fakeCore() {
  const decided = new Set<number>();
  const calls: { name: string; payload: Record<string, unknown> }[] = [];
  const item = (frameId: number): QueueItem => ({
    flagId: frameId,
    frameId,
    video: `v${Math.floor(frameId / 1000)}`,
    split: 'Train_Set',
    idx: frameId % 1000,
    given: 0,
    suggested: 1,
    current: 0,
    original: 0,
    score: 1 - frameId / (N + 1),
    allAgree: true,
    rule: 'all-agree',
    status: decided.has(frameId) ? 'decided' : 'open',
    decision: decided.has(frameId) ? 'accept' : null,
    netProbs: [0.9, 0.8, 0.7],
  });
  /** the open flags from position `offset`, skipping decided frames (few, so a scan is fine) */
  function page(offset: number, limit: number): QueueItem[] {
    const out: QueueItem[] = [];
    const sorted = [...decided].sort((a, b) => a - b);
    let id = offset + 1;
    for (const d of sorted) if (d <= id) id++;
    while (out.length < limit && id <= N) {
      if (!decided.has(id)) out.push(item(id));
      id++;
    }
    return out;
  }
  const api: Api = {
    async request(name: string, payload: Record<string, unknown> = {}) {
      calls.push({ name, payload });
      const total = N - decided.size; // the open queue: frames 1..N not decided, in order
      switch (name) {
        case 'review.queue': {
          const limit = Number(payload.limit ?? 100);
          if (payload.fromEnd) {
            const offset = Math.max(0, total - limit);
            return { items: page(offset, limit), next: null, total, offset };
          }
          const offset = Number(payload.offset ?? 0);
          return { items: page(offset, limit), next: null, total, offset };
        }
        case 'review.counts':
          return {
            flagged: N,
            open: total,
            decided: decided.size,
            byAction: { relabel: 0, accept: decided.size, keep: 0, exclude: 0 },
            changed: decided.size,
            run: null,
          };
        case 'review.pairs':
          return [];
        case 'review.frame':
          return {
            frameId: payload.frameId,
            video: 'v',
            split: 'Train_Set',
            idx: 1,
            original: 0,
            current: 0,
            hasFace: true,
            probs: null,
            consensus: null,
            flag: null,
            neighbours: [],
            timeline: null,
            history: [],
          };
        case 'review.decide':
          for (const id of payload.frameIds as number[]) if (payload.action !== 'skip') decided.add(id);
          return { decided: (payload.frameIds as number[]).length, groupId: 1 };
        case 'review.locate': {
          const frameId = Number(String(payload.ref).split(':').pop());
          const position = decided.has(frameId) ? null : frameId - 1 - [...decided].filter((d) => d < frameId).length;
          return { frameId, flagId: position === null ? null : frameId, position, total };
        }
        default:
          throw new Error(`unexpected request ${name}`);
      }
    },
    on: () => () => {},
    frameUrl: (id: number) => `/frames/${id}.jpg`,
    desktop: null,
    connection: ref('open'),
    onReconnect: () => () => {},
  } as unknown as Api;
  return { api, calls, decided };
}

describe('the review store over a million flags', () => {
  let core: ReturnType<typeof fakeCore>;
  beforeEach(() => {
    core = fakeCore();
    setApi(core.api);
    setActivePinia(createPinia());
  });
  const queueCalls = () => core.calls.filter((c) => c.name === 'review.queue');

  it('loads the first page, then End reaches the last flag with one page near it', async () => {
    const r = useReviewStore();
    await r.reload();
    expect(r.total).toBe(N);
    expect(r.focused?.frameId).toBe(1);
    expect(r.position).toBe('flag 1 of 1,000,000');
    core.calls.length = 0;
    await r.focusLast();
    expect(r.focus).toBe(N - 1);
    expect(r.focused?.frameId).toBe(N);
    expect(r.position).toBe('flag 1,000,000 of 1,000,000');
    // the fromEnd probe, the last page, and the prefetch after it at most
    expect(queueCalls().length).toBeLessThanOrEqual(3);
    expect(queueCalls().some((c) => c.payload.fromEnd === true)).toBe(true);
    expect(r.loadedCount).toBeLessThanOrEqual(3 * QUEUE_PAGE);
  });

  it('loads a range deep in the queue (a scrollbar drag) by offset, and keeps the held pages bounded', async () => {
    const r = useReviewStore();
    await r.reload();
    await r.ensureRange(654_321, 654_321 + 40);
    expect(r.itemAt(654_321)?.frameId).toBe(654_322);
    const offsets = queueCalls().map((c) => c.payload.offset);
    expect(offsets).toContain(Math.floor(654_321 / QUEUE_PAGE) * QUEUE_PAGE);
    for (let k = 0; k < MAX_PAGES + 10; k++) await r.ensureRange(k * 5000, k * 5000 + 10);
    expect(r.pages.size).toBeLessThanOrEqual(MAX_PAGES);
  });

  it('keeps decided flags in place and asks for later pages at their shifted offsets', async () => {
    const r = useReviewStore();
    await r.reload();
    await r.decide('accept'); // frame 1 leaves the open queue
    await r.decide('keep'); // and frame 2
    expect(r.itemAt(0)?.status).toBe('decided');
    expect(r.itemAt(1)?.status).toBe('decided');
    expect(r.focused?.frameId).toBe(3);
    // page 1 (positions 200..399 as shown) is the core's 198..397 now
    await r.ensureRange(QUEUE_PAGE, QUEUE_PAGE + 5);
    const last = queueCalls().at(-1)!;
    expect(last.payload.offset).toBe(QUEUE_PAGE - 2);
    expect(r.itemAt(QUEUE_PAGE)?.frameId).toBe(QUEUE_PAGE + 1);
    expect(r.itemAt(QUEUE_PAGE - 1)?.frameId).toBe(QUEUE_PAGE);
  });

  it('skips without deciding, and goes to a frame far down the queue', async () => {
    const r = useReviewStore();
    await r.reload();
    await r.decide('skip');
    expect(r.itemAt(0)?.status).toBe('open');
    expect(r.focused?.frameId).toBe(2);
    expect(await r.goTo('v500:500500')).toBe(true);
    expect(r.focused?.frameId).toBe(500_500);
    expect(r.detailNote).toBeNull();
  });
});
