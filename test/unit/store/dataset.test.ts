import { afterEach, describe, expect, it } from 'vitest';
import { datasetInfo, frameInfo, framePathOf, imageSetIds, videoIds } from '../../../src/store/dataset';
import { makeProject, type TestProject } from './fixtures';

let p: TestProject;
afterEach(() => p?.cleanup());

describe('dataset store', () => {
  it('reads one frame with its video and labels, and its crop path only when it has a face', () => {
    p = makeProject([{ name: 'v', split: 'Validation_Set', labels: [3, 5], hasFace: [1, 0] }]);
    const info = frameInfo(p.db, p.frame('v', 1))!;
    expect(info).toMatchObject({ video: 'v', split: 'Validation_Set', idx: 1, hasFace: true, labelSet: 'abaw7', original: 3, current: 3 });
    expect(info.imagePath.endsWith('/v/00001.jpg')).toBe(true);
    expect(frameInfo(p.db, 12345)).toBeUndefined();
    expect(framePathOf(p.db, p.frame('v', 1))).toBe(info.imagePath);
    expect(framePathOf(p.db, p.frame('v', 2))).toBeNull();
    expect(framePathOf(p.db, 12345)).toBeNull();
  });

  it('lists video ids in id order and tells image datasets apart', () => {
    p = makeProject([
      { name: 'a', labels: [0] },
      { name: 'b', labels: [0], source: 'rafdb' },
    ]);
    const ids = videoIds(p.db);
    expect(ids).toHaveLength(2);
    expect(ids[0]! < ids[1]!).toBe(true);
    expect(imageSetIds(p.db)).toEqual(new Set([ids[1]]));
  });

  it('counts splits named like Object.prototype members as ordinary splits', () => {
    p = makeProject([
      { name: 'a', split: '__proto__', labels: [0, 1] },
      { name: 'b', split: 'constructor', labels: [2] },
      { name: 'c', split: 'toString', labels: [3] },
    ]);
    const info = datasetInfo(p.db);
    expect(Object.keys(info.splits).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.hasOwn(info.splits, '__proto__')).toBe(true);
    expect(info.splits['__proto__']).toMatchObject({ videos: 1, frames: 2 });
    expect(JSON.parse(JSON.stringify(info)).splits.constructor).toMatchObject({ videos: 1, frames: 1 });
    expect(({} as Record<string, unknown>).videos).toBeUndefined();
  });
});
