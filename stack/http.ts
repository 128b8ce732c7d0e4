/** Small HTTP helpers for the stack's control APIs: every call has a timeout (APIs have hung). */

export const DEFAULT_HTTP_TIMEOUT_MS = 3000;

export interface HttpResult {
  status: number;
  body: string;
}

export async function httpRequest(
  url: string,
  init: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const { method = 'GET', body, timeoutMs = DEFAULT_HTTP_TIMEOUT_MS } = init;
  const response = await fetch(url, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, body: await response.text() };
}

/** True when GET url answers 200 within the timeout. */
export async function isHttpOk(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    return (await httpRequest(url, { timeoutMs })).status === 200;
  } catch {
    return false;
  }
}
