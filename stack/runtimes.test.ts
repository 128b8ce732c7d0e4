import { InvalidInputError } from '../core/exit-codes';
import { installSignalTeardown, withStack } from './lifecycle';
import { renderPrometheusConfig } from './prometheus';
import { getRuntime, runtimeNames } from './runtimes';
import { findTool, resolveTool } from './tools-path';
import type { Runtime, StartedStack } from './types';

describe('getRuntime', () => {
  it('gives the process and containers runtimes, and a clear error for unknown names', () => {
    expect(getRuntime('process').name).toBe('process');
    expect(runtimeNames()).toEqual(['process', 'containers']);
    expect(getRuntime('containers').name).toBe('containers');
    expect(getRuntime('containers').capabilities).toContain('service:backend:pause');
    expect(getRuntime('containers').capabilities).not.toContain('host:blkio');
    expect(() => getRuntime('k8s')).toThrow(InvalidInputError);
    expect(() => getRuntime('k8s')).toThrow(/choose one of: process, containers/);
  });
});

function fakeRuntime(stops: string[]): Runtime {
  return {
    name: 'process',
    capabilities: [],
    start: async () => ({ stop: async () => void stops.push('stop') }) as unknown as StartedStack, // only stop() is used here
  };
}

describe('withStack', () => {
  it('stops the stack after fn returns and after fn throws', async () => {
    const stops: string[] = [];
    const options = { runId: 'r', runDir: '/tmp/unused', backend: {} };
    await expect(withStack(options, async () => 42, fakeRuntime(stops))).resolves.toBe(42);
    await expect(withStack(options, async () => Promise.reject(new Error('scenario blew up')), fakeRuntime(stops))).rejects.toThrow('scenario blew up');
    expect(stops).toEqual(['stop', 'stop']);
  });
});

describe('installSignalTeardown', () => {
  it('stops once, then exits 130 on SIGINT, ignoring a second signal during teardown', async () => {
    let stops = 0;
    let release: () => void = () => undefined;
    const stack = { stop: () => (stops++, new Promise<void>((resolve) => (release = resolve))) };
    const exits: number[] = [];
    const lines: string[] = [];
    const listenersBefore = process.listenerCount('SIGINT');
    const uninstall = installSignalTeardown(stack, { exit: (code) => exits.push(code), log: (line) => lines.push(line) });
    try {
      process.emit('SIGINT', 'SIGINT');
      process.emit('SIGTERM', 'SIGTERM');
      expect(stops).toBe(1);
      expect(exits).toEqual([]); // not before the teardown finished
      release();
      await new Promise((resolve) => setImmediate(resolve));
      expect(exits).toEqual([130]);
      expect(lines[1]).toMatch(/SIGTERM again/);
    } finally {
      uninstall();
    }
    expect(process.listenerCount('SIGINT')).toBe(listenersBefore);
  });

  it('exits 143 on SIGTERM', async () => {
    const exits: number[] = [];
    const uninstall = installSignalTeardown({ stop: async () => undefined }, { exit: (code) => exits.push(code), log: () => undefined });
    try {
      process.emit('SIGTERM', 'SIGTERM');
      await new Promise((resolve) => setImmediate(resolve));
      expect(exits).toEqual([143]);
    } finally {
      uninstall();
    }
  });
});

describe('renderPrometheusConfig', () => {
  it('groups targets by job with a 1 s interval and rejects bad targets', () => {
    const text = renderPrometheusConfig([
      { job: 'backend', target: '127.0.0.1:9464' },
      { job: 'bots', target: '127.0.0.1:9465' },
      { job: 'bots', target: '[::1]:9466' },
    ]);
    expect(text).toContain('scrape_interval: 1s');
    expect(text).toContain("  - job_name: 'backend'\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['127.0.0.1:9464']");
    expect(text).toContain("targets: ['127.0.0.1:9465', '[::1]:9466']");
    expect(() => renderPrometheusConfig([{ job: 'my job', target: '127.0.0.1:1' }])).toThrow(/job "my job"/);
    expect(() => renderPrometheusConfig([{ job: 'x', target: 'http://127.0.0.1:1/metrics' }])).toThrow(/must be host:port/);
  });
});

describe('resolveTool', () => {
  it('finds tools on PATH and names the fix when one is missing', () => {
    expect(findTool('sh', { PATH: '/usr/bin:/bin' })).toMatch(/\/sh$/);
    expect(() => resolveTool('lagstorm-no-such-tool', { PATH: '/usr/bin' })).toThrow(/lagstorm setup/);
  });
});
