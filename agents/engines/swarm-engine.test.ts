import type { SwarmTask } from '../../stack/images/swarm';
import { agentTasksOf } from './swarm-engine';

const task = (id: string, slot: number, state: string): SwarmTask => ({ id, slot, state, containerId: `c-${id}` });

test('a slot is its first task: the replacement Swarm starts after a failure is split off, even in the poll that first sees both', () => {
  const killed = task('a1', 1, 'failed');
  const replacement = task('b1', 1, 'running');
  const firstPoll = agentTasksOf([task('a0', 0, 'running'), killed, replacement], new Map(), 2);
  expect(firstPoll.agents.map((agent) => agent.id)).toEqual(['a0', 'a1']);
  expect(firstPoll.replacements.map((agent) => agent.id)).toEqual(['b1']);

  // Later polls keep the known agent task even if the engine lists the replacement first.
  const known = new Map([[0, task('a0', 0, 'running')], [1, task('a1', 1, 'running')]]);
  const later = agentTasksOf([replacement, task('a0', 0, 'complete'), killed], known, 2);
  expect(later.agents.map((agent) => [agent.id, agent.state])).toEqual([['a0', 'complete'], ['a1', 'failed']]);
  expect(later.replacements.map((agent) => agent.id)).toEqual(['b1']);
});

test('slots outside the job are ignored', () => {
  expect(agentTasksOf([task('x', 2, 'running'), task('y', -1, 'running')], new Map(), 2)).toEqual({ agents: [], replacements: [] });
});
