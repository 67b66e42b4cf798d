/**
 * A multiline STRING widget: shows several wrapped lines of its text and edits it in litegraph's
 * textarea dialog on click (the official frontend uses a DOM textarea; this keeps to the canvas).
 */
import type { LGraphCanvas, LGraphNode } from '@comfyorg/litegraph';
import type { IBaseWidget } from './widgets.js';

const HEIGHT = 84;
const LINE = 14;

function wrapLines(ctx: CanvasRenderingContext2D, text: string, width: number, maxLines: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(' ')) {
      const next = line ? `${line} ${word}` : word;
      if (ctx.measureText(next).width > width && line) {
        lines.push(line);
        line = word;
      } else line = next;
      if (lines.length >= maxLines) return lines;
    }
    lines.push(line);
    if (lines.length >= maxLines) return lines;
  }
  return lines;
}

interface PointerLike {
  onClick?: (e: MouseEvent) => void;
}

export function addMultilineWidget(node: LGraphNode, name: string, value: string, dynamicPrompts = false): IBaseWidget {
  const widget = {
    type: 'customtext',
    name,
    value,
    y: 0,
    options: { multiline: true, dynamicPrompts },
    computeSize: (width?: number): [number, number] => [width ?? 200, HEIGHT],
    draw(this: IBaseWidget, ctx: CanvasRenderingContext2D, _node: LGraphNode, width: number, y: number) {
      const margin = 15;
      ctx.save();
      ctx.fillStyle = '#1e1e1e';
      ctx.strokeStyle = '#555';
      ctx.beginPath();
      ctx.roundRect(margin, y, width - margin * 2, HEIGHT - 4, 6);
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = this.value ? '#ddd' : '#777';
      ctx.font = '12px sans-serif';
      const text = String(this.value || name);
      wrapLines(ctx, text, width - margin * 2 - 12, Math.floor((HEIGHT - 10) / LINE)).forEach((line, i) => ctx.fillText(line, margin + 6, y + 15 + i * LINE));
      ctx.restore();
    },
    onPointerDown(this: IBaseWidget, pointer: PointerLike, target: LGraphNode, canvas: LGraphCanvas) {
      pointer.onClick = (e: MouseEvent) => {
        canvas.prompt(name, String(this.value ?? ''), (v: string) => {
          this.value = v;
          target.setDirtyCanvas(true, false);
        }, e as never, true);
      };
      return true;
    },
  };
  return node.addCustomWidget(widget as unknown as IBaseWidget) as IBaseWidget;
}
