// Export: what the cleaned labels change, then writing them out (ABAW files, CSV, or a report).
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ExportPreview, ExportResult, Progress } from '../../../shared/api';
import { useApi } from '../api';
import { runJob } from '../job-result';

export type ExportFormat = 'abaw' | 'csv' | 'report';

export const useExportsStore = defineStore('exports', () => {
  const api = useApi();
  const format = ref<ExportFormat>('abaw');
  const outDir = ref('export');
  const preview = ref<ExportPreview | null>(null);
  const results = ref<ExportResult[]>([]);
  const busy = ref(false);
  const error = ref<string | null>(null);
  /** The export job while it runs. */
  const job = ref<{ jobId: string; progress: Progress | null } | null>(null);

  async function loadPreview(): Promise<void> {
    try {
      preview.value = await api.request('export.preview', {});
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function run(): Promise<void> {
    if (!outDir.value.trim()) {
      error.value = 'choose an output folder first';
      return;
    }
    busy.value = true;
    error.value = null;
    try {
      const payload = { format: format.value, outDir: outDir.value.trim() };
      const result = await runJob<ExportResult>(api, () => api.request('export.run', payload), {
        onStart: (j) => (job.value = { jobId: j.jobId, progress: j.progress }),
        onProgress: (p) => job.value && (job.value.progress = p),
      });
      results.value = [result, ...results.value];
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      busy.value = false;
      job.value = null;
    }
  }

  async function cancel(): Promise<void> {
    if (job.value) await api.request('jobs.cancel', { jobId: job.value.jobId }).catch(() => undefined);
  }

  async function pickOutDir(): Promise<void> {
    const p = await api.desktop?.pickPath('folder', 'Export to folder');
    if (p) outDir.value = p;
  }

  return { format, outDir, preview, results, busy, error, job, loadPreview, run, cancel, pickOutDir, canPick: !!api.desktop };
});
