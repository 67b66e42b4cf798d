/**
 * Frontend-only node types that ComfyUI workflows contain: Note, MarkdownNote, legacy Reroute and
 * PrimitiveNode. They are drawn and saved but never sent (graphToPrompt skips them; links pass
 * through Reroutes and take a PrimitiveNode's value).
 */
import { LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { addMultilineWidget } from './multiline-widget.js';
import { CONTROL_MODES, type ComfyWidget } from './widgets.js';

type ISerialisedNode = Parameters<LGraphNode['configure']>[0];

class NoteNode extends LGraphNode {
  static override title = 'Note';
  override isVirtualNode = true;
  constructor(title?: string) {
    super(title ?? 'Note');
    this.serialize_widgets = true;
    this.color = '#432';
    this.bgcolor = '#653';
    addMultilineWidget(this, 'text', '');
    this.setSize([400, 120]);
  }
}

class RerouteNode extends LGraphNode {
  static override title = 'Reroute';
  override isVirtualNode = true;
  constructor(title?: string) {
    super(title ?? 'Reroute');
    this.addInput('', '*');
    this.addOutput('', '*');
    this.setSize([75, 26]);
  }
}

/**
 * A PrimitiveNode gets its widget from the input it feeds; when loading a saved workflow the
 * widget is rebuilt from `widgets_values` so the value reaches the prompt.
 */
class PrimitiveNode extends LGraphNode {
  static override title = 'Primitive';
  override isVirtualNode = true;
  constructor(title?: string) {
    super(title ?? 'Primitive');
    this.serialize_widgets = true;
    this.addOutput('connect to widget input', '*');
  }

  override onConfigure(info: ISerialisedNode): void {
    const values = Array.isArray(info.widgets_values) ? info.widgets_values : [];
    if (this.widgets?.length || !values.length) return;
    const [value, control] = values;
    const output = this.outputs?.[0] as { widget?: { name?: string }; name?: string } | undefined;
    const name = String(output?.widget?.name ?? output?.name ?? 'value');
    const noop = () => {};
    if (typeof value === 'number') this.addWidget('number', name, value, noop, { precision: Number.isInteger(value) ? 0 : 3 });
    else if (typeof value === 'boolean') this.addWidget('toggle', name, value, noop, {});
    else this.addWidget('text', name, String(value ?? ''), noop, {});
    if (typeof control === 'string' && (CONTROL_MODES as readonly string[]).includes(control)) {
      const combo = this.addWidget('combo', 'control_after_generate', control, noop, { values: [...CONTROL_MODES] }) as ComfyWidget;
      combo.promptSkip = true;
      combo.controls = this.widgets?.[0];
    }
  }
}

export function registerVirtualNodes(): void {
  LiteGraph.registerNodeType('Note', NoteNode);
  LiteGraph.registerNodeType('MarkdownNote', class extends NoteNode {
    static override title = 'Markdown Note';
  });
  LiteGraph.registerNodeType('Reroute', RerouteNode);
  LiteGraph.registerNodeType('PrimitiveNode', PrimitiveNode);
  for (const type of ['Note', 'MarkdownNote', 'Reroute', 'PrimitiveNode']) {
    (LiteGraph.registered_node_types[type] as unknown as { category: string }).category = 'utils';
  }
}
