import type { Express } from 'express';

interface Layer {
  rawPath?: string | string[];
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: Layer[]; set?: unknown; router?: { stack: Layer[] } };
}

/** `/v1/jobs/:id` as OpenAPI writes it: `/v1/jobs/{id}`. */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Every `METHOD /path` an Express app answers, read from its router stack
 * (sub-routers included). A sub-application mounted at a path (the queue
 * dashboard) counts as `GET <mount path>`: its own pages are its own. Catch-alls
 * (`router.all`, `*rest`) answer 404s and are no routes of the API.
 */
export function expressRoutes(app: Express): string[] {
  const found = new Set<string>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      const mounts = [layer.rawPath ?? '/'].flat().map((p) => (p === '/' ? prefix : prefix + p));
      if (layer.route) {
        const methods = Object.keys(layer.route.methods).filter((m) => layer.route!.methods[m]);
        if (methods.includes('_all')) continue;
        for (const path of [layer.route.path].flat()) {
          if (path.includes('*')) continue;
          for (const method of methods) found.add(`${method.toUpperCase()} ${openApiPath(prefix + path)}`);
        }
      } else if (Array.isArray(layer.handle.stack)) {
        for (const mount of mounts) walk(layer.handle.stack, mount);
      } else if (typeof layer.handle.set === 'function' && layer.rawPath && layer.rawPath !== '/') {
        for (const mount of mounts) found.add(`GET ${openApiPath(mount)}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...found].sort();
}
