// Review: the flag queue (sparse pages by position, shown virtualised), the focused frame's detail, the
// (given → suggested) pair counts, decisions with undo/redo and segments. Making the flags (inference,
// cross-fit, scoring) is stores/scoring.ts.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, triggerRef } from 'vue';
import type {
  FrameDetail,
  PairCount,
  Progress,
  QueueFilter,
  QueueItem,
  QueuePage,
  ReviewAction,
  ReviewCounts,
  SegmentItem,
} from '../../../shared/api';
import { labelAfter } from '../../../shared/decisions';
import { useApi } from '../api';
import { isTrainJob } from '../jobs';
import { actionText, labelName } from '../format';
import {
  itemOf,
  loadedEntries as loadedEntries0,
  pageOf,
  pagesToDrop,
  pagesToFetch,
  parseGoTo,
  withNames,
  patchPages,
  positionText,
  QUEUE_PAGE,
} from '../queue-window';

/** review.queue's filter, as the Review view sets it (the contract's QueueFilter). */
export type ReviewFilter = QueueFilter;

export const useReviewStore = defineStore('review', () => {
  const api = useApi();
  const counts = ref<ReviewCounts | null>(null);
  const pairs = ref<PairCount[]>([]);
  const filter = ref<ReviewFilter>({ status: 'open' });
  /**
   * The filtered queue as sparse pages by position (queue-window.ts): page p holds items
   * p*QUEUE_PAGE.. A decided item stays in place, marked, until the queue reloads.
   */
  const pages = shallowRef(new Map<number, QueueItem[]>());
  const total = ref(0);
  const loadingPage = ref(false);
  const focus = ref(0);
  const selection = ref(new Set<number>());
  const anchor = ref<number | null>(null);
  const detail = ref<FrameDetail | null>(null);
  const detailError = ref<string | null>(null);
  /** Why the detail shows a frame that is not the focused card (go-to outside the filtered queue). */
  const detailNote = ref<string | null>(null);
  const context = ref(4);
  const segments = ref<SegmentItem[]>([]);
  const segmentFocus = ref(0);
  const error = ref<string | null>(null);
  const lastAction = ref<string | null>(null);
  /** A bulk decision being applied (its progress), if any. */
  const bulk = ref<{ jobId: string; progress: Progress } | null>(null);
  /** Video names met so far (queue items, details): the video filter's suggestions. */
  const knownVideos = ref<string[]>([]);

  const itemAt = (i: number): QueueItem | undefined => itemOf(pages.value, i);
  const loadedEntries = () => loadedEntries0(pages.value);
  function indexOfFrame(frameId: number): number {
    for (const [i, it] of loadedEntries()) if (it.frameId === frameId) return i;
    return -1;
  }
  /** Replace loaded items (by position) and tell the views. */
  function patchItems(change: (it: QueueItem) => QueueItem | null): void {
    if (patchPages(pages.value, change)) triggerRef(pages);
  }
  const loadedCount = computed(() => [...pages.value.values()].reduce((s, l) => s + l.length, 0));
  const focused = computed(() => itemAt(focus.value) ?? null);
  const hasMore = computed(() => loadedCount.value < total.value);
  const position = computed(() => positionText(focus.value, total.value));

  let generation = 0;
  const inFlight = new Map<number, Promise<void>>();

  function noteVideos(names: Iterable<string>): void {
    const next = withNames(knownVideos.value, names, 5000);
    if (next) knownVideos.value = next;
  }

  /**
   * The server offset of local position `i`: the loaded items before it that left the filtered
   * queue since it loaded (decided while showing open flags, reopened while showing decided ones)
   * no longer count there.
   */
  function serverOffset(i: number): number {
    const status = filter.value.status ?? 'open';
    if (status === 'all') return i;
    let gone = 0;
    for (const [k, it] of loadedEntries()) if (k < i && it.status !== status) gone++;
    return Math.max(0, i - gone);
  }

  function fetchPage(p: number): Promise<void> {
    const running = inFlight.get(p);
    if (running) return running;
    if (pages.value.has(p)) return Promise.resolve();
    const gen = generation;
    const work = (async () => {
      loadingPage.value = true;
      try {
        const page = (await api.request('review.queue', {
          filter: filter.value,
          offset: serverOffset(p * QUEUE_PAGE),
          limit: QUEUE_PAGE,
        })) as QueuePage;
        if (gen !== generation) return;
        pages.value.set(p, page.items);
        triggerRef(pages);
        noteVideos(page.items.map((it) => it.video));
      } catch (e) {
        if (gen === generation) error.value = (e as Error).message;
      } finally {
        inFlight.delete(p);
        if (gen === generation) loadingPage.value = inFlight.size > 0;
      }
    })();
    inFlight.set(p, work);
    return work;
  }

  /** Drop the pages farthest from the view when too many are held (queue-window.ts pagesToDrop). */
  function evict(keepFrom: number, keepTo: number): void {
    const drop = pagesToDrop(pages.value, pageOf(focus.value), filter.value.status ?? 'open', keepFrom, keepTo);
    for (const p of drop) pages.value.delete(p);
    if (drop.length) triggerRef(pages);
  }

  /** Load the pages holding positions first..last (the grid's visible rows and a few more). */
  async function ensureRange(first: number, last: number): Promise<void> {
    const want = pagesToFetch(first, last, total.value, (p) => pages.value.has(p) || inFlight.has(p));
    await Promise.all(want.map(fetchPage));
    evict(pageOf(first), pageOf(last));
  }

  /** Load everything up to position `upTo` (kept for callers that think in a prefix). */
  async function ensureLoaded(upTo: number): Promise<void> {
    await ensureRange(Math.max(0, upTo - QUEUE_PAGE), upTo);
  }

  async function refreshCounts(): Promise<void> {
    try {
      const [c, p] = await Promise.all([
        api.request('review.counts', {}),
        api.request('review.pairs', { status: filter.value.status ?? 'open' }),
      ]);
      counts.value = c;
      pairs.value = p;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function reload(keepFocus = false): Promise<void> {
    const gen = ++generation;
    const wasFocus = focus.value;
    inFlight.clear();
    error.value = null;
    loadingPage.value = true;
    try {
      const page = (await api.request('review.queue', { filter: filter.value, offset: 0, limit: QUEUE_PAGE })) as QueuePage;
      if (gen !== generation) return;
      pages.value = new Map([[0, page.items]]);
      total.value = page.total;
      noteVideos(page.items.map((it) => it.video));
      focus.value = 0;
      selection.value = new Set();
      anchor.value = null;
      detailNote.value = null;
      if (keepFocus && wasFocus > 0 && wasFocus < page.total) await focusAt(wasFocus);
      else await loadDetail();
    } catch (e) {
      if (gen === generation) error.value = (e as Error).message;
    } finally {
      if (gen === generation) loadingPage.value = false;
    }
    void refreshCounts();
  }

  /** The newest detail request wins: a slow answer never replaces what the user went to since. */
  let detailSeq = 0;

  async function fetchDetail(frameId: number): Promise<void> {
    const seq = ++detailSeq;
    try {
      const d = await api.request('review.frame', { frameId, context: context.value });
      if (seq !== detailSeq) return;
      detail.value = d;
      detailError.value = null;
      noteVideos([d.video]);
    } catch (e) {
      if (seq === detailSeq) detailError.value = (e as Error).message;
    }
  }

  async function loadDetail(): Promise<void> {
    const item = focused.value;
    detailNote.value = null;
    if (!item) {
      detailSeq++;
      detail.value = null;
      return;
    }
    await fetchDetail(item.frameId);
  }

  /** Show any frame in the detail panel (a neighbour, a timeline position); focus it if it is loaded in the queue. */
  async function showFrame(frameId: number): Promise<void> {
    const i = indexOfFrame(frameId);
    if (i >= 0) return setFocus(i);
    await fetchDetail(frameId);
  }

  /**
   * Timeline click: go to frame `idx` of the shown video (its detail brings the window around it);
   * if the core cannot resolve it, to the nearest flagged frame of that video that is loaded.
   */
  async function seek(idx: number): Promise<void> {
    const d = detail.value;
    if (!d) return;
    try {
      const { frameId } = await api.request('review.frameId', { ref: `${d.video}:${idx}` });
      return await showFrame(frameId);
    } catch {
      // no such frame: fall through to the nearest flag
    }
    let best: [number, QueueItem] | null = null;
    for (const e of loadedEntries()) {
      if (e[1].video === d.video && (!best || Math.abs(e[1].idx - idx) < Math.abs(best[1].idx - idx))) best = e;
    }
    if (best) setFocus(best[0]);
  }

  async function setFilter(f: Partial<ReviewFilter>, replace = false): Promise<void> {
    const next: ReviewFilter = replace ? { status: 'open', ...f } : { ...filter.value, ...f };
    for (const k of Object.keys(next) as (keyof ReviewFilter)[]) {
      const v = next[k];
      if (v === undefined || (Array.isArray(v) && !v.length)) delete next[k];
    }
    // the decided-only fields mean nothing for open flags
    if ((next.status ?? 'open') === 'open') delete next.actions;
    filter.value = next;
    await reload();
  }

  /** Focus position i of the filtered queue, loading its page first when it is not loaded. */
  async function focusAt(i: number): Promise<void> {
    if (total.value <= 0) return;
    const clamped = Math.max(0, Math.min(i, total.value - 1));
    if (!itemAt(clamped)) await ensureRange(clamped, clamped);
    if (!itemAt(clamped)) return;
    focus.value = clamped;
    detailNote.value = null;
    void loadDetail();
    // the next page too, so moving on never waits
    void ensureRange(clamped, clamped + 40);
  }

  function setFocus(i: number): void {
    void focusAt(i);
  }

  /** End: the last flag of the filtered queue, as the core counts it now. */
  async function focusLast(): Promise<void> {
    try {
      const page = (await api.request('review.queue', { filter: filter.value, fromEnd: true, limit: 1 })) as QueuePage;
      if (!page.items.length) return;
      if (page.total !== total.value) {
        // decisions since the queue loaded moved positions: start over from the core's numbering
        generation++;
        inFlight.clear();
        total.value = page.total;
        const at = page.offset;
        pages.value = new Map();
        const p = pageOf(at);
        if (at === p * QUEUE_PAGE) pages.value.set(p, page.items);
        triggerRef(pages);
      }
      await focusAt(total.value - 1);
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  /**
   * Go to a frame by `video:frame` or frame id: focus it when it is in the filtered queue, else show
   * it in the detail panel with a note saying so.
   */
  async function goTo(text: string): Promise<boolean> {
    const ref0 = parseGoTo(text);
    if (!ref0) {
      detailError.value = `"${text}" is not video:frame or a frame id`;
      return false;
    }
    try {
      const r = await api.request('review.locate', { ref: ref0.ref, filter: filter.value });
      if (r.position !== null && r.position !== undefined) {
        if (r.total !== total.value) await reload();
        const local = localPosition(r.position, r.frameId);
        await focusAt(local);
        if (focused.value?.frameId === r.frameId) return true;
      }
      await fetchDetail(r.frameId);
      detailNote.value =
        r.flagId === null
          ? 'This frame has no flag from the current scoring.'
          : 'This frame is not in the filtered queue (see the filters).';
      return true;
    } catch (e) {
      detailError.value = (e as Error).message;
      return false;
    }
  }

  /** The local position of the core's position `p` (items that left the queue since it loaded are still shown). */
  function localPosition(p: number, frameId: number): number {
    const known = indexOfFrame(frameId);
    if (known >= 0) return known;
    const status = filter.value.status ?? 'open';
    if (status === 'all') return p;
    let i = p;
    for (const [k, it] of loadedEntries().sort((a, b) => a[0] - b[0])) if (k <= i && it.status !== status) i++;
    return i;
  }

  /** Click, shift-click (range) and ctrl/cmd-click (toggle) selection. */
  function click(i: number, mods: { shift?: boolean; toggle?: boolean } = {}): void {
    const item = itemAt(i);
    if (!item) return;
    if (mods.shift && anchor.value !== null) {
      const [a, b] = [Math.min(anchor.value, i), Math.max(anchor.value, i)];
      const s = new Set(selection.value);
      for (let k = a; k <= b; k++) {
        const it = itemAt(k);
        if (it) s.add(it.frameId);
      }
      selection.value = s;
    } else if (mods.toggle) {
      const s = new Set(selection.value);
      if (s.has(item.frameId)) s.delete(item.frameId);
      else s.add(item.frameId);
      selection.value = s;
      anchor.value = i;
    } else {
      selection.value = new Set();
      anchor.value = i;
    }
    setFocus(i);
  }

  function clearSelection(): void {
    selection.value = new Set();
  }

  /** The next open flag after `from` among the loaded ones (else simply the next position). */
  function nextOpen(from: number): number {
    for (let i = from + 1; i < total.value; i++) {
      const it = itemAt(i);
      if (!it) break;
      if (it.status === 'open') return i;
    }
    return Math.min(from + 1, Math.max(0, total.value - 1));
  }

  /** Decide on the selection, or on the focused frame; then move on to the next open one. */
  async function decide(action: ReviewAction, label?: number, frameIds?: number[]): Promise<void> {
    const ids = frameIds ?? (selection.value.size ? [...selection.value] : focused.value ? [focused.value.frameId] : []);
    if (!ids.length) return;
    error.value = null;
    try {
      const r = await api.request('review.decide', { frameIds: ids, action, ...(label !== undefined ? { label } : {}) });
      const set = new Set(ids);
      patchItems((it) =>
        set.has(it.frameId) ? { ...it, status: action === 'skip' ? it.status : 'decided', current: labelAfter(action, it, label) } : null,
      );
      lastAction.value = `${r.decided} frame${r.decided === 1 ? '' : 's'} ${actionText(action, labelName(label))}`;
      selection.value = new Set();
      if (!frameIds) setFocus(nextOpen(focus.value));
      void refreshCounts();
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function undo(redo = false): Promise<void> {
    try {
      const r = redo ? await api.request('review.redo', {}) : await api.request('review.undo', {});
      const n = 'undone' in r ? r.undone : r.redone;
      lastAction.value = n ? `${redo ? 'redid' : 'undid'} ${n} decision${n === 1 ? '' : 's'}` : `nothing to ${redo ? 'redo' : 'undo'}`;
      void refreshCounts();
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function loadSegments(): Promise<void> {
    try {
      segments.value = await api.request('review.segments', { filter: filter.value, limit: 200 });
      segmentFocus.value = Math.max(0, Math.min(segmentFocus.value, segments.value.length - 1));
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function decideSegment(seg: SegmentItem, action: ReviewAction, label?: number): Promise<void> {
    await decide(action, label, seg.frameIds);
    await loadSegments();
  }

  /** Items whose frames changed elsewhere (undo/redo, another window): refetch them. */
  async function refreshFrames(frameIds: number[]): Promise<void> {
    const wanted = new Set(frameIds);
    const hit = loadedEntries()
      .filter(([, it]) => wanted.has(it.frameId))
      .map(([, it]) => it.frameId);
    if (hit.length > 200) return reload(true);
    const details = await Promise.all(
      hit.map((frameId) => api.request('review.frame', { frameId, context: 0, timeline: false }).catch(() => null)),
    );
    const byId = new Map(details.filter((d): d is FrameDetail => d !== null).map((d) => [d.frameId, d]));
    patchItems((it) => {
      const d = byId.get(it.frameId);
      if (!d) return null;
      return d.flag ? { ...it, ...d.flag } : { ...it, current: d.current };
    });
    if (focused.value && wanted.has(focused.value.frameId)) void loadDetail();
  }

  api.on('review.changed', (e) => {
    void refreshFrames(e.frameIds);
    void refreshCounts();
  });
  api.on('job.done', (e) => {
    if (isTrainJob(e.kind)) void reload();
  });
  // A large decision (a segment, a whole pair) is applied in batches and reports progress as a job.
  api.on('job.progress', (e) => {
    if (e.kind === 'review.decide') bulk.value = { jobId: e.jobId, progress: e.progress };
  });
  const endBulk = (e: { jobId: string }) => {
    if (bulk.value?.jobId === e.jobId) bulk.value = null;
  };
  api.on('job.done', endBulk);
  api.on('job.error', endBulk);
  api.onReconnect(() => void reload());

  return {
    bulk,
    counts,
    pairs,
    filter,
    pages,
    itemAt,
    loadedCount,
    total,
    hasMore,
    loadingPage,
    focus,
    focused,
    position,
    selection,
    detail,
    detailError,
    detailNote,
    context,
    segments,
    segmentFocus,
    error,
    lastAction,
    knownVideos,
    refreshCounts,
    reload,
    ensureLoaded,
    ensureRange,
    loadDetail,
    setFilter,
    setFocus,
    focusAt,
    focusLast,
    goTo,
    showFrame,
    seek,
    click,
    clearSelection,
    decide,
    undo,
    loadSegments,
    decideSegment,
  };
});
