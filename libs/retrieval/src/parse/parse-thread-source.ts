import * as heavyParsers from '../load/heavy-parsers';
import { useParsers } from '../load/load-document';
import parseInThread from './parse-thread';

// A parse thread's entry when it runs from source (tsx, jest; see parseThreadEntry): the thread's
// TypeScript loader (tsx's CJS hook) cannot resolve loadDocument's dynamic import of the heavy
// parsers, so they are handed over here. Built apps bundle their own entry, where it resolves.
useParsers(heavyParsers);

export default parseInThread;
