/// <reference types="vite/client" />
// A global script (no top-level import), so plain `tsc` sees the *.vue module declaration too.

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

interface Window {
  /** Present only inside the desktop shell (the preload's contextBridge). */
  concord?: import('../preload/bridge').ConcordBridge;
}
