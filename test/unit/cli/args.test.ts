// The one argument module of the `concord` commands, and the pretrain-then-finetune configs the
// core request derives (the CLI's `pretrain` and the app's Pretrain button send the same request).
import { describe, expect, it } from 'vitest';
import { int, need, oneOf, parse, projectArg, UsageError } from '../../../src/main/cli/args';
import { pretrainFinetuneConfigs } from '../../../src/main/core/app-training';
import { main } from '../../../src/main/cli';

describe('cli args', () => {
  it('accepts --json everywhere unless told not to, and turns parse errors into UsageError', () => {
    expect(parse(['p', '--json'], {}).values.json).toBe(true);
    expect(() => parse(['--json'], {}, { json: false })).toThrow(UsageError);
    expect(() => parse(['p'], {}, { positionals: false })).toThrow(UsageError);
    expect(() => parse(['--nope'], {})).toThrow(/^Unknown option '--nope'$/);
  });

  it('keeps the usage wording of the commands', () => {
    expect(() => need({}, 'frames')).toThrow('--frames is required');
    expect(() => int({ epochs: 'x' }, 'epochs')).toThrow('--epochs must be an integer, got "x"');
    expect(int({ epochs: '3' }, 'epochs')).toBe(3);
    expect(() => projectArg([])).toThrow('a project folder is required');
    expect(() => oneOf('x', ['a', 'b'], '--format must be a or b')).toThrow('--format must be a or b');
  });

  it('prints usage errors on one line with the pointer to help and exit code 2', async () => {
    const err: string[] = [];
    const code = await main(['info'], { out: () => {}, err: (s) => err.push(s) });
    expect(code).toBe(2);
    expect(err.join('\n')).toBe('concord: a project folder is required (see `concord help`)');
  });
});

describe('pretrainFinetuneConfigs', () => {
  it('pretrains on the image sources and finetunes on the videos with the architecture inherited', () => {
    const c = pretrainFinetuneConfigs({
      config: { epochs: 4, model: 'tiny', inputSize: 32, nets: 2 },
      pretrainEpochs: 2,
      sources: ['rafdb'],
    });
    expect(c.pretrain).toEqual({ epochs: 2, model: 'tiny', inputSize: 32, nets: 2, sources: ['rafdb'] });
    expect(c.finetune).toEqual({ epochs: 4, nets: 2, sources: ['abaw', 'video'] });
    expect(pretrainFinetuneConfigs({ config: {} }).pretrain.sources).toEqual(['rafdb', 'affectnet', 'csv']);
  });
});
