// A run is degenerate when its ensemble collapses onto one class or does not beat the
// majority-class baseline on validation; a truly dominant class, or too few frames, is not one.
import { describe, expect, it } from 'vitest';
import { degenerateVerdict, runVerdict } from '../../../src/shared/degenerate';

const NAMES = ['Neutral', 'Anger', 'Happiness'];

describe('degenerateVerdict', () => {
  it('calls a run that answers Neutral for nearly everything collapsed', () => {
    // 30 frames of each class, 95 % answered Neutral
    const c = [
      [30, 0, 0],
      [28, 2, 0],
      [28, 0, 2],
    ];
    const v = degenerateVerdict(c, 2, NAMES);
    expect(v?.epoch).toBe(2);
    expect(v?.reason).toMatch(/answer Neutral for 96 % of the validation frames, which are 33 % Neutral/);
    expect(v?.advice).toMatch(/pretrained/);
  });

  it('does not call a dominant true class a collapse when the run gets the others right', () => {
    const c = [
      [70, 0, 0],
      [2, 13, 0],
      [1, 0, 14],
    ];
    expect(degenerateVerdict(c, 0, NAMES)).toBeNull();
  });

  it('calls accuracy at the majority baseline degenerate even without a collapse', () => {
    // answers spread over classes at random: 40 % accuracy, majority class is 40 %
    const c = [
      [16, 12, 12],
      [12, 9, 9],
      [12, 9, 9],
    ];
    expect(degenerateVerdict(c, 1, NAMES)?.reason).toMatch(/does not beat always answering Neutral \(40 %\)/);
  });

  it('says nothing on too few frames, and reads the last epoch with validation', () => {
    expect(
      degenerateVerdict(
        [
          [5, 0],
          [5, 0],
        ],
        0,
      ),
    ).toBeNull();
    const good = {
      ensemble: {
        confusion: [
          [20, 0],
          [0, 20],
        ],
      },
    };
    const bad = {
      ensemble: {
        confusion: [
          [20, 0],
          [20, 0],
        ],
      },
    };
    expect(
      runVerdict([
        { epoch: 0, val: bad },
        { epoch: 1, val: good },
        { epoch: 2, val: null },
      ]),
    ).toBeNull();
    expect(
      runVerdict([
        { epoch: 0, val: good },
        { epoch: 1, val: bad },
      ])?.epoch,
    ).toBe(1);
    expect(runVerdict([])).toBeNull();
  });
});
