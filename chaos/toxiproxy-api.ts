/**
 * A minimal Toxiproxy HTTP client on fetch: every call has a timeout (removing a toxic has hung
 * the API before), 404 on delete counts as "already gone" so heals stay idempotent.
 */
import { HarnessError } from '../core/exit-codes';

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

  private async request<T>(method: string, path: string, body?: unknown, allowNotFound = false): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetch(`${this.apiUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new HarnessError(`Toxiproxy API ${method} ${path} at ${this.apiUrl} failed: ${(error as Error).message}`);
    }
    const text = await response.text();
    if (response.status === 404 && allowNotFound) return undefined;
    if (!response.ok) throw new HarnessError(`Toxiproxy API ${method} ${path} answered ${response.status}: ${text.trim()}`);
    return text ? (JSON.parse(text) as T) : undefined;
  }

  async version(): Promise<string> {
    const response = await fetch(`${this.apiUrl.replace(/\/$/, '')}/version`, { signal: AbortSignal.timeout(this.timeoutMs) });
    return (await response.text()).trim();
  }

  async proxies(): Promise<Record<string, ProxyState>> {
    return (await this.request<Record<string, ProxyState>>('GET', '/proxies')) ?? {};
  }

  async proxy(name: string): Promise<ProxyState> {
    const proxy = await this.request<ProxyState>('GET', `/proxies/${encodeURIComponent(name)}`, undefined, true);
    if (!proxy) throw new HarnessError(`Toxiproxy has no proxy named "${name}"`);
    return proxy;
  }

  async createProxy(proxy: { name: string; listen: string; upstream: string; enabled?: boolean }): Promise<ProxyState> {
    return (await this.request<ProxyState>('POST', '/proxies', { enabled: true, ...proxy })) as ProxyState;
  }

  async setEnabled(name: string, enabled: boolean): Promise<ProxyState> {
    return (await this.request<ProxyState>('PATCH', `/proxies/${encodeURIComponent(name)}`, { enabled })) as ProxyState;
  }

  async toxics(proxy: string): Promise<ToxicSpec[]> {
    return (await this.request<ToxicSpec[]>('GET', `/proxies/${encodeURIComponent(proxy)}/toxics`)) ?? [];
  }

  async addToxic(proxy: string, toxic: ToxicSpec): Promise<ToxicSpec> {
    return (await this.request<ToxicSpec>('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, toxic)) as ToxicSpec;
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
