import { describe, expect, it } from 'vitest';
import { siblingLabel } from '../src/index.js';

describe('siblingLabel', () => {
  const siblings = (index: number, count: number) => ({
    siblings: { index, count, previousId: index > 1 ? 'prev' : null, nextId: index < count ? 'next' : null },
  });

  it('gives what a UI draws as "‹ 2 / 3 ›"', () => {
    expect(siblingLabel(siblings(2, 3))).toEqual({
      index: 2,
      count: 3,
      hasPrevious: true,
      hasNext: true,
      previousId: 'prev',
      nextId: 'next',
      text: '‹ 2 / 3 ›',
    });
    expect(siblingLabel(siblings(1, 2))).toMatchObject({ hasPrevious: false, hasNext: true, text: '‹ 1 / 2 ›' });
    expect(siblingLabel(siblings(2, 2))).toMatchObject({ hasPrevious: true, hasNext: false });
  });

  it('is null for a message without siblings', () => {
    expect(siblingLabel(siblings(1, 1))).toBeNull();
  });
});
