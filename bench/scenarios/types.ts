import type { BenchUser } from '../lib/api-client.js';
import type { BenchOptions } from '../lib/options.js';
import type { MachineUsage } from '../lib/processes.js';
import type { BenchRedis } from '../lib/stores.js';

export interface Seed {
  /** ~20 chatrooms; the first holds a few exchanges (the GET /chatroom/:id target). */
  reader: BenchUser;
  readerRooms: string[];
  detailRoom: string;
  /** The cached GET /chatroom page, exactly as the API sent it (the ceiling serves the same bytes). */
  listBody: string;
  sender: BenchUser;
  senderRooms: string[];
  ttft: BenchUser;
  ttftRooms: string[];
  streams: BenchUser;
  streamRooms: string[];
}

export interface BenchContext {
  pg: { transactions(): Promise<number> };
  options: BenchOptions;
  api: string;
  ceilingUrl: string | undefined;
  pids: { api: number; worker: number; ceiling: number | undefined };
  workerMetricsUrl: string;
  redis: BenchRedis;
  bullPrefix: string;
  seed: Seed;
}

/** One line of the results table (null: not applicable to this scenario). */
export interface ScenarioRow {
  id: string;
  title: string;
  /** What is measured, in a few words. */
  measures: string;
  rps: number | null;
  /** rps as a share of the ceiling's (filled in by the runner). */
  ratio: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  errors: number | null;
  /** Peak RSS of the API process (of the ceiling process on the ceiling row), MB. */
  rssMb: number | null;
  /** CPU of the API (ceiling) process, % of one core. */
  cpuPercent: number | null;
  /** CPU of the load generator process, % of one core. */
  loadCpuPercent: number | null;
  /** Requests the servers saw (warm-up included), to relate server-side counters to requests. */
  requestsServed: number | null;
  /** Postgres transactions (= queries, all autocommit but the send transaction) per request, API + worker. */
  pgPerRequest: number | null;
  /** Postgres, Redis and everything else on the machine over the scenario (other = noise). */
  machine: MachineUsage | null;
  notes: string[];
  details: Record<string, unknown>;
}

export const row = (id: string, title: string, measures: string, fields: Partial<ScenarioRow>): ScenarioRow => ({
  id,
  title,
  measures,
  rps: null,
  ratio: null,
  p50Ms: null,
  p99Ms: null,
  errors: null,
  rssMb: null,
  cpuPercent: null,
  loadCpuPercent: null,
  machine: null,
  requestsServed: null,
  pgPerRequest: null,
  notes: [],
  details: {},
  ...fields,
});
