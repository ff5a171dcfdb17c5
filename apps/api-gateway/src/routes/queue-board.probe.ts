// Run as a child process by queue-board.int.spec.ts: whether bull-board is loaded once the gateway's app module is.
import '../app';

process.stdout.write(JSON.stringify({ bullBoard: Object.keys(require.cache).some((k) => k.includes('node_modules/@bull-board/')) }));
