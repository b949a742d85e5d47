import type { components } from './schema.js';

/** Where a message sits among its siblings (edited prompts, regenerated replies): what a UI draws as "‹ 2 / 3 ›". */
export interface SiblingLabel {
  /** 1-based position among the messages with the same parent, in creation order. */
  index: number;
  count: number;
  hasPrevious: boolean;
  hasNext: boolean;
  /** The sibling to switch to with `switchBranch` for "‹", or null. */
  previousId: string | null;
  /** The sibling to switch to with `switchBranch` for "›", or null. */
  nextId: string | null;
  /** `‹ 2 / 3 ›`. */
  text: string;
}

/**
 * The sibling position of a message, ready to draw, or `null` when it has no siblings (nothing to draw):
 * `siblingLabel(message)?.text` is `"‹ 2 / 3 ›"`.
 */
export function siblingLabel(message: Pick<components['schemas']['Message'], 'siblings'>): SiblingLabel | null {
  const { index, count, previousId, nextId } = message.siblings;
  if (count <= 1) return null;
  return {
    index,
    count,
    hasPrevious: previousId !== null,
    hasNext: nextId !== null,
    previousId,
    nextId,
    text: `‹ ${index} / ${count} ›`,
  };
}
