/**
 * The web root (spec §1.1): `index.html` at `/` with no-store headers, static files, custom node
 * packs' `/extensions/<pack>/…`. Without a frontend build a small placeholder page is served.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type Response } from 'express';
import type { ServerContext } from '../context.js';

export const PLACEHOLDER_INDEX = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Comfy8</title></head>
<body><h1>Comfy8</h1>
<p>This ComfyUI-compatible server is running, but no frontend is installed in its web root.
Start it with <code>--front-end-root DIR</code> pointing at a ComfyUI frontend build, or use the API
(<a href="/api/system_stats">/api/system_stats</a>, <a href="/api/object_info">/api/object_info</a>).</p>
</body></html>
`;

function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store, must-revalidate');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Expires', '0');
}

export function registerStatic(app: Express, ctx: ServerContext): void {
  const index = path.join(ctx.webRoot, 'index.html');
  app.get('/', (_req, res) => {
    noStore(res);
    if (fs.existsSync(index)) res.sendFile(index);
    else res.type('html').send(PLACEHOLDER_INDEX);
  });
  for (const [pack, dir] of Object.entries(ctx.extensionWebDirs ?? {})) {
    app.use(`/extensions/${encodeURIComponent(pack)}`, express.static(dir, { dotfiles: 'ignore', index: false, cacheControl: false }));
  }
  app.use(express.static(ctx.webRoot, { dotfiles: 'ignore', index: false, etag: false, cacheControl: false }));
}
