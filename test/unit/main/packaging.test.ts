// What the Electron app needs from its packaging for the GPU path: dawn.node (the `webgpu` package)
// is a Node-API addon, so one build serves Node and Electron's utility process (no rebuild for
// Electron's ABI, unlike better-sqlite3); and native addons must sit outside the asar archive.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
  build?: { asarUnpack?: string[] };
  dependencies: Record<string, string>;
};

describe('packaging for the webgpu backend', () => {
  it('every prebuilt dawn.node is a Node-API addon: no V8 or Node C++ symbols, so no rebuild for Electron', () => {
    const dist = join(dirname(require.resolve('webgpu/package.json')), 'dist');
    for (const platform of ['linux-x64', 'linux-arm64', 'darwin-universal', 'win32-x64']) {
      const bin = readFileSync(join(dist, platform, 'dawn.node'));
      expect(bin.includes('napi_register_module_v1'), platform).toBe(true);
      // Mangled v8:: and node:: names appear in addons built against V8/Node's C++ API (ABI-bound).
      expect(bin.includes('_ZN2v8'), platform).toBe(false);
      expect(bin.includes('_ZN4node'), platform).toBe(false);
    }
  });

  it('keeps native addons and the webgpu package outside the asar archive', () => {
    const unpack = pkg.build?.asarUnpack ?? [];
    expect(unpack).toContain('**/*.node');
    expect(unpack).toContain('node_modules/webgpu/**');
    // the versions tfjs-backend-webgpu was checked with; it must match @tensorflow/tfjs exactly
    expect(pkg.dependencies['@tensorflow/tfjs-backend-webgpu']).toBe(pkg.dependencies['@tensorflow/tfjs']);
  });
});
