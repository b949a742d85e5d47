import type { Logger } from '@gemini-chat/shared';

export interface Periodic {
  start(): void;
  stop(): void;
}

/**
 * Runs `work` every `intervalMs`, never two runs at once (a slow run makes the next ticks skip, not pile up). A
 * failed run is logged and tried again at the next tick; the timer never keeps the process alive.
 */
export function every(intervalMs: number, work: () => Promise<unknown>, log: Logger, what: string): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await work();
    } catch (err) {
      log.warn({ err }, `${what} failed; will try again`);
    } finally {
      running = false;
    }
  };
  return {
    start() {
      timer = setInterval(() => void tick(), intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
