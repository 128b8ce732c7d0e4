import type { ScenarioInput } from './schema';

/**
 * Declares a scenario in a `*.scenario.ts` file. Returns its input unchanged: the type checks it
 * while you write it, and `lagstorm run` validates it strictly before anything starts.
 */
export function defineScenario(scenario: ScenarioInput): ScenarioInput {
  return scenario;
}
