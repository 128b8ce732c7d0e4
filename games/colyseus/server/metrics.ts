/** The Colyseus example's Prometheus metrics, served at <admin>/metrics. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface GameMetrics {
  registry: Registry;
  /** Actions answered, by action and outcome (applied, rejected, duplicate, error). */
  actions: Counter<'action' | 'outcome'>;
  /** Time from the message's arrival to the reply (after COMMIT). */
  actionSeconds: Histogram<'action'>;
  /** Clients joined to a room right now. */
  clients: Gauge;
}

export function createMetrics(): GameMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'colyseus_game_' });
  return {
    registry,
    actions: new Counter({ name: 'colyseus_game_actions_total', help: 'Actions answered, by action and outcome', labelNames: ['action', 'outcome'], registers: [registry] }),
    actionSeconds: new Histogram({
      name: 'colyseus_game_action_seconds',
      help: 'From an action message to its reply (after COMMIT)',
      labelNames: ['action'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    clients: new Gauge({ name: 'colyseus_game_clients', help: 'Clients joined to a room', registers: [registry] }),
  };
}
