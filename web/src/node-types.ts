/**
 * Registers one litegraph node class per `/object_info` definition. Each node knows its
 * definition, shows images (outputs, previews, LoadImage's choice) under its widgets, and draws
 * validation errors above its title.
 */
import { LGraphEventMode, LGraphNode, LiteGraph } from '@comfyorg/litegraph';
import { viewUrl, type InputSpecWire, type NodeDefWire, type ObjectInfo } from './api.js';
import { addInputWidget, isWidgetInput, type IBaseWidget } from './widgets.js';

/** Frontend-only nodes: never sent to the server (spec §4.2 rule 1). */
export const VIRTUAL_NODE_TYPES = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);

/** What runs now; the running node gets a green outline. */
export const runState = { executingNodeId: null as string | null, promptId: null as string | null };

export class ComfyNode extends LGraphNode {
  static comfyDef: NodeDefWire;
  images: HTMLImageElement[] = [];
  errorText: string | null = null;
  /** Set by wireImagePreview for nodes with an image_upload combo. */
  refreshInputPreview: (() => void) | null = null;

  constructor(title: string) {
    super(title);
    this.strokeStyles['running'] = function (this: LGraphNode) {
      if (runState.executingNodeId === null || String(this.id) !== runState.executingNodeId) return undefined;
      return { color: '#3f3', lineWidth: 3, padding: 6 };
    };
  }

  override onConfigure(): void {
    this.refreshInputPreview?.();
  }

  override onAdded(): void {
    this.refreshInputPreview?.();
  }

  get comfyDef(): NodeDefWire {
    return (this.constructor as typeof ComfyNode).comfyDef;
  }

  /** Shows images under the widgets, growing the node so they fit. */
  showImages(urls: string[]): void {
    this.images = urls.map((url) => {
      const img = new Image();
      img.onload = () => this.setDirtyCanvas(true, false);
      img.src = url;
      return img;
    });
    const minHeight = this.computeSize()[1] + 200;
    if (this.size[1] < minHeight) this.setSize([Math.max(this.size[0], 256), minHeight]);
    this.setDirtyCanvas(true, true);
  }

  override onDrawBackground(ctx: CanvasRenderingContext2D): void {
    const img = this.images.find((i) => i.complete && i.naturalWidth > 0);
    if (!img || this.flags.collapsed) return;
    const top = this.computeSize()[1];
    const [w, h] = [this.size[0], this.size[1] - top];
    if (h < 16) return;
    const scale = Math.min(w / img.naturalWidth, h / img.naturalHeight);
    const [dw, dh] = [img.naturalWidth * scale, img.naturalHeight * scale];
    ctx.drawImage(img, (w - dw) / 2, top + (h - dh) / 2, dw, dh);
  }

  override onDrawForeground(ctx: CanvasRenderingContext2D): void {
    drawModeOverlay(this, ctx);
    if (!this.errorText) return;
    ctx.save();
    ctx.fillStyle = '#ff5555';
    ctx.font = '12px sans-serif';
    ctx.fillText(this.errorText, 0, -LiteGraph.NODE_TITLE_HEIGHT - 6, Math.max(this.size[0], 300));
    ctx.restore();
  }
}

/** Bypassed nodes get a purple veil and muted ones a grey one, as in ComfyUI. */
export function drawModeOverlay(node: LGraphNode, ctx: CanvasRenderingContext2D): void {
  const colour = node.mode === LGraphEventMode.BYPASS ? 'rgba(160, 0, 200, 0.35)' : node.mode === LGraphEventMode.NEVER ? 'rgba(20, 20, 20, 0.55)' : null;
  if (!colour || node.flags.collapsed) return;
  ctx.save();
  ctx.fillStyle = colour;
  ctx.fillRect(0, -LiteGraph.NODE_TITLE_HEIGHT, node.size[0], node.size[1] + LiteGraph.NODE_TITLE_HEIGHT);
  ctx.restore();
}

function addDefinitionSlots(node: ComfyNode, def: NodeDefWire): void {
  const groups: [Record<string, InputSpecWire> | undefined, string[] | undefined, boolean][] = [
    [def.input.required, def.input_order?.required, false],
    [def.input.optional, def.input_order?.optional, true],
  ];
  for (const [specs, order, optional] of groups) {
    if (!specs) continue;
    for (const name of order ?? Object.keys(specs)) {
      const spec = specs[name];
      if (!spec) continue;
      if (isWidgetInput(spec)) addInputWidget(node, name, spec);
      else node.addInput(name, String(spec[0]), optional ? { shape: LiteGraph.ROUND_SHAPE } : undefined);
    }
  }
  def.output.forEach((type, i) => {
    const typeName = Array.isArray(type) ? 'COMBO' : type;
    node.addOutput(def.output_name?.[i] ?? typeName, typeName, def.output_is_list?.[i] ? { shape: LiteGraph.GRID_SHAPE } : undefined);
  });
}

function makeNodeClass(def: NodeDefWire): typeof ComfyNode {
  const title = def.display_name || def.name;
  const cls = class extends ComfyNode {
    static override title = title;
    static override comfyDef = def;
    constructor(nodeTitle?: string) {
      super(nodeTitle ?? title);
      this.serialize_widgets = true;
      addDefinitionSlots(this, def);
      this.properties = { 'Node name for S&R': def.name };
      wireImagePreview(this);
      this.setSize(this.computeSize());
    }
  };
  return cls;
}

export function registerNodeTypes(info: ObjectInfo): void {
  for (const def of Object.values(info)) {
    const cls = makeNodeClass(def);
    LiteGraph.registerNodeType(def.name, cls);
    (cls as unknown as { category: string }).category = def.category ?? 'sd';
  }
}

/** The URL to preview a LoadImage-style combo value (an input-folder file). */
export function inputImageUrl(value: string): string {
  const annotated = /^(.*) \[(input|output|temp)\]$/.exec(value);
  const file = annotated ? annotated[1] : value;
  const slash = file.lastIndexOf('/');
  return viewUrl({ filename: file.slice(slash + 1), subfolder: slash >= 0 ? file.slice(0, slash) : '', type: annotated?.[2] ?? 'input' });
}

/** LoadImage-style nodes show the chosen input file. */
export function wireImagePreview(node: ComfyNode): void {
  const combo = node.widgets?.find((w: IBaseWidget) => w.type === 'combo' && node.comfyDef.input.required?.[w.name]?.[1]?.['image_upload']);
  if (!combo) return;
  const show = () => {
    if (combo.value) node.showImages([inputImageUrl(String(combo.value))]);
  };
  const previous = combo.callback;
  combo.callback = function (this: IBaseWidget, ...args: unknown[]) {
    (previous as ((...a: unknown[]) => void) | undefined)?.apply(this, args);
    show();
  };
  show();
}
