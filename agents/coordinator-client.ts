/**
 * The agent's HTTP client for its coordinator: every call is retried (capped backoff) until it
 * answers or the coordinator has been unreachable for `lostAfterMs`; a refusal (4xx/5xx with a
 * reason) is not retried. Batches go gzipped with their number, watermark and the agent's status.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as zlib from 'node:zlib';
import { formatDuration } from '../core/duration';
import { HarnessError } from '../core/exit-codes';
import type { AgentStatus, BatchReply } from './protocol';
import type { ShardBatch, ShardStream } from './shard-stream';

export interface CoordinatorClientOptions {
  /** http://127.0.0.1:<port> */
  url: string;
  index: number;
  /** Who is talking, for messages ("agent 1 (segment 1/2:1)"). */
  name: string;
  lostAfterMs?: number;
  /** One request's timeout (ms). */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
}

export class CoordinatorClient {
  private readonly base: string;
  private readonly lostAfterMs: number;
  /** Requests that failed on the network and were sent again. */
  retries = 0;

  constructor(private readonly options: CoordinatorClientOptions) {
    this.base = `${options.url.replace(/\/$/, '')}/agents/${options.index}`;
    this.lostAfterMs = options.lostAfterMs ?? 10_000;
  }

  async call<T>(what: string, init: RequestInit = {}, accept: number[] = []): Promise<T> {
    const firstFailure = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (this.options.signal?.aborted) throw new HarnessError(`${this.options.name}: interrupted`);
      try {
        const response = await fetch(`${this.base}/${what}`, { ...init, signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 5000) });
        const body = (await response.json()) as T & { error?: string };
        if (!response.ok && !accept.includes(response.status)) throw new HarnessError(`${this.options.name}: the coordinator refused ${what}: ${body.error ?? response.status}`);
        return body;
      } catch (error) {
        if (error instanceof HarnessError) throw error;
        if (Date.now() - firstFailure > this.lostAfterMs) {
          throw new HarnessError(`${this.options.name}: the coordinator at ${this.options.url} has not answered for ${formatDuration(this.lostAfterMs)} (${(error as Error).message}); stopping`);
        }
        this.retries += 1;
        await sleep(Math.min(1000, 50 * 2 ** attempt));
      }
    }
  }

  post<T>(what: string, body: unknown, accept: number[] = []): Promise<T> {
    return this.call<T>(what, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, accept);
  }

  sendBatch(batch: ShardBatch, status: AgentStatus): Promise<BatchReply> {
    return this.call<BatchReply>('batch', {
      method: 'POST',
      headers: { 'content-encoding': 'gzip', 'x-batch': String(batch.n), 'x-up-to': String(batch.upTo), 'x-status': JSON.stringify(status) },
      body: zlib.gzipSync(batch.body),
    });
  }

  /** Sends every unacknowledged batch, oldest first, until the coordinator holds them all; returns whether it asked to stop. */
  async flush(stream: ShardStream, status: () => AgentStatus): Promise<boolean> {
    let stop = false;
    for (let guard = 0; stream.outstanding().length && guard < 100_000; guard++) {
      const reply = await this.sendBatch(stream.outstanding()[0], status());
      stream.acknowledge(reply.acked);
      stop ||= reply.stop;
    }
    return stop;
  }
}
