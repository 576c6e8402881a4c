// Binds the contract to ipcMain: the one choke point between the renderer and the core. Every
// message is checked here for its sender (our app's top frame) before anything runs; the core
// parses the payload against the contract's schema. Electron comes in as parameters, so this is
// testable without it.
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { z } from 'zod';
import { isRequestName, type ConcordCore, type EventName, type Events } from '../shared/api';
import { EVENT_NAMES, IPC } from '../shared/contract';
import type { DesktopCall, IpcReply, RecentProject } from '../preload/bridge';
import { isTrustedSender } from './security';

export interface DesktopHandlers {
  currentProject(): string | null;
  recentProjects(): RecentProject[];
  chooseProject(create: boolean, event: IpcMainInvokeEvent): Promise<string | null>;
  openProject(path: string): Promise<string>;
  pickPath(kind: 'folder' | 'file', title: string, event: IpcMainInvokeEvent): Promise<string | null>;
}

export interface IpcDeps {
  /** The open project's core, or null before one is opened. */
  core(): ConcordCore | null;
  desktop: DesktopHandlers;
  devUrl?: string | null;
  log?: (line: string) => void;
}

const DesktopCallSchema: z.ZodType<DesktopCall> = z.discriminatedUnion('op', [
  z.object({ op: z.literal('currentProject') }).strict(),
  z.object({ op: z.literal('recentProjects') }).strict(),
  z.object({ op: z.literal('chooseProject'), create: z.boolean() }).strict(),
  z.object({ op: z.literal('openProject'), path: z.string().min(1).max(4096) }).strict(),
  z.object({ op: z.literal('pickPath'), kind: z.enum(['folder', 'file']), title: z.string().max(200) }).strict(),
]);

export class NoProjectError extends Error {
  constructor() {
    super('no project is open: open or create one first');
  }
}

export function bindIpc(ipcMain: IpcMain, deps: IpcDeps): () => void {
  const log = deps.log ?? (() => {});

  async function guarded<T>(event: IpcMainInvokeEvent, what: string, fn: () => Promise<T> | T): Promise<IpcReply<T>> {
    // Trust boundary: only our own app page may talk to the core.
    if (!isTrustedSender(event.senderFrame, deps.devUrl)) {
      log(`refused ${what} from ${event.senderFrame?.url ?? 'an unknown frame'}`);
      return { ok: false, error: `refused: ${what} from a page that is not Concord` };
    }
    try {
      return { ok: true, value: await fn() };
    } catch (e) {
      return { ok: false, error: (e as Error)?.message ?? String(e) };
    }
  }

  ipcMain.handle(IPC.request, (event, name: unknown, payload: unknown) =>
    guarded(event, `request ${String(name)}`, async () => {
      if (typeof name !== 'string' || !isRequestName(name)) throw new Error(`unknown request ${String(name)}`);
      const core = deps.core();
      if (!core) throw new NoProjectError();
      // The payload is untrusted still: the core parses it against the contract's schema.
      return core.request(name, payload as never);
    }),
  );

  ipcMain.handle(IPC.desktop, (event, raw: unknown) =>
    guarded(event, 'desktop call', async () => {
      const r = DesktopCallSchema.safeParse(raw);
      if (!r.success)
        throw new Error(`bad desktop call: ${r.error.issues.map((i) => `${i.path.join('.') || 'call'}: ${i.message}`).join('; ')}`);
      const call = r.data;
      switch (call.op) {
        case 'currentProject':
          return deps.desktop.currentProject();
        case 'recentProjects':
          return deps.desktop.recentProjects();
        case 'chooseProject':
          return deps.desktop.chooseProject(call.create, event);
        case 'openProject':
          return deps.desktop.openProject(call.path);
        case 'pickPath':
          return deps.desktop.pickPath(call.kind, call.title, event);
      }
    }),
  );

  return () => {
    ipcMain.removeHandler(IPC.request);
    ipcMain.removeHandler(IPC.desktop);
  };
}

/** Relay every core event to the renderer(s); returns the unsubscribe. */
export function forwardEvents(core: ConcordCore, send: <E extends EventName>(event: E, data: Events[E]) => void): () => void {
  const offs = EVENT_NAMES.map((event) => core.on(event, (data) => send(event, data)));
  return () => offs.forEach((off) => off());
}
