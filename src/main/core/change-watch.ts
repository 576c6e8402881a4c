// Notices review decisions committed by other processes (the CLI, a second host) and reports the
// frames they touched, so an open UI hears of them as it hears of this host's own (review.changed).
import { stmt, type Db } from '../../store/db';

/** How often the watch looks: a decision from elsewhere reaches the UI within about this. */
export const CHANGE_POLL_MS = 500;

export interface ChangeWatchOptions {
  /** The host's write connection: its data_version moves only when ANOTHER connection commits. */
  db: Db;
  onChange(frameIds: number[]): void;
  intervalMs?: number;
}

const OWN = 'temp.concord_own_decisions';

export class ChangeWatch {
  private timer: NodeJS.Timeout | null = null;
  private version: number;
  /** Decisions up to this id are accounted for: reported, or this host's own. */
  private seen: number;

  constructor(private readonly o: ChangeWatchOptions) {
    // A TEMP trigger fires for its own connection only: it lists the decisions this host wrote
    // (and announced itself), so a look that also finds another process's never repeats them.
    o.db.exec(`CREATE TEMP TABLE IF NOT EXISTS concord_own_decisions (id INTEGER PRIMARY KEY);
      CREATE TEMP TRIGGER IF NOT EXISTS concord_own_decision AFTER INSERT ON main.decisions
      BEGIN INSERT OR IGNORE INTO ${OWN} (id) VALUES (NEW.id); END;`);
    this.version = this.dataVersion();
    this.seen = this.newest();
  }

  start(): this {
    this.timer ??= setInterval(() => this.poll(), this.o.intervalMs ?? CHANGE_POLL_MS);
    this.timer.unref(); // never what keeps a CLI process alive
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private dataVersion(): number {
    return this.o.db.pragma('data_version', { simple: true }) as number;
  }

  private newest(): number {
    return (stmt(this.o.db, 'SELECT COALESCE(MAX(id), 0) AS id FROM decisions').get() as { id: number }).id;
  }

  /** One look (the timer's; public for tests). Reads only: WAL readers never wait on a writer. */
  poll(): void {
    try {
      // The newest id is read BEFORE data_version: if no other connection committed by then,
      // every decision up to it is this host's own.
      const newest = this.newest();
      const v = this.dataVersion();
      let frameIds: number[] = [];
      if (v !== this.version) {
        this.version = v;
        const rows = stmt(
          this.o.db,
          `SELECT id, frame_id AS frameId FROM decisions WHERE id > ? AND id NOT IN (SELECT id FROM ${OWN}) ORDER BY id`,
        ).all(this.seen) as { id: number; frameId: number }[];
        frameIds = [...new Set(rows.map((r) => r.frameId))];
        this.seen = Math.max(newest, rows.at(-1)?.id ?? 0);
      } else this.seen = newest;
      stmt(this.o.db, `DELETE FROM ${OWN} WHERE id <= ?`).run(this.seen);
      // another kind of write (training, scoring) is no review change
      if (frameIds.length) this.o.onChange(frameIds);
    } catch {
      // closed, or momentarily unreadable: the next look catches up from `seen`
    }
  }
}
