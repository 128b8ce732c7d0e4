/**
 * The one Toxiproxy HTTP client (stack, faults, cleanup): every call has a timeout (removing a toxic
 * has hung the API before), and 404 on delete counts as "already gone" so heals stay idempotent.
 */
import { HarnessError } from '../core/exit-codes';
import { httpRequest } from './http';

export interface ToxicSpec {
  name: string;
  type: string;
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: Record<string, number>;
}

export interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicSpec[];
}

export class ToxiproxyApi {
  constructor(
    readonly apiUrl: string,
    private readonly timeoutMs = 5000,
  ) {}

  /** The answer's JSON; undefined for an allowed 404 or an empty body (DELETE, reset). */
  private async request<T>(method: string, path: string, body?: unknown, allowNotFound = false): Promise<T | undefined> {
    const text = await this.send(method, path, body, allowNotFound);
    if (!text?.trim()) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new HarnessError(`Toxiproxy API ${method} ${path} answered something that is not JSON: ${text.trim().slice(0, 200)}`);
    }
  }

  private async requestJson<T>(method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.request<T>(method, path, body);
    if (answer === undefined) throw new HarnessError(`Toxiproxy API ${method} ${path} answered with an empty body`);
    return answer;
  }

  private async send(method: string, path: string, body?: unknown, allowNotFound = false): Promise<string | undefined> {
    let response;
    try {
      response = await httpRequest(`${this.apiUrl.replace(/\/$/, '')}${path}`, { method, body, timeoutMs: this.timeoutMs });
    } catch (error) {
      throw new HarnessError(`Toxiproxy API ${method} ${path} at ${this.apiUrl} failed: ${(error as Error).message}`, { cause: error });
    }
    if (response.status === 404 && allowNotFound) return undefined;
    if (response.status >= 300) throw new HarnessError(`Toxiproxy API ${method} ${path} answered ${response.status}: ${response.body.trim()}`);
    return response.body;
  }

  /** The server's version: JSON `{ version }` on 2.x, plain text on older servers. */
  async version(): Promise<string> {
    const body = (await this.send('GET', '/version')) ?? '';
    try {
      const parsed = JSON.parse(body) as { version?: unknown };
      if (typeof parsed.version === 'string') return parsed.version;
    } catch {
      // plain text
    }
    return body.trim() || 'unknown';
  }

  async proxies(): Promise<Record<string, ProxyState>> {
    return this.requestJson<Record<string, ProxyState>>('GET', '/proxies');
  }

  async proxy(name: string): Promise<ProxyState> {
    const proxy = await this.request<ProxyState>('GET', `/proxies/${encodeURIComponent(name)}`, undefined, true);
    if (!proxy) throw new HarnessError(`Toxiproxy has no proxy named "${name}"`);
    return proxy;
  }

  async createProxy(proxy: { name: string; listen: string; upstream: string; enabled?: boolean }): Promise<ProxyState> {
    return this.requestJson<ProxyState>('POST', '/proxies', { enabled: true, ...proxy });
  }

  /** Idempotent: a proxy that is already gone is fine. */
  async deleteProxy(name: string): Promise<void> {
    await this.request('DELETE', `/proxies/${encodeURIComponent(name)}`, undefined, true);
  }

  async setEnabled(name: string, enabled: boolean): Promise<ProxyState> {
    return this.requestJson<ProxyState>('PATCH', `/proxies/${encodeURIComponent(name)}`, { enabled });
  }

  async toxics(proxy: string): Promise<ToxicSpec[]> {
    return this.requestJson<ToxicSpec[]>('GET', `/proxies/${encodeURIComponent(proxy)}/toxics`);
  }

  async addToxic(proxy: string, toxic: ToxicSpec): Promise<ToxicSpec> {
    return this.requestJson<ToxicSpec>('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, toxic);
  }

  /** Idempotent: a toxic that is already gone is fine. */
  async removeToxic(proxy: string, toxic: string): Promise<void> {
    await this.request('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`, undefined, true);
  }

  /** Removes every toxic and re-enables every proxy. */
  async reset(): Promise<void> {
    await this.request('POST', '/reset');
  }
}
