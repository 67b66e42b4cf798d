/**
 * Loading custom node packs at start-up (docs/plugins.md): the `custom_nodes` roots of the
 * folder layout, `--disable-all-custom-nodes` / `--whitelist-custom-nodes` from the Config.
 */
import { customNodeRoots, loadPlugins, type PluginLoadOptions, type PluginLoadResult } from '../nodes/plugins/index.js';
import type { Config } from './config.js';
import type { AppDeps } from './context.js';

/** `false`: load no packs; otherwise loader settings (NaN policy, input protection). */
export type PluginStartOptions = false | Pick<PluginLoadOptions, 'nanPolicy' | 'protectInputs'>;

export async function loadServerPlugins(config: Config, deps: AppDeps, opts: PluginStartOptions = {}): Promise<PluginLoadResult> {
  if (opts === false) return { packs: [], webDirs: {} };
  let result: PluginLoadResult;
  try {
    result = await loadPlugins({
      ...opts,
      roots: customNodeRoots(deps.env),
      registry: deps.registry,
      log: deps.log,
      disableAll: config.disableAllCustomNodes,
      whitelist: config.whitelistCustomNodes,
    });
  } catch (err) {
    // Each pack already loads in its own try; this is the loader's own failure. Serve without packs.
    deps.log.error('custom nodes: the plugin loader failed; starting without custom nodes:', err);
    return { packs: [], webDirs: {} };
  }
  deps.extensionWebDirs = { ...deps.extensionWebDirs, ...result.webDirs };
  return result;
}
