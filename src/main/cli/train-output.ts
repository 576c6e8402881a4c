// What the training commands print: one line per epoch (or JSON lines with --json), the run line,
// the closing line with the resume hint, and the note on training from random weights.
import type { EpochMetrics } from '../../shared/api';
import type { TrainerResult } from '../../trainer/protocol';
import { ProjectError } from '../../store/db';
import { TrainerError } from '../core/jobs';
import { usageLine, UsageError } from './args';
import type { Io } from './io';
import { formatEta } from './progress-bar';

export function fmt(x: number, d = 3): string {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}

/** One readable line per epoch. */
export function formatEpochLine(m: EpochMetrics, epochs: number | null): string {
  const parts = [
    `epoch ${String(m.epoch + 1).padStart(3)}${epochs ? `/${epochs}` : ''}`,
    `loss ${fmt(m.loss.total)} (sup ${fmt(m.loss.sup)} cons ${fmt(m.loss.cons)})`,
    `λ ${fmt(m.lambda)}`,
    `lr ${m.lr.toExponential(2)}`,
  ];
  if (m.val) {
    const e = m.val.ensemble;
    parts.push(`val acc ${fmt(e.accuracy)} F1 ${fmt(e.macroF1)} overall ${fmt(e.overall)}`);
    if (m.val.nets.length > 1) parts.push(`nets ${m.val.nets.map((n) => fmt(n.overall)).join('/')}`);
  }
  parts.push(`${fmt(m.imagesPerSec, 1)} img/s`, `ETA ${formatEta(m.etaSeconds)}`);
  return parts.join('  ');
}

export interface RunStarted {
  runId: number;
  kind: string;
  backend: string | null;
  device: string | null;
  resumedFromEpoch: number;
  config: unknown;
}

/** A run has started: a JSON line on stdout with --json, else one line on stderr. */
export function printRun(io: Io, json: boolean, m: RunStarted): void {
  if (json)
    io.out(
      JSON.stringify({
        event: 'run',
        runId: m.runId,
        kind: m.kind,
        backend: m.backend,
        device: m.device,
        resumedFromEpoch: m.resumedFromEpoch,
        config: m.config,
      }),
    );
  else {
    const resumed = m.kind !== 'infer' && m.resumedFromEpoch ? `, resuming after epoch ${m.resumedFromEpoch}` : '';
    io.err(`run ${m.runId} (${m.kind}) on ${m.backend} (${m.device})${resumed}`);
  }
}

export function printEpoch(io: Io, json: boolean, runId: number, m: EpochMetrics, epochs: number | null): void {
  io.out(json ? JSON.stringify({ event: 'epoch', runId, ...m }) : formatEpochLine(m, epochs));
}

/** The closing line; exit code 130 when cancelled. */
export function finish(io: Io, json: boolean, r: TrainerResult, what: string): number {
  if (json) io.out(JSON.stringify({ event: 'done', ...r }));
  else if (r.status === 'cancelled')
    io.err(`${what} cancelled; run the same command with --resume${r.runId ? ` --run ${r.runId}` : ''} to continue`);
  else {
    const bits = [
      `${what} done`,
      r.runId !== null ? `run ${r.runId}` : null,
      r.predictions !== undefined ? `${r.predictions} predictions` : null,
      r.skippedImages ? `${r.skippedImages} unreadable images skipped` : null,
    ];
    io.out(bits.filter(Boolean).join(', '));
  }
  return r.status === 'cancelled' ? 130 : 0;
}

/** Known errors of the training commands as one line (usage mistakes with the pointer to help). */
export async function guarded(io: Io, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(usageLine(e));
      return 2;
    }
    if (e instanceof TrainerError || e instanceof ProjectError) {
      io.err(`concord: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
