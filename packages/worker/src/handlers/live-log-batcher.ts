/** What the batcher appends: text of one kind, as one live-log entry. */
export type BatchedType = 'delta' | 'thought';

export interface LiveLogBatcher {
  /** Adds model output; it reaches the log at once when nothing was appended within the window, else at its end. */
  push(type: BatchedType, text: string): void;
  /** Appends what is pending, after any append in flight. False when the log is no longer ours; throws an append's error. */
  flush(): Promise<boolean>;
  /** Stops: what is pending is dropped, an append in flight is waited for. Never throws. */
  settle(): Promise<void>;
  /** Text readers have been shown (appended successfully), per type. */
  readonly shown: Readonly<Record<BatchedType, string>>;
  /** An append was refused: another run, a cancel or a delete took the log. */
  readonly lost: boolean;
}

/**
 * Coalesces a reply's model chunks into fewer live-log appends: one per `windowMs` at most (the first chunk after a
 * quiet window goes at once, so the time to the first token is unchanged), in order, one at a time. A model that
 * streams 40 small chunks in 100 ms costs a handful of Redis appends (and reader wake-ups), not 40. Deltas and
 * thoughts keep their order: a change of type appends what is pending first. `windowMs` 0 appends every chunk.
 */
export function createLiveLogBatcher(options: {
  windowMs: number;
  append(type: BatchedType, text: string): Promise<boolean>;
  /** Called once when an append is refused (`'lost'`) or fails (its error): the caller stops the model call. */
  onStop(reason: 'lost' | unknown): void;
}): LiveLogBatcher {
  const shown: Record<BatchedType, string> = { delta: '', thought: '' };
  let pendingType: BatchedType | undefined;
  let pending: string[] = [];
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let lastAppendAt = Number.NEGATIVE_INFINITY;
  let stopped = false;
  let lost = false;
  let failure: { error: unknown } | undefined;

  function appendPending(): void {
    if (pending.length === 0 || pendingType === undefined) return;
    const type = pendingType;
    const text = pending.length === 1 ? pending[0]! : pending.join('');
    pending = [];
    pendingType = undefined;
    lastAppendAt = performance.now();
    chain = chain.then(async () => {
      if (stopped || lost || failure) return;
      try {
        if (await options.append(type, text)) {
          shown[type] += text;
        } else {
          lost = true;
          options.onStop('lost');
        }
      } catch (error) {
        failure = { error };
        options.onStop(error);
      }
    });
  }

  const onTimer = () => {
    timer = undefined;
    appendPending();
  };

  return {
    push(type, text) {
      if (stopped || text === '') return;
      if (pendingType !== undefined && pendingType !== type) appendPending();
      pendingType = type;
      pending.push(text);
      if (timer) return; // the window's end will take it
      const wait = lastAppendAt + options.windowMs - performance.now();
      if (wait <= 0) appendPending();
      else timer = setTimeout(onTimer, wait);
    },
    async flush() {
      clearTimeout(timer);
      timer = undefined;
      appendPending();
      await chain;
      if (failure) throw failure.error;
      return !lost;
    },
    async settle() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      pending = [];
      await chain;
    },
    shown,
    get lost() {
      return lost;
    },
  };
}
