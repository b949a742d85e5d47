import { scriptFromMarkers } from './prompt-markers.js';
import type { FakeGeminiRule, FakeGeminiScript, GenerateRequestView, ScriptSource } from './scripting.js';

// Decides which script a generation request gets. Precedence: the queue (explicit "next requests" from the
// test), then rules in the order they were added, then prompt markers, then the default reply.

interface QueueEntry {
  script: FakeGeminiScript;
  remaining: number;
}

interface RuleEntry {
  rule: FakeGeminiRule;
  remaining: number;
}

export interface ChosenScript {
  script: FakeGeminiScript;
  source: ScriptSource;
}

const DEFAULT_SCRIPT: FakeGeminiScript = { kind: 'reply' };

export class ScriptBook {
  private queue: QueueEntry[] = [];
  private rules: RuleEntry[] = [];
  // Uses of `times=`-limited markers, keyed by the exact last user message.
  private markerUses = new Map<string, number>();

  enqueue(scripts: readonly FakeGeminiScript[]): void {
    for (const script of scripts) this.queue.push({ script, remaining: Math.max(1, script.times ?? 1) });
  }

  addRule(rule: FakeGeminiRule): void {
    this.rules.push({ rule, remaining: rule.times ?? rule.script.times ?? Number.POSITIVE_INFINITY });
  }

  get queued(): number {
    return this.queue.length;
  }

  reset(): void {
    this.queue = [];
    this.rules = [];
    this.markerUses.clear();
  }

  next(request: GenerateRequestView): ChosenScript {
    const head = this.queue[0];
    if (head) {
      head.remaining -= 1;
      if (head.remaining <= 0) this.queue.shift();
      return { script: head.script, source: 'queue' };
    }
    for (const entry of this.rules) {
      if (entry.remaining <= 0 || !matches(entry.rule.match, request)) continue;
      entry.remaining -= 1;
      return { script: entry.rule.script, source: 'rule' };
    }
    const marked = scriptFromMarkers(request.lastUserText);
    if (marked) {
      if (marked.times === undefined) return { script: marked.script, source: 'marker' };
      const used = this.markerUses.get(request.lastUserText) ?? 0;
      if (used < marked.times) {
        this.markerUses.set(request.lastUserText, used + 1);
        return { script: marked.script, source: 'marker' };
      }
    }
    return { script: DEFAULT_SCRIPT, source: 'default' };
  }
}

function matches(match: FakeGeminiRule['match'], request: GenerateRequestView): boolean {
  if (typeof match === 'string') return request.lastUserText.includes(match);
  if (match instanceof RegExp) {
    match.lastIndex = 0; // a /g or /y regex is stateful; every request deserves a fresh test
    return match.test(request.lastUserText);
  }
  return match(request);
}
