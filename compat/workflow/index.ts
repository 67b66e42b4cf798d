/**
 * UI-format workflows (litegraph JSON) → API prompts, as the ComfyUI frontend's graphToPrompt
 * makes them; format detection; workflows embedded in PNG/WebP images. See README.md.
 */
export { workflowToPrompt, type WorkflowToPromptOptions, type WorkflowToPromptResult } from './convert.js';
export { isApiPrompt, isUiWorkflow } from './detect.js';
export { processDynamicPrompt } from './dynamic-prompts.js';
export { DEFAULT_VIRTUAL_TYPES } from './flatten.js';
export { extractWorkflowFromImage, parsePythonJson, type ImageWorkflow } from './image-metadata.js';
export type { UiWorkflow, UiNode, UiLink, SubgraphDefinition, GroupNodeDefinition } from './types.js';
export { mapWidgetValues, widgetPlan } from './widgets.js';
