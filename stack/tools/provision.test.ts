import { TOOLS, type ToolSpec } from './catalog';
import { doctor, formatDoctor, setup } from './provision';

const missingApt: ToolSpec = {
  name: 'frobnicator',
  purpose: 'test part',
  candidates: () => ['/nonexistent/frobnicator'],
  versionArgs: ['--version'],
  parseVersion: (out) => out.trim(),
  source: { kind: 'apt', package: 'frobnicator-pkg' },
  required: true,
};
const missingGo: ToolSpec = { ...missingApt, name: 'gotool', source: { kind: 'go', module: 'example.com/gotool', version: 'v1.0.0', binary: 'gotool' } };

describe('doctor', () => {
  it('reports every required part present with a version after setup (npm test runs setup first)', async () => {
    const statuses = await doctor();
    expect(statuses.map((s) => s.name)).toEqual(TOOLS.map((t) => t.name));
    const required = statuses.filter((s) => s.required || s.name === 'nft');
    expect(required.filter((s) => !s.present || !s.version).map((s) => s.name)).toEqual([]);
    const toxiproxy = statuses.find((s) => s.name === 'toxiproxy-server');
    expect(toxiproxy?.version).toBe('v2.12.0');
    expect(toxiproxy?.outdated).toBeUndefined();
    expect(statuses.find((s) => s.name === 'k6')?.remedy).toMatch(/AGPL/);
    expect(formatDoctor(statuses)).toMatch(/^status\s+part\s+version/);
  });
});

describe('setup', () => {
  it('without root prints the exact apt-get line and does not succeed', async () => {
    const result = await setup({ tools: [missingApt], isRoot: false });
    expect(result.ok).toBe(false);
    expect(result.installed).toEqual([]);
    expect(result.manual).toEqual(['sudo apt-get update && sudo apt-get install -y frobnicator-pkg']);
  });

  it('without Go says to install Go and what to run then', async () => {
    const result = await setup({ tools: [missingGo], goCommand: '/nonexistent/go' });
    expect(result.ok).toBe(false);
    expect(result.manual[0]).toMatch(/^install Go .* then: GOBIN=.* go install example\.com\/gotool@v1\.0\.0/);
  });

  it('installs nothing when everything is there', async () => {
    const result = await setup();
    expect(result).toMatchObject({ ok: true, installed: [], manual: [] });
  });
});
