// The parse threads' entry in the built app: esbuild emits it as parse-thread.cjs
// beside main.cjs (project.json, additionalEntryPoints), where ParsePool looks for it.
export { parseInThread as default } from '@rag/retrieval';
