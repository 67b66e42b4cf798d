/**
 * diffusers SD3 transformer keys (`transformer_blocks.N.…`) → the original MMDiT keys the engine's
 * definition uses (`joint_blocks.N.…`), as data.
 *
 * ref: spec/sd3-engine.md §1.6, which paraphrases ComfyUI `comfy/utils.py` (`MMDIT_MAP_BASIC`,
 * `MMDIT_MAP_BLOCK`, `mmdit_to_diffusers`), https://github.com/comfyanonymous/ComfyUI/blob/master/comfy/utils.py
 *
 * Three ways an original tensor is made from diffusers tensors:
 *   copy        one tensor, unchanged;
 *   concatRows  q, k, v projections stacked along dim 0 into `qkv` ([3D, D] / [3D]);
 *   swapHalves  diffusers stores (scale, shift) where the original has (shift, scale): the two
 *               halves of dim 0 trade places (final layer and the last block's context modulation).
 */

export type DiffusersCombine = 'copy' | 'concatRows' | 'swapHalves';

export interface DiffusersRecipe {
  /** Original key, without prefix (e.g. `joint_blocks.0.x_block.attn.qkv.weight`). */
  original: string;
  /** Diffusers keys, with the file's prefix, in the order they are combined. */
  sources: string[];
  combine: DiffusersCombine;
}

/** Fixed (non-block) names: [diffusers stem, original stem, combine]. Each maps `.weight` and `.bias`. */
const BASIC: ReadonlyArray<readonly [string, string, DiffusersCombine]> = [
  ['pos_embed.proj', 'x_embedder.proj', 'copy'],
  ['time_text_embed.timestep_embedder.linear_1', 't_embedder.mlp.0', 'copy'],
  ['time_text_embed.timestep_embedder.linear_2', 't_embedder.mlp.2', 'copy'],
  ['time_text_embed.text_embedder.linear_1', 'y_embedder.mlp.0', 'copy'],
  ['time_text_embed.text_embedder.linear_2', 'y_embedder.mlp.2', 'copy'],
  ['context_embedder', 'context_embedder', 'copy'],
  ['norm_out.linear', 'final_layer.adaLN_modulation.1', 'swapHalves'],
  ['proj_out', 'final_layer.linear', 'copy'],
];

/** Per-block names: [diffusers stems (relative to `transformer_blocks.N.`), original stem (relative to `joint_blocks.N.`)]. */
const BLOCK_LINEARS: ReadonlyArray<readonly [readonly string[], string]> = [
  [['attn.to_q', 'attn.to_k', 'attn.to_v'], 'x_block.attn.qkv'],
  [['attn.add_q_proj', 'attn.add_k_proj', 'attn.add_v_proj'], 'context_block.attn.qkv'],
  [['attn2.to_q', 'attn2.to_k', 'attn2.to_v'], 'x_block.attn2.qkv'],
  [['attn.to_out.0'], 'x_block.attn.proj'],
  [['attn.to_add_out'], 'context_block.attn.proj'],
  [['attn2.to_out.0'], 'x_block.attn2.proj'],
  [['norm1.linear'], 'x_block.adaLN_modulation.1'],
  [['norm1_context.linear'], 'context_block.adaLN_modulation.1'], // halves swapped in the last block
  [['ff.net.0.proj'], 'x_block.mlp.fc1'],
  [['ff.net.2'], 'x_block.mlp.fc2'],
  [['ff_context.net.0.proj'], 'context_block.mlp.fc1'],
  [['ff_context.net.2'], 'context_block.mlp.fc2'],
];

/** qk-norm weights (no bias): [diffusers stem, original stem]. */
const BLOCK_NORMS: ReadonlyArray<readonly [string, string]> = [
  ['attn.norm_q', 'x_block.attn.ln_q'],
  ['attn.norm_k', 'x_block.attn.ln_k'],
  ['attn.norm_added_q', 'context_block.attn.ln_q'],
  ['attn.norm_added_k', 'context_block.attn.ln_k'],
  ['attn2.norm_q', 'x_block.attn2.ln_q'],
  ['attn2.norm_k', 'x_block.attn2.ln_k'],
];

export const DIFFUSERS_PROBE = 'transformer_blocks.0.attn.to_q.weight';

/** The prefix in front of `transformer_blocks.` when `keys` are a diffusers SD3 transformer, else undefined. */
export function diffusersPrefix(keys: Iterable<string>): string | undefined {
  for (const key of keys) if (key.endsWith(DIFFUSERS_PROBE)) return key.slice(0, key.length - DIFFUSERS_PROBE.length);
  return undefined;
}

function blockCount(keys: ReadonlySet<string>, prefix: string): number {
  let n = 0;
  while (keys.has(`${prefix}transformer_blocks.${n}.attn.to_q.weight`)) n++;
  return n;
}

/**
 * Recipes for every original tensor that the diffusers `keys` can make. Keys of the file that no
 * recipe uses are returned in `unused` (the caller decides whether that is an error).
 */
export function diffusersRecipes(keys: Iterable<string>, prefix: string): { recipes: DiffusersRecipe[]; unused: string[] } {
  const have = new Set(keys);
  const used = new Set<string>();
  const recipes: DiffusersRecipe[] = [];
  const add = (original: string, sources: string[], combine: DiffusersCombine) => {
    if (!sources.every((s) => have.has(s))) return;
    sources.forEach((s) => used.add(s));
    recipes.push({ original, sources, combine });
  };
  if (have.has(`${prefix}pos_embed.pos_embed`)) add('pos_embed', [`${prefix}pos_embed.pos_embed`], 'copy');
  for (const [from, to, combine] of BASIC) {
    for (const p of ['weight', 'bias']) add(`${to}.${p}`, [`${prefix}${from}.${p}`], combine);
  }
  const depth = blockCount(have, prefix);
  for (let n = 0; n < depth; n++) {
    const src = (stem: string, p: string) => `${prefix}transformer_blocks.${n}.${stem}.${p}`;
    for (const [froms, to] of BLOCK_LINEARS) {
      const swap = to === 'context_block.adaLN_modulation.1' && n === depth - 1;
      const combine: DiffusersCombine = froms.length > 1 ? 'concatRows' : swap ? 'swapHalves' : 'copy';
      for (const p of ['weight', 'bias']) add(`joint_blocks.${n}.${to}.${p}`, froms.map((f) => src(f, p)), combine);
    }
    for (const [from, to] of BLOCK_NORMS) add(`joint_blocks.${n}.${to}.weight`, [src(from, 'weight')], 'copy');
  }
  return { recipes, unused: [...have].filter((k) => !used.has(k)) };
}

/** The shape the recipe's original tensor has, from its sources' shapes. */
export function recipeShape(recipe: DiffusersRecipe, shapeOf: (key: string) => readonly number[]): number[] {
  const shapes = recipe.sources.map(shapeOf);
  if (recipe.combine !== 'concatRows') return [...shapes[0]];
  const rest = shapes[0].slice(1);
  for (const [i, s] of shapes.entries()) {
    if (s.slice(1).join(',') !== rest.join(',')) {
      throw new Error(
        `diffusers MMDiT: '${recipe.sources[i]}' has shape [${s.join(', ')}], which cannot be stacked with ` +
          `'${recipe.sources[0]}' [${shapes[0].join(', ')}] into '${recipe.original}'`,
      );
    }
  }
  return [shapes.reduce((sum, s) => sum + s[0], 0), ...rest];
}
