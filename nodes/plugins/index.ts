/**
 * The plugin loader for custom node packs (docs/plugins.md):
 *
 *   const result = await loadPlugins({ roots: customNodeRoots(env), registry, log });
 *   // result.webDirs → served at /extensions/<pack>/…; result.packs → per-pack report
 */
export { loadPlugins, importTimesSummary, customNodeRoots, type PluginLoadOptions, type PluginLoadResult, type PackReport } from './loader.js';
export { discoverPacks, type PackCandidate } from './discovery.js';
export { readDeclaration, DeclarationError, NAN_POLICIES, type NanPolicy, type ComfyNodeClass, type ComfyNodeFields, type NodeDeclaration } from './declaration.js';
export { adaptDeclaration, destructuredNames } from './adapt-node.js';
export { prepareValue, prepareInputs, findNonFinite, HANDLE_TYPES, type PrepareOptions } from './tensor-guard.js';
export { checkValue } from './value-checks.js';
export { PluginTypeError, PluginNonFiniteError } from './errors.js';
