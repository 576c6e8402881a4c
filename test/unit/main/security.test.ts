import { describe, expect, it } from 'vitest';
import { CSP, isAppUrl, isTrustedSender, webPreferences } from '../../../src/main/security';
import { addRecent, readRecent } from '../../../src/main/recent-projects';
import { tempDir } from '../../helpers/tmp';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';

describe('desktop security policy', () => {
  it('locks the renderer down', () => {
    const p = webPreferences('/app/out/preload/index.cjs', { isPackaged: false });
    expect(p).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
    });
  });

  it('has a CSP without inline or remote script', () => {
    expect(CSP).toContain("default-src 'self'");
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).not.toMatch(/script-src[^;]*unsafe/);
    expect(CSP).toContain("frame-ancestors 'none'");
  });

  it('knows which URLs are the app', () => {
    expect(isAppUrl('concord://app/index.html')).toBe(true);
    expect(isAppUrl('concord://app/frames/3.jpg')).toBe(true);
    expect(isAppUrl('concord://other/index.html')).toBe(false);
    expect(isAppUrl('file:///work/out/renderer/index.html')).toBe(false);
    expect(isAppUrl('https://example.com/')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
    expect(isAppUrl('http://localhost:5173/')).toBe(false);
    expect(isAppUrl('http://localhost:5173/', 'http://localhost:5173')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    // a dev URL that is not loopback is never trusted
    expect(isAppUrl('http://evil.example:5173/', 'http://evil.example:5173')).toBe(false);
  });

  it('trusts only the top frame', () => {
    expect(isTrustedSender({ url: 'concord://app/index.html', parent: null })).toBe(true);
    expect(isTrustedSender({ url: 'concord://app/index.html', parent: {} })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
  });

  it('keeps recent projects, newest first, without duplicates or vanished folders', () => {
    const dir = tempDir();
    const file = join(dir, 'userData', 'recent.json');
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    mkdirSync(a);
    mkdirSync(b);
    addRecent(file, a, new Date('2025-01-01'));
    addRecent(file, b, new Date('2025-01-02'));
    addRecent(file, a, new Date('2025-01-03'));
    addRecent(file, join(dir, 'gone'));
    expect(readRecent(file).map((r) => r.path)).toEqual([a, b]);
  });
});
