// resources/: the app icon exists in both forms, and the renderer's favicon link points at a file
// that both renderer builds (web host and Electron) put beside index.html.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { RENDERER_RESOURCES, rendererResources } from '../../vite.web.config';

const root = process.cwd();
const resources = join(root, 'resources');

describe('resources/', () => {
  it('holds the icon as SVG and a 256x256 PNG', async () => {
    const svg = readFileSync(join(resources, 'icon.svg'), 'utf8');
    expect(svg).toMatch(/^<svg [^>]*viewBox="0 0 256 256"/);
    const meta = await sharp(join(resources, 'icon.png')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 256, 256]);
  });

  it('index.html links a favicon that the renderer builds emit from resources/', () => {
    const html = readFileSync(join(root, 'src/renderer/index.html'), 'utf8');
    const link = /<link\s+rel="icon"[^>]*\shref="\.\/([^"]+)"/.exec(html);
    expect(link, 'index.html has <link rel="icon" href="./...">').not.toBeNull();
    const name = link![1];
    expect(RENDERER_RESOURCES).toContain(name);
    expect(existsSync(join(resources, name))).toBe(true);

    const emitted: Array<{ fileName?: string; source?: string | Uint8Array }> = [];
    const plugin = rendererResources();
    const generate = plugin.generateBundle as (this: unknown, ...args: unknown[]) => void;
    generate.call({ emitFile: (f: { fileName?: string; source?: string | Uint8Array }) => emitted.push(f) });
    const icon = emitted.find((f) => f.fileName === name);
    expect(icon, `${name} is emitted beside index.html`).toBeDefined();
    expect(Buffer.from(icon!.source as Uint8Array).equals(readFileSync(join(resources, name)))).toBe(true);
  });
});
