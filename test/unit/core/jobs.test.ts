import { describe, expect, it } from 'vitest';
import { forkTrainer, startTrainerJob, TrainerError, describeExit, type TrainerLauncher } from '../../../src/main/core/jobs';
import { tempDir } from '../../helpers/tmp';

const testLaunch =
  (execArgv: string[] = []): TrainerLauncher =>
  (entry) =>
    forkTrainer(entry, { execArgv, env: { ...process.env, CONCORD_TRAINER_TEST: '1' } });

async function crash(how: 'abort' | 'exit' | 'throw' | 'oom', execArgv: string[] = []): Promise<TrainerError> {
  // An empty folder: the start fails slowly enough (module loading) for the crash to land first.
  const job = startTrainerJob({ projectDir: tempDir(), message: { mode: 'infer' }, launch: testLaunch(execArgv) });
  job.on('ready', () => job.crashForTest(how));
  const e = await job.result.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TrainerError);
  return e as TrainerError;
}

describe('trainer job crashes', () => {
  it('reports an abort as a crash with its cause, and the host carries on', async () => {
    const e = await crash('abort');
    expect(e.kind).toBe('crash');
    expect(e.message).toMatch(/trainer process aborted \(SIGABRT/);
    // the host survives and can start the next job
    const e2 = await crash('exit');
    expect(e2.kind).toBe('crash');
    expect(e2.message).toMatch(/exited with code 3/);
  });

  it('reports an uncaught exception with its message', async () => {
    const e = await crash('throw');
    expect(e.kind).toBe('error');
    expect(e.message).toBe('uncaught exception in the trainer: test crash: uncaught exception in the trainer');
  });

  it('says when the trainer ran out of memory', async () => {
    const e = await crash('oom', ['--max-old-space-size=40']);
    expect(e.kind).toBe('crash');
    expect(e.message).toMatch(/out of memory/);
  });

  it("reports the trainer's own error (not a project) without a crash", async () => {
    const dir = tempDir();
    const job = startTrainerJob({ projectDir: dir, message: { mode: 'infer' } });
    const e = (await job.result.catch((x: unknown) => x)) as TrainerError;
    expect(e).toBeInstanceOf(TrainerError);
    expect(e.kind).toBe('error');
    expect(e.message).toContain('is not a Concord project');
  });

  it('words exits for people', () => {
    expect(describeExit(null, 'SIGKILL', '')).toMatch(/ended by SIGKILL \(by the user, or by the system when memory ran out\)/);
    expect(describeExit(1, null, 'x\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory')).toMatch(
      /exited with code 1 after running out of memory/,
    );
  });
});
