/** A few editor settings, stored per user on the server through `/settings/{id}`. */
import { LiteGraph } from '@comfyorg/litegraph';
import { postJson } from './api.js';
import type { ComfyApp } from './app.js';
import { openDialog, showMessage } from './messages.js';

interface SettingDef {
  id: string;
  label: string;
  choices: { label: string; value: string | number | boolean }[];
  fallback: string | number | boolean;
}

const SETTINGS: SettingDef[] = [
  {
    id: 'Comfy.LinkRenderMode',
    label: 'Link style',
    choices: [
      { label: 'Spline', value: LiteGraph.SPLINE_LINK },
      { label: 'Linear', value: LiteGraph.LINEAR_LINK },
      { label: 'Straight', value: LiteGraph.STRAIGHT_LINK },
    ],
    fallback: LiteGraph.SPLINE_LINK,
  },
  {
    id: 'Comfy8.PreviewMethod',
    label: 'Live preview method',
    choices: ['default', 'none', 'auto', 'latent2rgb', 'taesd'].map((v) => ({ label: v === 'default' ? "server's default" : v, value: v })),
    fallback: 'default',
  },
  {
    id: 'Comfy.Graph.CanvasInfo',
    label: 'Show canvas info',
    choices: [
      { label: 'yes', value: true },
      { label: 'no', value: false },
    ],
    fallback: true,
  },
];

function settingRow(app: ComfyApp, def: SettingDef): HTMLElement {
  const label = document.createElement('label');
  label.textContent = def.label;
  const select = document.createElement('select');
  select.name = def.id;
  const current = app.settings[def.id] ?? def.fallback;
  def.choices.forEach((choice, i) => {
    const option = new Option(choice.label, String(i), false, choice.value === current);
    select.append(option);
  });
  select.addEventListener('change', () => {
    const value = def.choices[Number(select.value)]?.value;
    app.settings[def.id] = value;
    app.applySettings();
    postJson(`/settings/${encodeURIComponent(def.id)}`, value).catch((err: unknown) => showMessage(`Saving setting ${def.id} failed: ${String(err)}`, 'error'));
  });
  label.append(select);
  return label;
}

export function showSettings(app: ComfyApp): void {
  const body = document.createElement('div');
  body.append(...SETTINGS.map((def) => settingRow(app, def)));
  openDialog('Settings', body);
}
