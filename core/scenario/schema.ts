/**
 * The scenario format: typed data, validated strictly (unknown fields are errors) with every
 * problem reported at once, each with its path and a hint. Durations accept '500ms', '10s', '2m'.
 */
import { z } from 'zod';
import { parseDuration } from '../duration';
import { parseSloExpression, SLO_HINT } from '../../verdict/slo-expression';
import { sloStatProblem, type SloMetric } from '../../verdict/slo';

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});
const positiveDuration = duration.refine((ms) => ms > 0, { message: 'must be longer than 0; write e.g. "10s"' });

const sloExpression = z.string().superRefine((value, ctx) => {
  try {
    parseSloExpression(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});
const phasedSlo = z.union([
  sloExpression,
  z.strictObject({ baseline: sloExpression.optional(), fault: sloExpression.optional(), recovery: sloExpression.optional(), run: sloExpression.optional() }),
]);

const LOOPBACK_HOSTS = ['127.0.0.1', '[::1]', 'localhost'];

/** A URL on loopback (lagstorm sends traffic to loopback only) with one of `schemes`. */
function loopbackUrl(schemes: string[], example: string) {
  return z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return ctx.addIssue({ code: 'custom', message: `not a URL; write e.g. "${example}"` });
    }
    if (!schemes.includes(url.protocol)) ctx.addIssue({ code: 'custom', message: `must start with ${schemes.map((s) => `${s}//`).join(', ')}, not ${url.protocol}//; e.g. "${example}"` });
    else if (!LOOPBACK_HOSTS.includes(url.hostname)) ctx.addIssue({ code: 'custom', message: `host "${url.hostname}" is not loopback: lagstorm only sends traffic to 127.0.0.1, [::1] or localhost; run the backend locally, e.g. "${example}"` });
  });
}

/** When a container is ready: an HTTP path answering 2xx, a log line, or a port accepting connections. */
const readiness = z.strictObject({
  http: z.string().startsWith('/', 'an HTTP path, e.g. "/readyz"').optional(),
  log: z.string().min(1).optional(),
  port: z.enum(['ws', 'admin']).optional(),
  timeout: positiveDuration.optional(),
});

const stage = z.strictObject({ duration: positiveDuration, target: z.number().min(0) });

/** The most bots one group may have (its `count`, or its arrivals' `maxBots`): one machine's fleet. */
export const MAX_BOTS_PER_GROUP = 20_000;

const botGroup = z
  .strictObject({
    profile: z.string().min(1),
    /** Connect over IPv6 loopback ([::1]) instead of 127.0.0.1. */
    ipv6: z.boolean().default(false),
    /** Closed model: this many bots, each one player, started over `ramp`. */
    count: z.number().int().positive().max(MAX_BOTS_PER_GROUP).optional(),
    ramp: duration.optional(),
    /** Closed model with stages: the number of online bots moves linearly to each target. */
    stages: z.array(stage).min(1).optional(),
    /** Open model: new sessions arrive at `rate` per `per`, up to `maxBots` concurrent. */
    arrival: z
      .strictObject({
        rate: z.number().positive(),
        per: positiveDuration.default(1000),
        maxBots: z.number().int().positive().max(MAX_BOTS_PER_GROUP),
        stages: z.array(stage).min(1).optional(),
      })
      .optional(),
    /** Optional cap on actions per bot (the run's length is always bounded by `duration`). */
    maxActions: z.number().int().positive().optional(),
    /** Send gifts to the players of this (closed-model) group instead of this group's own. */
    giftTo: z.string().optional(),
    /**
     * Hot players: `share` (0..1) of this group's gifts go to the first `count` players of the gift
     * target group (a streamer everyone gifts to), the rest spread evenly. Default: all spread evenly.
     */
    hotPlayers: z.strictObject({ count: z.number().int().positive(), share: z.number().min(0).max(1) }).optional(),
    /**
     * Bursts: every bot of the group acts `actions` times at each multiple of `every` since the run
     * started, instead of the profile's think time: the whole group at the same instant. Default: off.
     */
    burst: z.strictObject({ every: positiveDuration, actions: z.number().int().positive().max(100).default(1) }).optional(),
  })
  .superRefine((group, ctx) => {
    const models = [group.count !== undefined, group.arrival !== undefined].filter(Boolean).length;
    if (models !== 1) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of `count` (closed model: N bots) or `arrival` (open model: sessions per second)' });
    }
    if (group.arrival && (group.ramp !== undefined || group.stages)) {
      ctx.addIssue({ code: 'custom', message: '`ramp` and `stages` belong to the closed model; use `arrival.stages` with `arrival`' });
    }
  });

const timelineStep = z.strictObject({
  at: duration,
  duration: positiveDuration,
  fault: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
});

const randomMixEntry = z.strictObject({
  fault: z.string().min(1),
  weight: z.number().positive().default(1),
  duration: positiveDuration,
  params: z.record(z.string(), z.unknown()).default({}),
});

export const scenarioSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lowercase letters, digits and dashes, e.g. "login-storm"'),
    description: z.string().optional(),
    seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
    /** The game plug-in: a bundled game's name, or a path (relative to the scenario file) to a module exporting defineGame({...}). */
    game: z.string().min(1).default('reference'),
    runtime: z.enum(['process', 'containers']).default('process'),
    /**
     * A backend that is already running (yours, started by you): lagstorm starts no backend and no
     * PostgreSQL; bots reach `url` through the bots-backend proxy, the final-state reader gets `adminUrl`.
     */
    target: z
      .strictObject({
        url: loopbackUrl(['ws:', 'wss:', 'http:', 'https:'], 'ws://127.0.0.1:8080'),
        adminUrl: loopbackUrl(['http:', 'https:'], 'http://127.0.0.1:8081').optional(),
      })
      .optional(),
    /** How long bots play; faults happen inside this window, recovery follows it. */
    duration: positiveDuration,
    recovery: z
      .strictObject({
        /** Load continues this long after the last fault heals; the recovery phase. */
        window: positiveDuration.default(10_000),
        /** Every bot must reconnect and complete an action this soon after the last heal. */
        reconnectWithin: positiveDuration.default(10_000),
      })
      .default({ window: 10_000, reconnectWithin: 10_000 }),
    backend: z
      .strictObject({
        defect: z.string().default('none'),
        env: z.record(z.string(), z.string()).default({}),
        args: z.array(z.string()).default([]),
        /** Your own backend: a .ts/.js entry point taking the standard flags (--port, --admin-port, --database-url, --defect) instead of the game's. */
        entry: z.string().optional(),
        /** Containers runtime: the backend's image (default: the game's, e.g. lagstorm/reference-backend). */
        image: z.string().min(1).optional(),
        /** Containers runtime: replaces the image's CMD; placeholders {{postgres.url}}, {{ports.ws}}, {{ports.admin}}, {{run.id}}, {{services.<name>.port}}. */
        command: z.array(z.string()).optional(),
        /** Containers runtime: when the backend is ready (default: GET /readyz on the admin port). */
        ready: readiness.optional(),
        /** Containers runtime: extra images the backend needs (Redis, a matchmaker), started before it. */
        services: z
          .array(
            z.strictObject({
              name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _, e.g. "redis"'),
              image: z.string().min(1),
              command: z.array(z.string()).optional(),
              env: z.record(z.string(), z.string()).optional(),
              ready: readiness.optional(),
            }),
          )
          .optional(),
      })
      .default({ defect: 'none', env: {}, args: [] }),
    bots: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'name bot groups in kebab-case'), botGroup).refine((groups) => Object.keys(groups).length > 0, {
      message: 'declare at least one bot group, e.g. bots: { players: { profile: "casual", count: 20 } }',
    }),
    faults: z
      .strictObject({
        timeline: z.array(timelineStep).default([]),
        /**
         * A fault with no measured effect ("did not bite"): 'error' makes the run an error (exit 2:
         * it did not test what it claims; the release-gate default), 'warn' only reports it.
         */
        ifNoEffect: z.enum(['error', 'warn'], { message: 'with "error" a fault that did not bite makes the run an error (exit 2), with "warn" it is only reported' }).default('error'),
        random: z
          .strictObject({
            seed: z.number().int().min(0).optional(),
            mix: z.array(randomMixEntry).min(1),
            meanInterval: positiveDuration,
            maxConcurrent: z.number().int().positive().default(1),
            start: duration.optional(),
            end: duration.optional(),
          })
          .optional(),
      })
      .default({ timeline: [], ifNoEffect: 'error' }),
    slos: z
      .strictObject({
        action_rtt: phasedSlo.optional(),
        session_resume: phasedSlo.optional(),
        error_rate: phasedSlo.optional(),
        time_to_recover: sloExpression.optional(),
        /** SLOs over the run's own Prometheus: any PromQL query, sampled every second, per phase. */
        prometheus: z
          .record(
            z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'name it in snake_case, e.g. db_retries'),
            z.strictObject({
              query: z.string().min(1, 'write a PromQL query, e.g. sum(rate(game_db_retries_total[5s]))'),
              baseline: sloExpression.optional(),
              fault: sloExpression.optional(),
              recovery: sloExpression.optional(),
              run: sloExpression.optional(),
            }),
          )
          .optional(),
      })
      .default({}),
    /** Checkers to run (generic ones and the game's own); default (or []): all the game can feed. */
    checks: z.array(z.string().min(1)).default([]),
    /** How the bots behave as network clients; match your real game client. Unset fields keep the defaults. */
    client: z
      .strictObject({
        pingInterval: positiveDuration.optional(),
        pongTimeout: positiveDuration.optional(),
        connectTimeout: positiveDuration.optional(),
        actionTimeout: positiveDuration.optional(),
        /** Actions a bot may have in flight at once (pipelining, like clients that stream actions without waiting for acks); default 1. */
        pipeline: z.number().int().min(1).max(64).optional(),
        reconnect: z
          .strictObject({
            backoffBase: positiveDuration.optional(),
            backoffCap: positiveDuration.optional(),
            maxAttempts: z.number().int().positive().optional(),
          })
          .optional(),
      })
      .default({}),
  })
  .superRefine((scenario, ctx) => {
    for (const [metric, spec] of Object.entries(scenario.slos)) {
      if (metric === 'prometheus') continue; // any stat but rate fits a sampled series; checked below
      const byPhase: Array<[string | undefined, string | undefined]> = typeof spec === 'string' ? [[undefined, spec]] : Object.entries(spec ?? {});
      for (const [phase, source] of byPhase) {
        let expression;
        try {
          expression = parseSloExpression(source ?? '');
        } catch {
          continue; // already reported by the field's own check
        }
        const problem = sloStatProblem(metric as SloMetric, expression);
        if (problem) ctx.addIssue({ code: 'custom', path: ['slos', metric, ...(phase ? [phase] : [])], message: problem });
      }
    }
    for (const [name, group] of Object.entries(scenario.bots)) {
      if (!group.hotPlayers) continue;
      const targetName = group.giftTo ?? name;
      const targetCount = scenario.bots[targetName]?.count;
      if (targetCount !== undefined && group.hotPlayers.count > targetCount) {
        ctx.addIssue({
          code: 'custom',
          path: ['bots', name, 'hotPlayers', 'count'],
          message: `${group.hotPlayers.count} hot players, but the gift target group "${targetName}" has ${targetCount} players; lower hotPlayers.count to at most ${targetCount}`,
        });
      }
    }
    for (const [name, group] of Object.entries(scenario.bots)) {
      if (group.giftTo === undefined) continue;
      const target = scenario.bots[group.giftTo];
      if (!target || target.count === undefined) {
        const closed = Object.keys(scenario.bots).filter((other) => scenario.bots[other].count !== undefined);
        ctx.addIssue({ code: 'custom', path: ['bots', name, 'giftTo'], message: `"${group.giftTo}" is not a closed-model bot group; use one of: ${closed.join(', ')}` });
      }
    }
    scenario.faults.timeline.forEach((step, i) => {
      if (step.at + step.duration > scenario.duration) {
        ctx.addIssue({
          code: 'custom',
          path: ['faults', 'timeline', i, 'duration'],
          message: `the fault ends at ${step.at + step.duration}ms, after the scenario's duration (${scenario.duration}ms); shorten it or lengthen \`duration\``,
        });
      }
    });
  });

export { SLO_HINT };
/** What a scenario file declares (durations as strings or ms). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario: defaults filled, durations in ms. */
export type Scenario = z.output<typeof scenarioSchema>;
export type BotGroup = Scenario['bots'][string];
export type TimelineStep = Scenario['faults']['timeline'][number];
export type RandomSchedule = NonNullable<Scenario['faults']['random']>;
/** A scenario as run: seed chosen. Saved as scenario.json; `lagstorm replay` runs it again. */
export type ResolvedScenario = Scenario & { seed: number };
