// Review: the flag queue (paged by keyset, shown virtualised), the focused frame's detail, the
// (given → suggested) pair counts, decisions with undo/redo, segments, and inference + scoring.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, triggerRef } from 'vue';
import type {
  FlagRule,
  FrameDetail,
  JobInfo,
  JobKind,
  PairCount,
  Progress,
  QueueFilter,
  QueueItem,
  ReviewAction,
  ReviewCounts,
  ScoreSummary,
  SegmentItem,
} from '../../../shared/api';
import { labelAfter } from '../../../shared/decisions';
import { useApi } from '../api';
import { isTrainJob } from '../jobs';
import { runJob } from '../job-result';
import { labelName } from '../format';

const PAGE = 500;

export const useReviewStore = defineStore('review', () => {
  const api = useApi();
  const counts = ref<ReviewCounts | null>(null);
  const pairs = ref<PairCount[]>([]);
  const filter = ref<QueueFilter>({ status: 'open' });
  /** Loaded queue items, in score order; `total` may be larger (more pages). */
  const items = shallowRef<QueueItem[]>([]);
  const total = ref(0);
  const nextCursor = ref<{ score: number; id: number } | null>(null);
  const loadingPage = ref(false);
  const focus = ref(0);
  const selection = ref(new Set<number>());
  const anchor = ref<number | null>(null);
  const detail = ref<FrameDetail | null>(null);
  const detailError = ref<string | null>(null);
  const context = ref(4);
  const segments = ref<SegmentItem[]>([]);
  const error = ref<string | null>(null);
  const lastAction = ref<string | null>(null);
  const job = ref<{ jobId: string; kind: JobKind; status: JobInfo['status']; progress: Progress | null; error: string | null } | null>(
    null,
  );
  const scoring = ref<{ rule: FlagRule; threshold: number | null; smooth: number; runId: number | null }>({
    rule: 'all-agree',
    threshold: null,
    // the core's RECOMMENDED_SMOOTHING (not imported: the renderer bundle stays free of core code)
    smooth: 2,
    runId: null,
  });
  const lastScore = ref<ScoreSummary | null>(null);
  /** A bulk decision being applied (its progress), if any. */
  const bulk = ref<{ jobId: string; progress: Progress } | null>(null);
  /** The scoring job while it runs. */
  const scoreJob = ref<{ jobId: string; progress: Progress | null } | null>(null);

  const focused = computed(() => items.value[focus.value] ?? null);
  const hasMore = computed(() => nextCursor.value !== null);

  let generation = 0;

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

  async function reload(): Promise<void> {
    const gen = ++generation;
    nextCursor.value = null;
    error.value = null;
    loadingPage.value = true;
    try {
      const page = await api.request('review.queue', { filter: filter.value, limit: PAGE });
      if (gen !== generation) return;
      items.value = page.items;
      total.value = page.total;
      nextCursor.value = page.next;
      focus.value = 0;
      selection.value = new Set();
      anchor.value = null;
      await loadDetail();
    } catch (e) {
      if (gen === generation) error.value = (e as Error).message;
    } finally {
      if (gen === generation) loadingPage.value = false;
    }
    void refreshCounts();
  }

  /** Load pages until `upTo` items are loaded (or the queue ends). */
  async function ensureLoaded(upTo: number): Promise<void> {
    if (loadingPage.value) return;
    const gen = generation;
    loadingPage.value = true;
    try {
      while (nextCursor.value && items.value.length < upTo && gen === generation) {
        const page = await api.request('review.queue', { filter: filter.value, after: nextCursor.value, limit: PAGE });
        if (gen !== generation) return;
        items.value = [...items.value, ...page.items];
        nextCursor.value = page.next;
        total.value = Math.max(page.total, items.value.length);
      }
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      if (gen === generation) loadingPage.value = false;
    }
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
    } catch (e) {
      if (seq === detailSeq) detailError.value = (e as Error).message;
    }
  }

  async function loadDetail(): Promise<void> {
    const item = focused.value;
    if (!item) {
      detailSeq++;
      detail.value = null;
      return;
    }
    await fetchDetail(item.frameId);
  }

  /** Show any frame in the detail panel (a neighbour, a timeline position); focus it if it is queued. */
  async function showFrame(frameId: number): Promise<void> {
    const i = items.value.findIndex((it) => it.frameId === frameId);
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
    let best = -1;
    items.value.forEach((it, i) => {
      if (it.video === d.video && (best < 0 || Math.abs(it.idx - idx) < Math.abs(items.value[best].idx - idx))) best = i;
    });
    if (best >= 0) setFocus(best);
  }

  async function setFilter(f: Partial<QueueFilter>): Promise<void> {
    const next: QueueFilter = { ...filter.value, ...f };
    for (const k of Object.keys(next) as (keyof QueueFilter)[]) if (next[k] === undefined) delete next[k];
    filter.value = next;
    await reload();
  }

  function setFocus(i: number): void {
    if (!items.value.length) return;
    const clamped = Math.max(0, Math.min(i, total.value - 1));
    if (clamped >= items.value.length) {
      void ensureLoaded(clamped + 1).then(() => {
        focus.value = Math.min(clamped, items.value.length - 1);
        void loadDetail();
      });
      return;
    }
    focus.value = clamped;
    void loadDetail();
    if (clamped > items.value.length - 50) void ensureLoaded(items.value.length + PAGE);
  }

  /** Click, shift-click (range) and ctrl/cmd-click (toggle) selection. */
  function click(i: number, mods: { shift?: boolean; toggle?: boolean } = {}): void {
    const item = items.value[i];
    if (!item) return;
    if (mods.shift && anchor.value !== null) {
      const [a, b] = [Math.min(anchor.value, i), Math.max(anchor.value, i)];
      const s = new Set(selection.value);
      for (let k = a; k <= b; k++) if (items.value[k]) s.add(items.value[k].frameId);
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

  function nextOpen(from: number): number {
    for (let i = from + 1; i < items.value.length; i++) if (items.value[i].status === 'open') return i;
    return Math.min(from + 1, Math.max(0, items.value.length - 1));
  }

  /** Decide on the selection, or on the focused frame; then move on to the next open one. */
  async function decide(action: ReviewAction, label?: number, frameIds?: number[]): Promise<void> {
    const ids = frameIds ?? (selection.value.size ? [...selection.value] : focused.value ? [focused.value.frameId] : []);
    if (!ids.length) return;
    error.value = null;
    try {
      const r = await api.request('review.decide', { frameIds: ids, action, ...(label !== undefined ? { label } : {}) });
      const set = new Set(ids);
      items.value = items.value.map((it) =>
        set.has(it.frameId) ? { ...it, status: action === 'skip' ? it.status : 'decided', current: labelAfter(action, it, label) } : it,
      );
      const what =
        action === 'relabel'
          ? `relabelled as ${labelName(label)}`
          : action === 'accept'
            ? 'accepted the suggestion'
            : action === 'keep'
              ? 'kept the given label'
              : action === 'exclude'
                ? 'excluded'
                : 'skipped';
      lastAction.value = `${r.decided} frame${r.decided === 1 ? '' : 's'} ${what}`;
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
    const loaded = new Map(items.value.map((it, i) => [it.frameId, i]));
    const hit = frameIds.filter((id) => loaded.has(id));
    if (hit.length > 200) return reload();
    const details = await Promise.all(
      hit.map((frameId) => api.request('review.frame', { frameId, context: 0, timeline: false }).catch(() => null)),
    );
    const copy = [...items.value];
    for (const d of details) {
      if (!d) continue;
      const i = loaded.get(d.frameId)!;
      copy[i] = d.flag ? { ...copy[i], ...d.flag } : { ...copy[i], current: d.current };
    }
    items.value = copy;
    triggerRef(items);
    if (focused.value && frameIds.includes(focused.value.frameId)) void loadDetail();
  }

  async function startInference(runId?: number): Promise<void> {
    error.value = null;
    try {
      const info = await api.request('infer.start', runId !== undefined ? { runId } : {});
      job.value = { jobId: info.jobId, kind: info.kind, status: info.status, progress: info.progress, error: null };
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function score(): Promise<void> {
    if (scoreJob.value) return;
    error.value = null;
    try {
      const s = scoring.value;
      const payload = {
        rule: s.rule,
        ...(s.threshold !== null ? { threshold: s.threshold } : {}),
        ...(s.smooth > 0 ? { smooth: s.smooth } : {}),
        ...(s.runId !== null ? { runId: s.runId } : {}),
      };
      lastScore.value = await runJob<ScoreSummary>(api, () => api.request('flags.score', payload), {
        onStart: (j) => (scoreJob.value = { jobId: j.jobId, progress: j.progress }),
        onProgress: (p) => scoreJob.value && (scoreJob.value.progress = p),
      });
      scoreJob.value = null;
      await reload();
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      scoreJob.value = null;
    }
  }

  async function cancelScore(): Promise<void> {
    if (scoreJob.value) await api.request('jobs.cancel', { jobId: scoreJob.value.jobId }).catch(() => undefined);
  }

  api.on('review.changed', (e) => {
    void refreshFrames(e.frameIds);
    void refreshCounts();
  });
  api.on('job.progress', (e) => {
    if (job.value?.jobId === e.jobId) job.value.progress = e.progress;
  });
  api.on('job.done', (e) => {
    if (job.value?.jobId === e.jobId) {
      job.value.status = 'done';
      // Predictions are in: score them with the chosen rule.
      if (e.kind === 'infer') void score();
    } else if (isTrainJob(e.kind)) void reload();
  });
  api.on('job.error', (e) => {
    if (job.value?.jobId === e.jobId) {
      job.value.status = /cancel/i.test(e.error) ? 'cancelled' : 'failed';
      job.value.error = e.error;
    }
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
    items,
    total,
    hasMore,
    loadingPage,
    focus,
    focused,
    selection,
    detail,
    detailError,
    context,
    segments,
    error,
    lastAction,
    job,
    scoring,
    lastScore,
    scoreJob,
    cancelScore,
    refreshCounts,
    reload,
    ensureLoaded,
    loadDetail,
    setFilter,
    setFocus,
    showFrame,
    seek,
    click,
    clearSelection,
    decide,
    undo,
    loadSegments,
    decideSegment,
    startInference,
    score,
  };
});
