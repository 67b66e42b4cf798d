/** ComfyUI's `nodes.MAX_RESOLUTION` (16384 in current revisions). */
export const MAX_RESOLUTION = 16384;
