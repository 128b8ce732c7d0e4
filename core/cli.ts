/**
 * The `lagstorm` command line. Exit codes: 0 pass, 1 verdict failed, 2 harness or infrastructure
 * error, 3 invalid input.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ExitCode, HarnessError, InvalidInputError } from './exit-codes';
import { doctor, formatDoctor, setup } from './tools/provision';

function integer(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a non-negative integer, e.g. 42`);
    return Number(value);
  };
}

export function buildProgram(): Command {
  const program = new Command('lagstorm')
    .description('Chaos-testing and load harness for live-game backends: bots, faults, Jepsen-style checkers and SLOs in one run.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('doctor')
    .description('List every external part (PostgreSQL, toxiproxy-server, Prometheus, nft, chromium, dockerd, k6) with version and status')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }) => {
      const statuses = await doctor();
      console.log(options.json ? JSON.stringify(statuses, null, 2) : formatDoctor(statuses));
      const missing = statuses.filter((s) => s.required && !s.present);
      if (missing.length) {
        console.error(`\nmissing: ${missing.map((s) => s.name).join(', ')}; run \`lagstorm setup\``);
        process.exitCode = ExitCode.harnessError;
      }
    });

  program
    .command('setup')
    .description('Install what is missing: Debian packages through apt (root), toxiproxy through go install into .tools/bin; idempotent')
    .option('--all', 'also install optional parts (dockerd)')
    .option('--quiet', 'print only problems and one summary line')
    .action(async (options: { all?: boolean; quiet?: boolean }) => {
      const started = Date.now();
      const result = await setup({ all: options.all, log: (line) => console.log(`setup: ${line}`) });
      if (!options.quiet) console.log(formatDoctor(result.statuses));
      if (!result.ok) {
        console.error(`\nsetup could not install everything. Do this, then run \`lagstorm setup\` again:\n${result.manual.map((m) => `  ${m}`).join('\n')}`);
        process.exitCode = ExitCode.harnessError;
        return;
      }
      console.log(`setup: ready in ${((Date.now() - started) / 1000).toFixed(1)}s${result.installed.length ? ` (installed ${result.installed.join(', ')})` : ' (nothing to install)'}`);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.pass;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.pass;
      return ExitCode.invalidInput;
    }
    if (error instanceof InvalidInputError) {
      console.error(`lagstorm: ${error.message}`);
      return ExitCode.invalidInput;
    }
    const harness = error instanceof HarnessError ? error : undefined;
    console.error(`lagstorm: ${harness ? harness.message : (error as Error).stack ?? String(error)}`);
    return ExitCode.harnessError;
  }
}

if (require.main === module || process.argv[1]?.endsWith('lagstorm.js')) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
