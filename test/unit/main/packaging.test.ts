// What the Electron app needs from its packaging: dawn.node (the `webgpu` package) is a Node-API
// addon, so one build serves Node and Electron's utility process (no rebuild for Electron's ABI,
// unlike better-sqlite3); native addons sit outside the asar archive; and the electron-builder
// configuration (package.json `build`) flips the fuses, names the targets and rebuilds native
// dependencies. Packaging itself needs Electron's binary, which cannot be fetched here: these tests
// check the configuration and the code paths it relies on.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devServerUrl, webPreferences } from '../../../src/main/security';

const require = createRequire(import.meta.url);
const ROOT = join(__dirname, '../../..');
interface BuilderConfig {
  asarUnpack?: string[];
  files?: string[];
  npmRebuild?: boolean;
  icon?: string;
  electronFuses?: Record<string, boolean>;
  linux?: { target?: string[]; icon?: string };
  win?: { target?: string[]; icon?: string };
  mac?: { target?: string[]; icon?: string };
}
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  build?: BuilderConfig;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
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

/** A minimal glob (`**` any folders, `*` within one name) as electron-builder's asarUnpack reads it. */
function globRe(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      re += '.*';
      i += 1;
    } else if (glob[i] === '*') re += '[^/]*';
    else re += glob[i]!.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The installed runtime dependencies (dependencies, optional ones, and theirs), as package folders. */
function runtimePackages(): string[] {
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) {
        if (seen.has(candidate)) return;
        seen.add(candidate);
        const p = JSON.parse(readFileSync(join(candidate, 'package.json'), 'utf8')) as {
          dependencies?: Record<string, string>;
          optionalDependencies?: Record<string, string>;
        };
        for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) visit(d, candidate);
        return;
      }
      if (dirname(dir) === dir) return; // not installed (an optional one for another platform)
    }
  };
  for (const d of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(d, ROOT);
  return [...seen];
}

function nodeAddons(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') nodeAddons(p, out);
    else if (e.isFile() && e.name.endsWith('.node')) out.push(p);
  }
  return out;
}

describe('electron-builder configuration', () => {
  const build = pkg.build ?? {};

  it('flips the fuses: no run-as-node, NODE_OPTIONS or inspect arguments; asar only, with integrity', () => {
    expect(build.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
    });
    // supported from electron-builder 24.13 on
    expect(pkg.devDependencies['electron-builder']).toMatch(/^\^2[6-9]\./);
  });

  it('builds AppImage and deb on Linux, nsis on Windows and dmg on macOS, from the built app', () => {
    expect(build.linux?.target).toEqual(['AppImage', 'deb']);
    expect(build.win?.target).toEqual(['nsis']);
    expect(build.mac?.target).toEqual(['dmg']);
    expect(build.files).toEqual(expect.arrayContaining(['out/**', 'resources/**', 'package.json']));
    // better-sqlite3 is rebuilt for Electron's ABI when packaging (electron-builder's npmRebuild)
    expect(build.npmRebuild).toBe(true);
    expect(pkg.scripts['dist']).toBe('electron-vite build && electron-builder');
    for (const os of ['linux', 'win', 'mac']) expect(pkg.scripts[`dist:${os}`]).toBe(`electron-vite build && electron-builder --${os}`);
    for (const icon of [build.icon, build.linux?.icon, build.win?.icon, build.mac?.icon]) {
      expect(icon).toBeDefined();
      const png = readFileSync(join(ROOT, icon!));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(256);
    }
  });

  it('keeps every native addon of the runtime dependencies outside the asar archive', () => {
    const patterns = (build.asarUnpack ?? []).map(globRe);
    const addons = runtimePackages().flatMap((dir) => nodeAddons(dir));
    // better-sqlite3 and sharp at least are installed here
    expect(addons.some((a) => a.includes(`better-sqlite3${sep}`))).toBe(true);
    for (const a of addons) {
      const rel = relative(ROOT, a).split(sep).join('/');
      expect(
        patterns.some((re) => re.test(rel)),
        rel,
      ).toBe(true);
    }
    expect(globRe('node_modules/webgpu/**').test('node_modules/webgpu/dist/x.node')).toBe(true);
    expect(globRe('**/*.node').test('node_modules/a/b.node')).toBe(true);
    expect(globRe('node_modules/sharp/**').test('node_modules/sharpish/x')).toBe(false);
  });

  // electron-builder's own schema check; it is a devDependency, absent where node_modules predates it
  const builderLib = (() => {
    try {
      return dirname(require.resolve('app-builder-lib/package.json'));
    } catch {
      return null;
    }
  })();
  it.skipIf(!builderLib)("passes electron-builder's configuration schema", async () => {
    const { validateConfiguration } = require(join(builderLib!, 'out/util/config/config')) as {
      validateConfiguration: (c: unknown, log: unknown) => Promise<void>;
    };
    const { DebugLogger } = require(require.resolve('builder-util/out/DebugLogger', { paths: [builderLib!] })) as {
      DebugLogger: new (enabled: boolean) => unknown;
    };
    await expect(validateConfiguration(build, new DebugLogger(false))).resolves.toBeUndefined();
  });
});

describe('the desktop app outside development', () => {
  it('has no DevTools when packaged', () => {
    expect(webPreferences('/p.cjs', { isPackaged: true }).devTools).toBe(false);
    expect(webPreferences('/p.cjs', { isPackaged: false }).devTools).toBe(true);
  });

  it('honours a dev server URL only under `electron-vite dev`', () => {
    const dev = { ELECTRON_RENDERER_URL: 'http://localhost:5173', NODE_ENV_ELECTRON_VITE: 'development' };
    expect(devServerUrl({ isPackaged: false, devBuild: true, env: dev })).toBe('http://localhost:5173');
    // what `concord start` could inherit: the URL alone, or both variables with a production build
    expect(devServerUrl({ isPackaged: false, devBuild: true, env: { ELECTRON_RENDERER_URL: dev.ELECTRON_RENDERER_URL } })).toBeNull();
    expect(devServerUrl({ isPackaged: false, devBuild: false, env: dev })).toBeNull();
    expect(devServerUrl({ isPackaged: true, devBuild: true, env: dev })).toBeNull();
    for (const url of ['http://evil.example:5173', 'file:///etc/passwd', 'http://localhost:5173/../x?y', 'not a url'])
      expect(devServerUrl({ isPackaged: false, devBuild: true, env: { ...dev, ELECTRON_RENDERER_URL: url } }), url).toBeNull();
  });

  it('`concord` drops an inherited ELECTRON_RENDERER_URL before it starts anything', () => {
    const probe = `data:text/javascript,process.on('exit',()=>process.stderr.write('URL='+process.env.ELECTRON_RENDERER_URL+' MARK='+process.env.NODE_ENV_ELECTRON_VITE))`;
    const r = spawnSync(process.execPath, ['--import', probe, join(ROOT, 'bin', 'concord.mjs'), 'help'], {
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_RENDERER_URL: 'http://localhost:1', NODE_ENV_ELECTRON_VITE: 'development' },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('URL=undefined MARK=undefined');
  });

  it('reads the dev marker from the build, not only the environment', () => {
    const index = readFileSync(join(ROOT, 'src/main/index.ts'), 'utf8');
    // replaced by vite at build time: true only in a bundle `electron-vite dev` builds
    expect(index).toMatch(/devServerUrl\(\{ isPackaged: app\.isPackaged, devBuild: import\.meta\.env\.DEV, env: process\.env \}\)/);
    expect(index).not.toMatch(/ELECTRON_RENDERER_URL/);
  });
});
