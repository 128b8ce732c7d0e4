/**
 * A GameClient for an HTTP JSON backend: one request per action with `fetch`, each bounded by an
 * AbortSignal timeout. HTTP has no link to lose, so the "connection" is only a login call (or
 * nothing) and a way to abort what is in flight on close; a request the network swallowed (reset,
 * timeout, abort) is info: it may have reached the server.
 */
import { LoginError, type ActionCall, type GameClient, type GameClientContext, type GameConnection, type LoginResult, type Outcome } from '../core/game';

/** One HTTP call: a path below the base URL, a method (default POST) and a JSON body. */
export interface HttpCall {
  path: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  headers?: Record<string, string>;
}

/** What came back: the status and the parsed JSON body (undefined when the body is not JSON). */
export interface HttpReply<Body = unknown> {
  status: number;
  body: Body;
}

/** The protocol, described once for all bots: every callback gets the bot's context (as webSocketJsonClient's). */
export interface HttpJsonOptions<Body> {
  /** The base URL; default `context.url` (the bots-backend proxy). */
  baseUrl?: string;
  /** The login call, if the backend has one; without it a session starts logged in. */
  login?(options: { resume: boolean }, context: GameClientContext): HttpCall;
  /** A login reply → the LoginResult or `{ refused: why }`; default: any 2xx is in. */
  loginResult?(reply: HttpReply<Body>, context: GameClientContext): LoginResult | { refused: string };
  /** The call for one action; send `call.seq` as the idempotency key (e.g. an Idempotency-Key header). */
  request(call: ActionCall, context: GameClientContext): HttpCall;
  /** A reply → ok / fail / info (a 503 "try later" is usually info or fail, a 5xx after the commit info). */
  classify(reply: HttpReply<Body>, call: ActionCall, context: GameClientContext): Outcome;
  /** Per-request limit (ms); default `timing.actionTimeoutMs`. */
  timeoutMs?: number;
}

async function send<Body>(url: string, call: HttpCall, signal: AbortSignal): Promise<HttpReply<Body>> {
  const hasBody = call.body !== undefined;
  const response = await fetch(url, {
    method: call.method ?? 'POST',
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...call.headers },
    body: hasBody ? JSON.stringify(call.body) : undefined,
    signal,
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, body: body as Body };
}

function why(error: unknown): string {
  const e = error as Error & { cause?: { code?: string } };
  if (e?.name === 'TimeoutError') return 'request timeout';
  if (e?.name === 'AbortError') return 'closed';
  return e?.cause?.code ? `${e.message}: ${e.cause.code}` : String(e?.message ?? error);
}

/** A GameClient over HTTP JSON (see the options for what the plug-in supplies). */
export function httpJsonClient<Body = unknown>(context: GameClientContext, options: HttpJsonOptions<Body>): GameClient {
  const base = (options.baseUrl ?? context.url).replace(/\/$/, '');
  const timeout = (): number => options.timeoutMs ?? context.timing.actionTimeoutMs;
  const urlOf = (call: HttpCall): string => `${base}${call.path.startsWith('/') ? '' : '/'}${call.path}`;
  return {
    async connect({ resume, onLoginSent }) {
      const closed = new AbortController();
      let login: LoginResult = {};
      if (options.login) {
        const call = options.login({ resume }, context);
        onLoginSent();
        let reply: HttpReply<Body>;
        try {
          reply = await send<Body>(urlOf(call), call, AbortSignal.timeout(context.timing.connectTimeoutMs));
        } catch (error) {
          throw new LoginError('info', `login: ${why(error)}`);
        }
        const result = options.loginResult?.(reply, context) ?? (reply.status < 300 ? { value: reply.body } : { refused: `login: HTTP ${reply.status}` });
        if ('refused' in result) throw new LoginError('fail', result.refused);
        login = result;
      }
      const connection: GameConnection = {
        async invoke(call) {
          const request = options.request(call, context);
          try {
            const reply = await send<Body>(urlOf(request), request, AbortSignal.any([closed.signal, AbortSignal.timeout(timeout())]));
            return options.classify(reply, call, context);
          } catch (error) {
            return { type: 'info', error: why(error) };
          }
        },
        close: () => closed.abort(),
      };
      return { login, connection };
    },
  };
}
