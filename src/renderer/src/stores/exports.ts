// Export: what the cleaned labels change, then writing them out (ABAW files, CSV, or a report).
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ExportPreview, ExportResult, Progress } from '../../../shared/api';
import { useApi } from '../api';
import { runJob } from '../job-result';

export type ExportFormat = 'abaw' | 'csv' | 'report';
export type IfExists = 'ask' | 'overwrite' | 'new';

/** The export folder already holds files: what the core said, and the fresh folder 'new' would use. */
export interface ExportConflict {
  /** "<folder> already holds an export written <when> (<format>)" */
  message: string;
  newFolder: string | null;
}

/** A 409 from export.run (over IPC only the message survives, so its words are matched too). */
export function exportConflict(e: unknown): ExportConflict | null {
  const err = e as { status?: number; message?: string };
  const msg = err?.message ?? '';
  if (err?.status !== 409 && !/ already holds .*; export again with ifExists/.test(msg)) return null;
  const [head] = msg.split('; export again with ifExists');
  const m = /'new' to write to (.+)$/.exec(msg);
  return { message: head!, newFolder: m ? m[1]! : null };
}

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
  /** Set when the folder already holds an export: the view asks overwrite / new folder / cancel. */
  const conflict = ref<ExportConflict | null>(null);

  async function loadPreview(): Promise<void> {
    try {
      preview.value = await api.request('export.preview', {});
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function run(ifExists: IfExists = 'ask', into?: string): Promise<void> {
    if (!outDir.value.trim()) {
      error.value = 'choose an output folder first';
      return;
    }
    busy.value = true;
    error.value = null;
    conflict.value = null;
    try {
      const payload = { format: format.value, outDir: into ?? outDir.value.trim(), ifExists };
      const result = await runJob<ExportResult>(api, () => api.request('export.run', payload), {
        onStart: (j) => (job.value = { jobId: j.jobId, progress: j.progress }),
        onProgress: (p) => job.value && (job.value.progress = p),
      });
      results.value = [result, ...results.value];
    } catch (e) {
      conflict.value = exportConflict(e);
      if (!conflict.value) error.value = (e as Error).message;
    } finally {
      busy.value = false;
      job.value = null;
    }
  }

  /** The conflict dialog's "new folder": exactly the sibling it named (the core's own pick could be a second later). */
  async function runInNewFolder(): Promise<void> {
    const name = conflict.value?.newFolder;
    if (!name) return run('new');
    const dir = outDir.value.trim();
    const sibling = /[\\/]/.test(dir.replace(/[\\/]+$/, '')) ? dir.replace(/[^\\/]+[\\/]*$/, name) : name;
    return run('ask', sibling);
  }

  async function cancel(): Promise<void> {
    if (job.value) await api.request('jobs.cancel', { jobId: job.value.jobId }).catch(() => undefined);
  }

  async function pickOutDir(): Promise<void> {
    const p = await api.desktop?.pickPath('folder', 'Export to folder');
    if (p) outDir.value = p;
  }

  return {
    format,
    outDir,
    preview,
    results,
    busy,
    error,
    job,
    conflict,
    loadPreview,
    run,
    runInNewFolder,
    cancel,
    pickOutDir,
    canPick: !!api.desktop,
  };
});
