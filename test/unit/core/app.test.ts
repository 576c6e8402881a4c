import { afterEach, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../../../src/main/core/app';
import { tempDir } from '../../helpers/tmp';

describe('the core parses every payload at its entry', () => {
  let core: Core | null = null;
  afterEach(async () => {
    await core?.close();
    core = null;
  });

  it('fills in schema defaults, and refuses a bad payload with a readable "bad … request" error', async () => {
    core = await createCore(tempDir());
    // limit and filter come from the schema's defaults
    expect(await core.request('review.queue', {})).toEqual({ items: [], next: null, total: 0, offset: 0 });
    await expect(core.request('review.decide', { frameIds: [], action: 'accept' })).rejects.toThrow(/^bad review.decide request: frameIds/);
    await expect(core.request('project.info', { evil: 1 } as never)).rejects.toThrow(/^bad project.info request/);
    await expect(core.request('review.queue', { limit: 0 })).rejects.toThrow(/^bad review.queue request: limit/);
  });
});
