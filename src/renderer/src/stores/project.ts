// The project: dataset overview, the import wizard's jobs, and (desktop only) which project is open.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { DatasetFramesPage, DatasetInfoResult, FsListing, JobInfo, Progress, RequestPayload } from '../../../shared/api';
import type { RecentProject } from '../../../preload/bridge';
import { useApi } from '../api';

export type ImportKind = 'import.abaw' | 'import.video' | 'import.images';

export type FramesFilter = RequestPayload<'dataset.frames'>['filter'] & {};

export interface FileIssue {
  file: string;
  line: number | null;
  reason: string;
  severity: 'error' | 'warning';
}

export interface ImportState {
  jobId: string;
  kind: ImportKind;
  status: 'running' | 'done' | 'failed' | 'cancelled';
  progress: Progress | null;
  issues: FileIssue[];
  summary: string | null;
  error: string | null;
}

/** Per-file errors and warnings out of an importer's result, whatever its kind. */
export function importIssues(result: unknown): FileIssue[] {
  const r = (result ?? {}) as { errors?: unknown[]; warnings?: unknown[]; videos?: { name: string; outcome?: string; error?: string }[] };
  const out: FileIssue[] = [];
  const add = (list: unknown[] | undefined, severity: FileIssue['severity']) => {
    for (const x of list ?? []) {
      const w = x as { file?: string; line?: number | null; reason?: string; message?: string };
      out.push({ file: w.file ?? '', line: w.line ?? null, reason: w.reason ?? w.message ?? String(x), severity });
    }
  };
  add(r.errors, 'error');
  add(r.warnings, 'warning');
  for (const v of r.videos ?? []) {
    if (v.outcome === 'failed' && v.error && !out.some((i) => i.reason === v.error))
      out.push({ file: v.name, line: null, reason: v.error, severity: 'error' });
  }
  return out;
}

export function importSummary(result: unknown): string {
  const r = (result ?? {}) as { videos?: { outcome?: string; frames?: number }[]; frames?: number; groups?: { images: number }[] };
  if (r.groups) return `${r.groups.reduce((a, g) => a + g.images, 0)} images in ${r.groups.length} group(s)`;
  const videos = r.videos ?? [];
  const failed = videos.filter((v) => v.outcome === 'failed').length;
  const frames = r.frames ?? videos.reduce((a, v) => a + (v.frames ?? 0), 0);
  return `${videos.length - failed} of ${videos.length} videos imported, ${frames.toLocaleString('en-US')} frames`;
}

export const useProjectStore = defineStore('project', () => {
  const api = useApi();
  const info = ref<DatasetInfoResult | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const imports = ref<ImportState[]>([]);
  const recent = ref<RecentProject[]>([]);
  /** Desktop: no project open yet. The browser host always has one. */
  const noProject = ref(false);

  const activeImport = computed(() => imports.value.find((i) => i.status === 'running') ?? null);
  const lastImport = computed(() => imports.value[imports.value.length - 1] ?? null);
  /** The newest import of one kind: each tab of the wizard shows only its own. */
  function lastImportOf(kind: ImportKind): ImportState | null {
    for (let i = imports.value.length - 1; i >= 0; i--) if (imports.value[i]!.kind === kind) return imports.value[i]!;
    return null;
  }
  const isEmpty = computed(() => !!info.value && info.value.frames === 0);

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      if (api.desktop) {
        const current = await api.desktop.currentProject();
        noProject.value = !current;
        if (!current) {
          info.value = null;
          recent.value = await api.desktop.recentProjects();
          return;
        }
      }
      info.value = await api.request('project.info', {});
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      loading.value = false;
    }
  }

  async function startImport<K extends ImportKind>(kind: K, payload: RequestPayload<K>): Promise<void> {
    error.value = null;
    let job: JobInfo;
    try {
      job = await api.request(kind, payload);
    } catch (e) {
      // A refused request (a path outside the allowed folders, a busy database) shows in the
      // wizard where it happened, like a job that failed.
      imports.value.push({
        jobId: `refused-${imports.value.length}`,
        kind,
        status: 'failed',
        progress: null,
        issues: [],
        summary: null,
        error: (e as Error).message,
      });
      return;
    }
    imports.value.push({ jobId: job.jobId, kind, status: 'running', progress: job.progress, issues: [], summary: null, error: null });
  }

  async function cancelImport(): Promise<void> {
    const job = activeImport.value;
    if (!job) return;
    try {
      await api.request('jobs.cancel', { jobId: job.jobId });
    } catch (e) {
      job.error = (e as Error).message;
    }
  }

  function find(jobId: string): ImportState | undefined {
    return imports.value.find((i) => i.jobId === jobId);
  }

  api.on('job.progress', (e) => {
    const job = find(e.jobId);
    if (job) job.progress = e.progress;
  });
  api.on('job.done', (e) => {
    const job = find(e.jobId);
    if (!job) return;
    job.status = 'done';
    job.issues = importIssues(e.result);
    job.summary = importSummary(e.result);
    void refresh();
  });
  api.on('job.error', (e) => {
    const job = find(e.jobId);
    if (!job) return;
    job.status = /cancel/i.test(e.error) ? 'cancelled' : 'failed';
    job.error = e.error;
    void refresh();
  });
  api.onReconnect(() => void refresh());

  async function chooseProject(create: boolean): Promise<void> {
    if (!api.desktop) return;
    try {
      const p = await api.desktop.chooseProject(create);
      if (p) await refresh();
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  async function openProject(path: string): Promise<void> {
    if (!api.desktop) return;
    try {
      await api.desktop.openProject(path);
      await refresh();
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  /** Desktop: a native picker for a path input; null where there is none or it was cancelled. */
  async function pickPath(kind: 'folder' | 'file', title: string): Promise<string | null> {
    try {
      return (await api.desktop?.pickPath(kind, title)) ?? null;
    } catch (e) {
      error.value = (e as Error).message;
      return null;
    }
  }

  /** One folder of the host's allowed roots (no path: the roots); refusals come back as errors. */
  function listFolder(path?: string): Promise<FsListing> {
    return api.request('fs.list', path ? { path } : {});
  }

  // The frame grid: every frame of the dataset, filtered in the store (SQLite), one page at a time.
  const frameFilter = ref<FramesFilter>({});
  const framesPage = ref<DatasetFramesPage | null>(null);
  const framesError = ref<string | null>(null);
  const framesLoading = ref(false);
  const FRAMES_PAGE = 120;
  let framesAsked = 0;

  async function loadFrames(offset = 0): Promise<void> {
    const asked = ++framesAsked;
    framesLoading.value = true;
    try {
      const page = await api.request('dataset.frames', { filter: { ...frameFilter.value }, offset, limit: FRAMES_PAGE });
      if (asked !== framesAsked) return; // a newer filter answered first
      framesPage.value = page;
      framesError.value = null;
    } catch (e) {
      if (asked === framesAsked) framesError.value = (e as Error).message;
    } finally {
      if (asked === framesAsked) framesLoading.value = false;
    }
  }

  return {
    lastImportOf,
    listFolder,
    frameFilter,
    framesPage,
    framesError,
    framesLoading,
    framesPageSize: FRAMES_PAGE,
    loadFrames,
    frameUrl: (id: number) => api.frameUrl(id),
    pickPath,
    info,
    loading,
    error,
    imports,
    activeImport,
    lastImport,
    isEmpty,
    recent,
    noProject,
    refresh,
    startImport,
    cancelImport,
    chooseProject,
    openProject,
    desktop: !!api.desktop,
  };
});
