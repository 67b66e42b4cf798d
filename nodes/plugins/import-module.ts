/**
 * Importing a pack's entry module.
 *
 * - `comfy8/node-api` resolves, for every ESM pack wherever it lives, to the public node API
 *   module of the running server (a Node module resolve hook registered once per process), so
 *   a pack built against it needs no installed copy of Comfy8.
 * - `.ts`/`.mts` entries load through tsx's `tsImport` (the installed `tsx` package: esbuild
 *   strips the types; no type check). When the server itself runs from TypeScript sources (tsx,
 *   vitest) every pack loads that way, since the public API it imports is then a `.ts` file too.
 *   Plain `.js`/`.mjs` packs under the built server (`dist/`) use a native `import()`.
 * - Modules are cached per process (Node's cache; one tsx namespace for all packs): a second
 *   server in the same process reuses an already imported pack.
 */
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');
const PUBLIC_API_URL = new URL(RUNNING_FROM_SOURCE ? '../public-api.ts' : '../public-api.js', import.meta.url).href;
export const PUBLIC_API_SPECIFIER = 'comfy8/node-api';

let hookRegistered = false;

function registerPublicApiAlias(): void {
  if (hookRegistered) return;
  hookRegistered = true;
  const hook = [
    `const target = ${JSON.stringify(PUBLIC_API_URL)};`,
    `export async function resolve(specifier, context, next) {`,
    `  if (specifier === ${JSON.stringify(PUBLIC_API_SPECIFIER)}) return next(target, context);`,
    `  return next(specifier, context);`,
    `}`,
  ].join('\n');
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}

function isTypeScript(file: string): boolean {
  return /\.[mc]?ts$/.test(file);
}

type ScopedImport = (specifier: string, parentURL: string) => Promise<Record<string, unknown>>;
let tsxImport: Promise<ScopedImport> | null = null;

/** One tsx registration (namespace) for every pack, so hooks do not pile up per import. */
function tsxImporter(): Promise<ScopedImport> {
  tsxImport ??= import('tsx/esm/api').then(
    (api) => api.register({ namespace: 'comfy8-custom-nodes' }).import as ScopedImport,
    (err: unknown) => {
      tsxImport = null;
      throw new Error(`loading TypeScript needs the 'tsx' package (npm install tsx), or point package.json "main" at a compiled .js entry: ${(err as Error).message}`);
    },
  );
  return tsxImport;
}

/** The module namespace of a pack's entry file. */
export async function importPackEntry(file: string): Promise<Record<string, unknown>> {
  registerPublicApiAlias();
  const url = pathToFileURL(file).href;
  if (RUNNING_FROM_SOURCE || isTypeScript(file)) return (await tsxImporter())(url, import.meta.url);
  return (await import(url)) as Record<string, unknown>;
}
