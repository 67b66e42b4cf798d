/**
 * The command-line entry: parse ComfyUI's flags, start the server, print ComfyUI's start-up lines.
 * The only module that listens (through startServer) or exits the process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { refuseOpenListen } from './auth/index.js';
import { CliError, helpText, parseCliArgs } from './cli-args.js';
import { isCommand, runCommand } from './cli.js';
import { runConvertCli } from './cli-convert.js';
import { runRunCli } from './cli-run.js';
import { configFromParsed } from './config.js';
import { serverFeatures } from './context.js';
import { checkRequiredDirectories } from './folders.js';
import { createLogger } from './logger.js';
import { displayUrl, startServer } from './server.js';

/** Commands that talk to files or a server asynchronously (the others live in cli.ts). */
const ASYNC_COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  convert: runConvertCli,
  run: runRunCli,
};

async function main(argv: string[]): Promise<void> {
  const asyncCommand = argv[0] !== undefined && Object.hasOwn(ASYNC_COMMANDS, argv[0]) ? ASYNC_COMMANDS[argv[0]] : undefined;
  if (asyncCommand) process.exit(await asyncCommand(argv));
  if (isCommand(argv[0])) process.exit(runCommand(argv));
  let parsed;
  try {
    parsed = parseCliArgs(argv);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`usage: comfy8 [options] (see --help)\ncomfy8: error: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(helpText());
    process.exit(0);
  }
  const config = configFromParsed(parsed, argv, process.cwd());
  if (config.listFeatureFlags) {
    process.stdout.write(`${JSON.stringify(serverFeatures(config), null, 2)}\n`);
    process.exit(0);
  }
  const log = createLogger({ level: config.logLevel, stdout: config.logStdout });
  const missing = checkRequiredDirectories(config);
  if (missing) {
    log.error(`error: ${missing}`);
    process.exit(1);
  }
  if (config.frontEndRoot && !fs.existsSync(path.join(config.frontEndRoot, 'index.html'))) {
    log.warn(`--front-end-root ${config.frontEndRoot} has no index.html; serving a placeholder page at /`);
  }
  const refused = refuseOpenListen(config);
  if (refused) {
    log.error(`error: ${refused}`);
    process.exit(1);
  }
  let server;
  try {
    server = await startServer(config, { log });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') log.error(`error: port ${config.port} is already in use (EADDRINUSE); pick another with --port`);
    else log.error('error: the server failed to start:', err);
    process.exit(1);
  }
  log.info('Starting server\n');
  for (const host of config.listen) log.info(`To see the GUI go to: ${displayUrl(config, host, server.port)}`);
  if (config.quickTestForCi) {
    await server.close();
    process.exit(0);
  }
  const running = server;
  process.on('SIGINT', () => {
    void running.close().then(() => process.exit(0));
  });
  // SIGTERM drains: the running prompt may finish (up to --shutdown-timeout); pending prompts stay
  // queued in the database for the next start. A prompt still running at the timeout is re-queued.
  process.once('SIGTERM', () => {
    log.info(`SIGTERM: finishing the running prompt (up to ${config.shutdownTimeoutMs / 1000} s), then exiting`);
    void running.app.worker.drain(config.shutdownTimeoutMs).then(async (finished) => {
      if (!finished) {
        // Every queue change is already committed; exiting now leaves the prompt marked running,
        // which the next start re-queues.
        log.warn('SIGTERM: the running prompt did not finish in time; it stays queued for the next start');
        process.exit(0);
      }
      await running.close();
      process.exit(0);
    });
  });
}

void main(process.argv.slice(2));
