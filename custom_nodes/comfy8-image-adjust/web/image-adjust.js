// Frontend extension of comfy8-image-adjust, loaded by the ComfyUI frontend from
// /extensions/comfy8-image-adjust/image-adjust.js (listed by GET /extensions).
// Adds "Reset adjustments" to the context menu of this pack's nodes: every widget goes back to
// the default the server declared for it in /object_info.
import { app } from '../../scripts/app.js';

const PACK_MODULE = 'custom_nodes.comfy8-image-adjust';

/** Widget name → declared default, from the node definition the server sent. */
function declaredDefaults(nodeData) {
  const defaults = {};
  for (const group of [nodeData.input?.required, nodeData.input?.optional]) {
    for (const [name, spec] of Object.entries(group ?? {})) {
      const options = Array.isArray(spec) ? spec[1] : undefined;
      if (options && 'default' in options) defaults[name] = options.default;
    }
  }
  return defaults;
}

app.registerExtension({
  name: 'comfy8.ImageAdjust',
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData.python_module !== PACK_MODULE) return;
    const defaults = declaredDefaults(nodeData);
    if (Object.keys(defaults).length === 0) return;
    const previous = nodeType.prototype.getExtraMenuOptions;
    nodeType.prototype.getExtraMenuOptions = function (canvas, options) {
      const result = previous?.apply(this, arguments);
      options.push({
        content: 'Reset adjustments',
        callback: () => {
          for (const widget of this.widgets ?? []) {
            if (!(widget.name in defaults)) continue;
            widget.value = defaults[widget.name];
            widget.callback?.(widget.value);
          }
          this.setDirtyCanvas?.(true, true);
        },
      });
      return result;
    };
  },
});
