// Job kinds as the UI shows and groups them. A Record, so a new kind in the contract fails here
// until it has a label.
import type { JobKind } from '../../shared/api';

export const JOB_LABELS: Record<JobKind, string> = {
  'import.abaw': 'ABAW import',
  'import.video': 'Video import',
  'import.images': 'Image-list import',
  'train.train': 'Training',
  'train.finetune': 'Fine-tuning',
  'train.pretrain': 'Pretraining',
  'train.crossfit': 'Cross-fitting',
  infer: 'Inference',
  'flags.score': 'Scoring',
  'export.run': 'Export',
  'review.decide': 'Bulk decision',
};

export function jobLabel(kind: JobKind): string {
  return JOB_LABELS[kind] ?? kind;
}

const TRAIN_JOBS: ReadonlySet<JobKind> = new Set<JobKind>(['train.train', 'train.finetune', 'train.pretrain', 'train.crossfit']);

/** A job of the trainer that writes a run (train, finetune, pretrain or crossfit); inference is not one. */
export function isTrainJob(kind: JobKind): boolean {
  return TRAIN_JOBS.has(kind);
}
