// The decided list: every frame with a standing decision, once, newest first (review.decisions),
// with its action and final label. Paged by decision id; reloaded when decisions change.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { DecidedFrame } from '../../../shared/api';
import { useApi } from '../api';

const PAGE = 100;

export const useDecidedStore = defineStore('decided', () => {
  const api = useApi();
  const items = ref<DecidedFrame[]>([]);
  const total = ref(0);
  const next = ref<number | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** whether a view shows the list (it is only fetched then) */
  let shown = false;
  let seq = 0;

  async function load(more = false): Promise<void> {
    const mine = ++seq;
    loading.value = true;
    try {
      const page = await api.request('review.decisions', { limit: PAGE, ...(more && next.value !== null ? { before: next.value } : {}) });
      if (mine !== seq) return;
      items.value = more ? [...items.value, ...page.items] : page.items;
      total.value = page.total;
      next.value = page.next;
      error.value = null;
    } catch (e) {
      if (mine === seq) error.value = (e as Error).message;
    } finally {
      if (mine === seq) loading.value = false;
    }
  }

  function show(on: boolean): void {
    shown = on;
    if (on) void load();
  }

  api.on('review.changed', () => {
    if (shown) void load();
  });

  return { items, total, next, loading, error, load, show };
});
