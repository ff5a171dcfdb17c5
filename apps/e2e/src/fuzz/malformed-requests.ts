/**
 * A seeded generator of malformed requests to the gateway: every request it
 * makes is one the gateway must refuse with a 4xx (and never turn into a
 * job). Each carries a category, for the counts the fuzz test prints.
 */

export interface FuzzRequest {
  category: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzKeys {
  /** A valid key with scopes query and ingest (tenant acme). */
  user: string;
  /** A valid admin key. */
  admin: string;
  maxBodyBytes: number;
  /** INGEST_MAX_DOCUMENT_BYTES of the gateway under test. */
  maxUploadBytes: number;
}

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;

const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];

/** Characters from many scripts and planes, emoji with joiners, combining marks, RTL marks. */
const UNICODE_POOL = [
  ...'abcXYZ019 _-.,;:!?/\\\'"`~@#$%^&*()[]{}<>|=+',
  ...'éüßøåçñ',
  ...'Где отчёт',
  ...'報告はどこ中文한국어',
  ...'مرحبا שלום',
  '\u0301',
  '\u200d',
  '\u200e',
  '\u202e',
  '\ufeff',
  '\u00a0',
  '\u2028',
  '\u2029',
  '😀',
  '👩‍💻',
  '🇫🇷',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '\u{10ffff}',
  '\ufffd',
];

function unicodeString(rng: Rng, length: number): string {
  // Long strings repeat a random stretch: as hostile to the server, far cheaper to make.
  if (length > 2048) return unicodeString(rng, 2048).repeat(Math.ceil(length / 2048));
  let out = '';
  while (out.length < length) out += pick(rng, UNICODE_POOL);
  return out;
}

const CONTROL_POISONS = ['\u0000', '\u0007', '\u001b[2J', '\u007f', '\u0008'];

/** Text holding a control character other than tab and line breaks, or (unless `controlOnly`) half a surrogate pair. */
function poisonedText(rng: Rng, controlOnly = false): string {
  const poison = pick(rng, controlOnly ? CONTROL_POISONS : [...CONTROL_POISONS, '\ud800', '\udfff']);
  // Inserted between code points, so the only broken thing is the poison itself.
  const points = Array.from(unicodeString(rng, int(rng, 0, 40)));
  points.splice(int(rng, 0, points.length), 0, poison);
  return points.join('');
}

function deepJson(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { sources: value };
  return value;
}

/** The same, as text, for depths JSON.stringify itself cannot reach. */
const deepJsonText = (depth: number) => `${'{"sources":'.repeat(depth)}"leaf"${'}'.repeat(depth)}`;

/** Values of every JSON type but the expected one. */
const notAString = (rng: Rng) => pick<unknown>(rng, [42, -1.5, true, false, [], ['a'], {}, { a: 1 }, 1e308]);
const notAnInt = (rng: Rng) => pick<unknown>(rng, ['5', '', 2.5, -3, 0, 51, 1e9, true, [5], { n: 5 }, -0.5, 50.0001]);

/** An own property even for `__proto__` (plain assignment would set the prototype instead). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** One mutation that makes a chat body invalid. */
const BODY_MUTATIONS: Array<(rng: Rng, body: Record<string, unknown>) => void> = [
  (rng, b) => void (b.query = notAString(rng)),
  (rng, b) => void (b.query = pick(rng, ['', ' ', '\n\t  ', '\u00a0\u2028 ', '\ufeff'])),
  // Limits count characters (code points), so the ASCII tail alone is over the limit.
  (rng, b) => void (b.query = unicodeString(rng, int(rng, 0, 8000)) + 'x'.repeat(4001)),
  (rng, b) => void (b.query = poisonedText(rng)),
  (_rng, b) => void delete b.query,
  (rng, b) => void (b.collection = notAString(rng)),
  (rng, b) =>
    void (b.collection = pick(rng, [
      '',
      'Handbook',
      'hand book',
      'a.b',
      '../etc',
      '-lead',
      '_lead',
      'x'.repeat(64),
      'sample/../x',
      'ÿ',
      unicodeString(rng, 10) + 'É',
    ])),
  (rng, b) => void (b.top_k = notAnInt(rng)),
  (rng, b) => void (b.filters = pick<unknown>(rng, ['sources', 1, true, [], [{ sources: ['a'] }]])),
  (rng, b) =>
    void (b.filters = {
      sources: pick<unknown>(rng, ['a.md', 1, { a: 1 }, [1, 2], [''], [null], ['x'.repeat(513)], Array.from({ length: 51 }, (_, i) => `d${i}`)]),
    }),
  (rng, b) => void (b.filters = { sources: [poisonedText(rng)] }),
  (rng, b) =>
    void (b.filters = { ...(typeof b.filters === 'object' ? b.filters : {}), [pick(rng, ['source', 'tenant', 'x', '__proto__', 'constructor'])]: ['a'] }),
  (rng, b) => void (b.stream = pick<unknown>(rng, ['true', 1, 0, 'yes', [], {}])),
  (rng, b) => setOwn(b, unicodeString(rng, int(rng, 1, 30)), notAString(rng)),
  (rng, b) => setOwn(b, pick(rng, ['tenant', 'api_key', 'topK', 'Query', 'collections', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '']), 'x'),
  (rng, b) => void (b.filters = deepJson(int(rng, 17, 400))),
];

/** A valid chat body, which the mutations then break. */
function validChatBody(rng: Rng): Record<string, unknown> {
  const body: Record<string, unknown> = { query: unicodeString(rng, int(rng, 1, 200)).replace(/^\s*$/, 'q') || 'q' };
  if (rng() < 0.5) body.collection = pick(rng, ['sample', 'handbook', 'default']);
  if (rng() < 0.5) body.top_k = int(rng, 1, 50);
  if (rng() < 0.3) body.filters = { sources: ['a.md'] };
  if (rng() < 0.3) body.stream = rng() < 0.5;
  return body;
}

function invalidChatBody(rng: Rng): Record<string, unknown> {
  const body = validChatBody(rng);
  const mutations = int(rng, 1, 3);
  for (let i = 0; i < mutations; i++) pick(rng, BODY_MUTATIONS)(rng, body);
  return body;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const JSON_TYPE = { 'content-type': 'application/json' };

const RAW_BODIES = [
  '{',
  '{"query": "unterminated',
  '{"query": "a",}',
  "{'query': 'single quotes'}",
  '{"query": NaN}',
  '{"query": Infinity}',
  '{"query": "a"} trailing',
  '[{"query": "a"}]',
  '"just a string"',
  '12345',
  'null',
  'true',
  '[]',
  '',
  '{"query": "\\x41"}',
  '{"query": "\\ud83d"}',
  '{"query" "missing colon"}',
  '{"query": "a", "query": ["b"]}',
  '\u0000\u0001\u0002',
  '{"query": 1e99999}',
  '--boundary\r\nContent-Disposition: form-data; name="query"\r\n\r\nhi\r\n--boundary--',
];

const BAD_IDS = [
  'not-a-uuid',
  '00000000-0000-0000-0000-00000000000g',
  '0'.repeat(36),
  '%00',
  '..%2F..%2Fetc%2Fpasswd',
  '%E0%A4%A',
  '%',
  'x'.repeat(2000),
  '00000000-0000-4000-8000-000000000000%20',
  '%F0%9F%98%80',
  'NaN',
  '-1',
  "1'%20OR%20'1'='1",
  '${jndi:ldap:%2F%2Fx}',
];

const PATH_TRICKS = [
  '/v1/jobs/../admin/dead-letters',
  '/v1/%2e%2e/admin/dead-letters',
  '/%2e%2e/%2e%2e/etc/passwd',
  '//v1//chat//extra',
  '/v1/chat/..%2F..%2Fadmin',
  '/v1/chat%00',
  '/v1/chat;jsessionid=1',
  '/V1/CHAT/x',
  '/v1/Chat/extra',
  '/v1/chat%2Fextra',
  '/v1/collections/..%2F..%2Fsecret/documents',
  '/v1/collections/%E0%A4%A',
  '/v1/collections/sample%2F..%2Fother',
  '/v1/collections/SAMPLE',
  '/v1/collections/a.b/documents',
  '/v2/chat',
  '/v1/jobs',
  '/v1/jobs/',
  '/admin/queues/../../v1/admin/dead-letters',
  '/%F0%9F%98%80',
  `/v1/${'a/'.repeat(300)}`,
  '/v1/chat?query[]=a&query[$ne]=b',
  '/.env',
  '/data/redis/dump.rdb',
  '/apps/api-gateway/src/main.ts',
  '/node_modules/.bin/nx',
];

type RequestMaker = (rng: Rng, keys: FuzzKeys) => FuzzRequest;

const GENERATORS: Record<string, RequestMaker> = {
  'chat: invalid field values': (rng, keys) => ({
    category: 'chat: invalid field values',
    method: 'POST',
    path: pick(rng, ['/v1/chat', '/v1/chat/', '/chat']),
    headers: { ...JSON_TYPE, ...bearer(keys.user) },
    body: json(invalidChatBody(rng)),
  }),
  'chat: malformed JSON and non-objects': (rng, keys) => ({
    category: 'chat: malformed JSON and non-objects',
    method: 'POST',
    path: pick(rng, ['/v1/chat', '/chat']),
    headers: { ...JSON_TYPE, ...bearer(keys.user) },
    body: Buffer.from(pick(rng, RAW_BODIES)),
  }),
  'chat: oversized bodies': (rng, keys) => {
    const size = keys.maxBodyBytes + int(rng, 1, keys.maxBodyBytes * 2);
    return {
      category: 'chat: oversized bodies',
      method: 'POST',
      path: '/v1/chat',
      headers: { ...JSON_TYPE, ...bearer(keys.user) },
      body: json({ query: unicodeString(rng, size) }),
    };
  },
  'chat: deep JSON': (rng, keys) => ({
    category: 'chat: deep JSON',
    method: 'POST',
    path: '/v1/chat',
    headers: { ...JSON_TYPE, ...bearer(keys.user) },
    body: Buffer.from(
      pick(rng, [`{"query":"q","filters":${deepJsonText(int(rng, 17, 20000))}}`, '['.repeat(int(rng, 20, 4000)) + ']'.repeat(int(rng, 0, 10))]),
    ),
  }),
  'headers: bad content type or encoding': (rng, keys) => {
    const variant = pick<Record<string, string>>(rng, [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      { 'content-type': 'application/json; charset=latin1' },
      { 'content-type': 'application/json; charset=utf-7' },
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      { 'content-type': 'application/json', 'content-encoding': 'br' },
      { 'content-type': 'application/json', 'content-encoding': 'compress' },
      { 'content-type': 'application/json', 'content-encoding': 'x-unknown' },
      { 'content-type': 'application/xml' },
      {},
    ]);
    return {
      category: 'headers: bad content type or encoding',
      method: 'POST',
      path: '/v1/chat',
      headers: { ...variant, ...bearer(keys.user) },
      body: json(validChatBody(rng)),
    };
  },
  'headers: bad credentials': (rng, keys) => {
    const authorization = pick(rng, [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Bearer ${keys.user}x`,
      `Bearer ${keys.user.slice(0, -1)}`,
      `bearer  ${keys.user} extra`,
      `Basic ${Buffer.from(`u:${keys.user}`).toString('base64')}`,
      `Token ${keys.user}`,
      `Bearer ${'A'.repeat(int(rng, 513, 4000))}`,
      `Bearer ${Buffer.from(unicodeString(rng, 20)).toString('latin1')}`,
      'Bearer null',
      'Bearer undefined',
    ]);
    const route = pick(rng, [
      ['POST', '/v1/chat'],
      ['GET', '/v1/jobs/00000000-0000-4000-8000-000000000000'],
      ['GET', '/v1/collections'],
      ['DELETE', '/v1/collections/sample'],
      ['GET', '/v1/admin/dead-letters'],
      ['GET', '/admin/queues'],
      ['POST', '/chat?query=hello'],
    ]);
    return {
      category: 'headers: bad credentials',
      method: route[0],
      path: route[1],
      headers: { ...JSON_TYPE, ...(authorization === undefined ? {} : { authorization }) },
      body: route[0] === 'POST' ? json(validChatBody(rng)) : undefined,
    };
  },
  'headers: oversized request line or headers': (rng, keys) => {
    const huge = int(rng, 17_000, 40_000);
    const variant = pick(rng, ['path', 'query', 'header', 'many headers']);
    const headers: Record<string, string> = { ...JSON_TYPE, ...bearer(keys.user) };
    if (variant === 'header') headers['x-padding'] = 'p'.repeat(huge);
    if (variant === 'many headers') for (let i = 0; i < 400; i++) headers[`x-h${i}`] = 'v'.repeat(60);
    return {
      category: 'headers: oversized request line or headers',
      method: 'POST',
      path: variant === 'path' ? `/v1/chat/${'a'.repeat(huge)}` : variant === 'query' ? `/chat?query=${'q'.repeat(huge)}` : '/v1/chat',
      headers,
      body: variant === 'query' ? undefined : json(invalidChatBody(rng)),
    };
  },
  'headers: bad Idempotency-Key': (rng, keys) => ({
    category: 'headers: bad Idempotency-Key',
    method: 'POST',
    path: pick(rng, ['/v1/chat', '/chat']),
    headers: {
      ...JSON_TYPE,
      ...bearer(keys.user),
      'idempotency-key': pick(rng, ['has space', 'k'.repeat(256), '\t', Buffer.from('ключ').toString('latin1'), 'a b c', '"quoted key"'.replace(/"/g, ' ')]),
    },
    body: json(validChatBody(rng)),
  }),
  'headers: scope not granted': (rng, keys) => {
    const [method, path, body] = pick(rng, [
      ['GET', '/v1/admin/dead-letters', undefined],
      ['DELETE', '/v1/admin/dead-letters', undefined],
      ['POST', '/v1/admin/dead-letters/00000000-0000-4000-8000-000000000000/replay', undefined],
      ['GET', '/admin/queues', undefined],
      ['GET', '/admin/queues/api/queues', undefined],
      ['POST', '/v1/chat', validChatBody(rng)],
      ['GET', '/v1/jobs/00000000-0000-4000-8000-000000000000', undefined],
      ['GET', '/v1/collections', undefined],
    ] as const);
    // The user key is not admin; the admin key has no query scope.
    const key = path.includes('admin') ? keys.user : keys.admin;
    return {
      category: 'headers: scope not granted',
      method,
      path,
      headers: { ...JSON_TYPE, ...bearer(key) },
      body: body === undefined ? undefined : json(body),
    };
  },
  'ids: bad and unknown job ids': (rng, keys) => {
    const id = pick(rng, [...BAD_IDS, '00000000-0000-4000-8000-000000000000', 'ffffffff-ffff-4fff-bfff-ffffffffffff']);
    const [method, path] = pick(rng, [
      ['GET', `/v1/jobs/${id}`],
      ['DELETE', `/v1/jobs/${id}`],
      ['GET', `/v1/jobs/${id}?wait=${pick(rng, ['0', '', '-1', '31', 'abc', '1e3', '0x10'])}`],
      ['GET', `/job-status?job_id=${id}`],
      ['GET', `/job-status?job_id=${id}&job_id=${id}`],
      ['GET', '/job-status'],
    ]);
    return { category: 'ids: bad and unknown job ids', method, path, headers: bearer(keys.user) };
  },
  'ids: bad collection names and document ids': (rng, keys) => {
    const badName = pick(rng, ['Bad', 'a.b', '-x', '..', 'x'.repeat(64), '😀', 'sample\u0000', 'sample/x', 'ÿ', '']);
    // Valid in form but not this tenant's (or nobody's): 404.
    const name = pick(rng, ['Bad', 'a.b', '-x', '%2e%2e', 'x'.repeat(64), '%F0%9F%98%80', 'nope-not-here', 'sample%00', '%E0%A4%A']);
    const [method, path, body] = pick(rng, [
      ['GET', `/v1/collections/${name}`, undefined],
      ['GET', `/v1/collections/${name}/documents`, undefined],
      ['DELETE', `/v1/collections/${name}`, undefined],
      ['DELETE', `/v1/collections/${name}/documents/readme.md`, undefined],
      ['DELETE', `/v1/collections/sample/documents/${'d'.repeat(int(rng, 1025, 3000))}`, undefined],
      ['DELETE', '/v1/collections/sample/documents/not-a-loaded-document.md', undefined],
      ['GET', `/v1/collections/sample/documents?limit=${pick(rng, ['-1', '1001', 'x', '1.5'])}`, undefined],
      ['GET', `/v1/collections/sample/documents?offset=${pick(rng, ['-1', 'x', '1e3'])}`, undefined],
      [
        'POST',
        '/v1/collections',
        pick<unknown>(rng, [{}, { name: badName }, { name: 'ok', extra: 1 }, [], 'name', { name: 5 }, { name: null }, { name: unicodeString(rng, 10) + 'É' }]),
      ],
    ] as const);
    return {
      category: 'ids: bad collection names and document ids',
      method,
      path,
      headers: { ...JSON_TYPE, ...bearer(keys.user) },
      body: body === undefined ? undefined : json(body),
    };
  },
  'ids: bad admin parameters': (rng, keys) => {
    const [method, path] = pick(rng, [
      ['GET', `/v1/admin/dead-letters?limit=${pick(rng, ['-1', '501', 'x', '1.5', ''])}`],
      ['GET', `/v1/admin/dead-letters?offset=${pick(rng, ['-1', 'x', '1e3'])}`],
      ['GET', `/v1/admin/dead-letters/${pick(rng, BAD_IDS)}`],
      ['POST', `/v1/admin/dead-letters/${pick(rng, BAD_IDS)}/replay`],
    ]);
    return { category: 'ids: bad admin parameters', method, path, headers: bearer(keys.admin) };
  },
  'paths: traversal, encodings, unknown routes and methods': (rng, keys) => {
    const method = pick(rng, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
    const path = pick(rng, PATH_TRICKS);
    // Only routes that exist for another method, or none at all: PUT/PATCH on anything, or any method on an unknown path.
    const wrongMethod = pick(rng, [
      ['PUT', '/v1/chat'],
      ['PATCH', '/v1/jobs/00000000-0000-4000-8000-000000000000'],
      ['PUT', '/v1/collections'],
      ['POST', '/v1/jobs/00000000-0000-4000-8000-000000000000'],
      ['GET', '/v1/chat'],
      ['PATCH', '/v1/admin/dead-letters'],
    ]);
    const [m, p] = rng() < 0.7 ? [method === 'GET' && path.startsWith('/v1/chat?') ? 'GET' : method, path] : wrongMethod;
    return {
      category: 'paths: traversal, encodings, unknown routes and methods',
      method: m,
      path: p,
      headers: { ...JSON_TYPE, ...bearer(keys.user) },
      body: m === 'POST' || m === 'PUT' || m === 'PATCH' ? json(invalidChatBody(rng)) : undefined,
    };
  },
  'uploads: malformed multipart and file names': (rng, keys) => {
    const boundary = `----fuzz${int(rng, 0, 1e9)}`;
    const part = (filename: string | undefined, content: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="file"${filename === undefined ? '' : `; filename="${filename}"`}\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n${content}\r\n`;
    const name = pick(rng, [
      '../etc/passwd.md',
      '/abs.md',
      'a/../../b.md',
      'tool.exe',
      'no-extension',
      '',
      'x'.repeat(1100) + '.md',
      'back\\slash.md',
      'ok.md',
    ]);
    const variant = pick(rng, ['bad name', 'too large', 'no file', 'garbage', 'no boundary', 'json', 'truncated', 'duplicate']);
    let body: string;
    let type = `multipart/form-data; boundary=${boundary}`;
    if (variant === 'bad name') body = part(name === 'ok.md' ? 'ok.bin' : name, 'content') + `--${boundary}--\r\n`;
    else if (variant === 'too large') body = part('big.md', 'x'.repeat(keys.maxUploadBytes + int(rng, 1, 4096))) + `--${boundary}--\r\n`;
    else if (variant === 'no file') body = part(undefined, 'just a field') + `--${boundary}--\r\n`;
    else if (variant === 'garbage') body = unicodeString(rng, int(rng, 0, 500));
    else if (variant === 'truncated') body = part('ok.md', 'partial cont');
    else if (variant === 'duplicate') body = part('same.md', 'one') + part('same.md', 'two') + `--${boundary}--\r\n`;
    else if (variant === 'no boundary') {
      type = 'multipart/form-data';
      body = part('ok.md', 'x');
    } else {
      type = 'application/json';
      body = JSON.stringify({ file: 'ok.md', content: 'x' });
    }
    const collection = pick(rng, ['sample', 'sample', 'Bad.Name', '..%2Fsample']);
    return {
      category: 'uploads: malformed multipart and file names',
      method: 'POST',
      path: `/v1/collections/${collection}/documents`,
      headers: { 'content-type': type, ...bearer(keys.user) },
      body: Buffer.from(body),
    };
  },
  'chat: original /chat query string': (rng, keys) => ({
    category: 'chat: original /chat query string',
    method: 'POST',
    path: pick(rng, [
      '/chat?query=',
      '/chat?query=%20%20',
      `/chat?query=${encodeURIComponent(unicodeString(rng, int(rng, 0, 2000)) + 'x'.repeat(4001))}`,
      '/chat?query=a&query=b',
      '/chat?query[x]=1',
      // A lone surrogate cannot be percent-encoded at all, so only control characters here.
      `/chat?query=${encodeURIComponent(poisonedText(rng, true))}`,
      '/chat',
      '/chat?q=hello',
    ]),
    headers: bearer(keys.user),
  }),
};

export const CATEGORIES = Object.keys(GENERATORS);

/** `count` malformed requests, spread evenly over the categories, in a seeded order. */
export function* malformedRequests(seed: number, count: number, keys: FuzzKeys): Generator<FuzzRequest> {
  const rng = seededRandom(seed);
  const generators = Object.values(GENERATORS);
  for (let i = 0; i < count; i++) yield generators[i % generators.length](rng, keys);
}
