/**
 * Child process of the engine-core benchmark: loads the FP8 stack as external data into one
 * session and prints one JSON line of memory figures, so that the parent's own allocations never
 * enter the baseline. Peak RSS comes from /proc/self/status VmHWM, reset through
 * /proc/self/clear_refs ("5") before each phase so each phase's peak is its own.
 *
 * argv[2]: JSON { dir, spec, stack, variant, tokens, runs }
 */
import * as fs from 'node:fs';
import * as op from '../../engine/onnx/index.js';
import { createSession } from '../../engine/runtime/session.js';
import { buildStackModel, type StackFile, type StackSpec, type StackVariant } from './fp8-stack.js';

interface ChildArgs {
  dir: string;
  spec: StackSpec;
  stack: StackFile;
  variant: StackVariant;
  tokens: number;
  runs: number;
}

function statusKb(field: 'VmHWM' | 'VmRSS'): number {
  const match = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!match) throw new Error(`/proc/self/status has no ${field}`);
  return Number(match[1]) * 1024;
}

function resetPeak(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false; // older kernels: VmHWM then stays the lifetime peak, which only overstates
  }
}

/** One tiny session first, so onnxruntime's one-time process setup is not counted per parameter. */
async function warmUpOnnxRuntime(): Promise<void> {
  const g = new op.GraphBuilder('warm-up');
  g.output(op.identity(g, g.input('x', 'float32', [1])), 'float32', [1], 'y');
  const session = await createSession(g.toBytes());
  await session.run({ x: { dtype: 'float32', shape: [1], data: new Float32Array(1) } });
  await session.release();
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as ChildArgs;
  const model = buildStackModel(args.stack, args.spec, args.variant);
  const x = new Float32Array(args.tokens * args.spec.dim).fill(0.01);
  await warmUpOnnxRuntime();
  global.gc?.();
  const baseline = statusKb('VmRSS');
  const peakReset = resetPeak();

  const loadStart = performance.now();
  const session = await createSession(model, { name: 'fp8-stack', externalDataFolder: args.dir });
  const loadMs = performance.now() - loadStart;
  const afterLoad = statusKb('VmRSS');
  const peakLoad = statusKb('VmHWM');

  const runMs: number[] = [];
  const afterRun: number[] = [];
  resetPeak();
  for (let i = 0; i < args.runs; i++) {
    const start = performance.now();
    await session.run({ x: { dtype: 'float32', shape: [1, args.tokens, args.spec.dim], data: x } });
    runMs.push(performance.now() - start);
    global.gc?.();
    afterRun.push(statusKb('VmRSS'));
  }
  const peakRun = statusKb('VmHWM');
  await session.release();
  process.stdout.write(
    JSON.stringify({ baseline, afterLoad, peakLoad, afterRun, peakRun, loadMs, runMs, peakReset, modelBytes: model.length }) + '\n',
  );
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error) + '\n');
  process.exit(1);
});
