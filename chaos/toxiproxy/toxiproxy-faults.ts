/**
 * Toxiproxy family: toxics on one link of the stack (bots↔backend over IPv4 / IPv6, backend↔db),
 * and link-down (proxy disabled). Built for toxiproxy v2.12.0, which has latency, bandwidth,
 * slow_close, timeout, reset_peer, slicer, limit_data (no packet_loss: see kernel-packet-loss).
 * The proxy of a link is named after the link. Every toxic is read back after it is added and
 * after it is removed.
 */
import { z } from 'zod';
import { HarnessError } from '../../core/exit-codes';
import { linkCapability, type LinkControl } from '../../stack/system-under-test';
import type { ToxicSpec } from '../../stack/toxiproxy-api';
import type { LinkName } from '../../stack/types';
import { defineFault, healOnce, recordDebris } from '../define-fault';
import type { Efficacy, Fault, FaultEvidence, FaultHandle, FaultTarget } from '../fault';
import { nextSequence, throwIfAborted } from '../util';
import { botsSawCut, establishedOnPort, judgeDataToxic, listenPort, watchSocketBytes } from './link-evidence';

export const LINK_NAMES = ['bots-backend', 'bots-backend-v6', 'backend-db'] as const satisfies readonly LinkName[];

const commonParams = {
  link: z.enum(LINK_NAMES).default('bots-backend'),
  stream: z.enum(['upstream', 'downstream', 'both']).default('downstream'),
  toxicity: z.number().min(0).max(1).default(1),
};

interface CommonParams {
  link: LinkName;
  stream: 'upstream' | 'downstream' | 'both';
  toxicity: number;
}

/** The link's proxy and its Toxiproxy API client. */
export function linkOf(target: FaultTarget, link: LinkName): LinkControl {
  const control = target.sut.links[link];
  if (!control) throw new HarnessError(`the stack has no "${link}" link; use one of: ${Object.keys(target.sut.links).join(', ')}`);
  return control;
}

function sameAttributes(actual: Record<string, number>, expected: Record<string, number>): boolean {
  return Object.entries(expected).every(([key, value]) => actual[key] === value);
}

interface ToxicFaultSpec<S extends z.ZodRawShape> {
  type: string;
  toxicType: string;
  description: string;
  shape: S;
  attributes: (params: z.output<z.ZodObject<S>>) => Record<string, number>;
  /** The measured effect that proves it bit (see Fault.proof). */
  proof: string;
  judge: (evidence: FaultEvidence<z.output<z.ZodObject<S>> & CommonParams>) => Efficacy;
}

function toxicFault<S extends z.ZodRawShape>(spec: ToxicFaultSpec<S>) {
  const params = z.strictObject({ ...commonParams, ...spec.shape });
  return defineFault({
    type: spec.type,
    family: 'toxiproxy',
    description: spec.description,
    params,
    requires: (p) => [linkCapability((p as unknown as CommonParams).link)],
    targetOf: (p) => (p as unknown as CommonParams).link,
    proof: spec.proof,
    judge: (evidence) => spec.judge(evidence as FaultEvidence<z.output<z.ZodObject<S>> & CommonParams>),
    async inject(target, params, signal): Promise<FaultHandle> {
      const p = params as unknown as CommonParams; // generic over S: the common fields are always there
      const { toxiproxy: api, proxy, listen } = linkOf(target, p.link);
      const attributes = spec.attributes(params as unknown as z.output<z.ZodObject<S>>);
      const streams: Array<'upstream' | 'downstream'> = p.stream === 'both' ? ['upstream', 'downstream'] : [p.stream];
      const id = nextSequence();
      const toxics: ToxicSpec[] = streams.map((stream) => ({ name: `lagstorm-${spec.type}-${id}-${stream}`, type: spec.toxicType, stream, toxicity: p.toxicity, attributes }));
      throwIfAborted(signal);
      await api.proxy(proxy); // fails clearly (no such proxy) before anything is recorded or changed
      // Debris first: if lagstorm dies now, `lagstorm cleanup` resets Toxiproxy.
      const forget = recordDebris(target.sut.debris, { kind: 'toxiproxy-reset', apiUrl: api.apiUrl });

      const removeAll = async () => {
        for (const toxic of toxics) await api.removeToxic(proxy, toxic.name);
        const left = (await api.toxics(proxy)).filter((toxic) => toxics.some((ours) => ours.name === toxic.name));
        if (left.length > 0) throw new HarnessError(`Toxiproxy still lists ${left.map((t) => t.name).join(', ')} on ${proxy} after deleting`);
        forget();
      };
      try {
        for (const toxic of toxics) {
          if (signal.aborted) throw new Error('aborted while adding toxics');
          await api.addToxic(proxy, toxic);
        }
        const present = await api.toxics(proxy);
        for (const toxic of toxics) {
          const found = present.find((t) => t.name === toxic.name);
          if (!found || found.type !== toxic.type || found.stream !== toxic.stream || !sameAttributes(found.attributes, attributes)) {
            throw new HarnessError(`Toxiproxy did not keep toxic ${toxic.name} on ${proxy} as asked (read back: ${JSON.stringify(found)})`);
          }
        }
      } catch (error) {
        await removeAll().catch((undoError: Error) => target.log(`could not undo ${spec.type} on ${proxy}: ${undoError.message}`));
        throw error;
      }
      target.log(`${spec.type}: ${toxics.map((t) => t.name).join(', ')} on ${proxy} ${JSON.stringify(attributes)}`);
      // What the link's client connections carry from now on is what the toxic acted on.
      const port = listenPort(listen);
      const bytes = await watchSocketBytes(port);
      const observations: Record<string, number | string> = { proxy, streams: streams.join('+'), toxics: toxics.length, ...attributes };
      const measure = async () => {
        const carried = await bytes.stop();
        if (carried === undefined) observations.trafficNotMeasured = "could not run `ss` (iproute2) to read the link's socket counters";
        else observations.bytesThroughLink = carried;
      };
      return { heal: healOnce(async () => (await measure(), await removeAll())), observations };
    },
  });
}

const nonNegativeInt = z.number().int().min(0);

/** A fault that cuts connections bit when the bots saw them cut. */
function judgeCut(link: LinkName, bots: Parameters<typeof botsSawCut>[1]): Efficacy {
  const seen = botsSawCut(link, bots);
  if (!seen) return { bit: false, effect: 'no bots played: no cut connection was seen' };
  return { bit: seen.count > 0, effect: seen.words };
}

export const latencyFault = toxicFault({
  type: 'latency',
  toxicType: 'latency',
  description: 'Adds latency (± jitter) to every chunk of data on the link.',
  shape: { latency: nonNegativeInt.default(100), jitter: nonNegativeInt.default(0) },
  attributes: (p) => ({ latency: p.latency, jitter: p.jitter }),
  proof: "bytes the link's client connections carried while it was on (the kernel's socket counters, read with ss every 500 ms)",
  judge: ({ params, observations }) =>
    params.latency + params.jitter === 0 ? { bit: false, effect: 'a 0 ms latency with 0 jitter delays nothing' } : judgeDataToxic(observations, `delayed by ${params.latency}${params.jitter ? `±${params.jitter}` : ''} ms`),
});

export const bandwidthFault = toxicFault({
  type: 'bandwidth',
  toxicType: 'bandwidth',
  description: 'Limits the link to `rate` KB/s.',
  shape: { rate: z.number().int().positive().default(64) },
  attributes: (p) => ({ rate: p.rate }),
  proof: "bytes the link's client connections carried while it was on (each chunk held size/rate; the kernel's socket counters, read with ss)",
  judge: ({ params, observations }) => judgeDataToxic(observations, `capped at ${params.rate} KB/s`),
});

export const slowCloseFault = toxicFault({
  type: 'slow-close',
  toxicType: 'slow_close',
  description: 'Delays the close of a connection by `delay` ms.',
  shape: { delay: nonNegativeInt.default(1000) },
  attributes: (p) => ({ delay: p.delay }),
  proof: 'connections that closed while it held them (bots sessions ending or reconnecting in the window)',
  judge: ({ params, bots }) => {
    if (!bots) return { bit: false, effect: 'no bots played: no connection close to delay was seen' };
    return bots.closes > 0 ? { bit: true, effect: `${bots.closes} bot connections closed while closes were delayed ${params.delay} ms` } : { bit: false, effect: 'no connection closed while it was on' };
  },
});

export const timeoutFault = toxicFault({
  type: 'timeout',
  toxicType: 'timeout',
  description: 'Stops all data; closes the connection after `timeout` ms (0: holds it until healed).',
  shape: { timeout: nonNegativeInt.default(0) },
  attributes: (p) => ({ timeout: p.timeout }),
  proof: "bytes the link's client connections carried while data was held (the kernel's socket counters, read with ss)",
  judge: ({ observations }) => judgeDataToxic(observations, 'data was held back'),
});

export const resetPeerFault = toxicFault({
  type: 'reset-peer',
  toxicType: 'reset_peer',
  description: 'Resets connections (TCP RST) after `timeout` ms.',
  shape: { timeout: nonNegativeInt.default(0) },
  attributes: (p) => ({ timeout: p.timeout }),
  proof: 'connections reset: bots links lost or logins failed in the window (backend-db: bots actions failed or unknown)',
  judge: ({ params, bots }) => judgeCut(params.link, bots),
});

export const slicerFault = toxicFault({
  type: 'slicer',
  toxicType: 'slicer',
  description: 'Slices data into small packets of `average_size` (± size_variation) bytes, `delay` µs apart.',
  shape: { average_size: z.number().int().positive().default(1), size_variation: nonNegativeInt.default(0), delay: nonNegativeInt.default(10) },
  attributes: (p) => ({ average_size: p.average_size, size_variation: p.size_variation, delay: p.delay }),
  proof: "bytes the link's client connections carried while it was on (the kernel's socket counters, read with ss every 500 ms)",
  judge: ({ params, observations }) => judgeDataToxic(observations, `sliced into ~${params.average_size} B packets`),
});

export const limitDataFault = toxicFault({
  type: 'limit-data',
  toxicType: 'limit_data',
  description: 'Closes a connection after `bytes` bytes have passed.',
  shape: { bytes: z.number().int().positive().default(1024) },
  attributes: (p) => ({ bytes: p.bytes }),
  proof: 'connections closed at the limit: bots links lost or logins failed in the window (backend-db: bots actions failed or unknown)',
  judge: ({ params, bots }) => judgeCut(params.link, bots),
});

export const linkDownFault = defineFault({
  type: 'link-down',
  family: 'toxiproxy',
  description: 'Disables the link\'s proxy: open connections drop, new ones are refused.',
  params: z.strictObject({ link: z.enum(LINK_NAMES).default('bots-backend') }),
  requires: (p) => [linkCapability(p.link)],
  targetOf: (p) => p.link,
  locks: (p) => [`the ${p.link} proxy's on/off switch`],
  proof: 'connections through the link cut when it went down (ESTABLISHED sockets on its listen port), or bots that saw it down',
  judge: ({ params, observations, bots }) => {
    const cut = typeof observations.connectionsCut === 'number' ? observations.connectionsCut : 0;
    const seen = botsSawCut(params.link, bots);
    const words = [typeof observations.connectionsCut === 'number' ? `${cut} open connections cut` : 'open connections not counted', ...(seen ? [seen.words] : [])].join('; ');
    return { bit: cut > 0 || (seen?.count ?? 0) > 0, effect: words };
  },
  async inject(target, p): Promise<FaultHandle> {
    const { toxiproxy: api, proxy, listen } = linkOf(target, p.link);
    await api.proxy(proxy);
    const forget = recordDebris(target.sut.debris, { kind: 'toxiproxy-reset', apiUrl: api.apiUrl });
    const enable = async () => {
      await api.setEnabled(proxy, true);
      if (!(await api.proxy(proxy)).enabled) throw new HarnessError(`Toxiproxy proxy ${proxy} is still disabled after enabling it`);
      forget();
    };
    // The connections the proxy holds now are the ones the disable drops.
    const open = establishedOnPort(listenPort(listen));
    try {
      await api.setEnabled(proxy, false);
      if ((await api.proxy(proxy)).enabled) throw new HarnessError(`Toxiproxy proxy ${proxy} is still enabled after disabling it`);
    } catch (error) {
      await enable().catch(() => undefined);
      throw error;
    }
    return { heal: healOnce(enable), observations: { proxy, ...(open !== undefined ? { connectionsCut: open } : {}) } };
  },
});

export const toxiproxyFaults: Fault[] = [latencyFault, bandwidthFault, slowCloseFault, timeoutFault, resetPeerFault, slicerFault, limitDataFault, linkDownFault] as unknown as Fault[];
