export { freePort } from './free-port';
export { startLatencyProxy, type LatencyProxy } from './latency-proxy';
export { ping, startRedis, waitForPing, type PrivateRedis, type RedisOptions } from './redis-server';
export { WORKSPACE_ROOT, runApp, startApp, type AppProcess } from './app-process';
export { tempDir, type TempDir } from './temp-dir';
export { json, type JsonBody } from './http-json';
export { makeDocx, makePdf, type DocxBlock } from './document-fixtures';
export { documentBytesKeys, keysWithoutExpiry } from './redis-keys';
export { deeplyNestedHtml, deeplyNestedPdf, quadraticMarkdown, zipBombDocx } from './hostile-documents';
