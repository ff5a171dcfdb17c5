import { execFileSync } from 'node:child_process';
import { REQUEST_DTOS, openApiDocument } from './document';
import { dtoCoverageProblems } from './dto-coverage.spec-helper';
import type { JsonSchema } from './dto-schemas';

const schemasOf = (doc: JsonSchema) => (doc.components as { schemas: Record<string, JsonSchema> }).schemas;
const property = (doc: JsonSchema, dto: string, name: string) => (schemasOf(doc)[dto].properties as Record<string, JsonSchema>)[name];

/**
 * The document through @apidevtools/swagger-parser (OpenAPI 3.1's schema and
 * its semantic checks). The parser is ES modules only, which Jest's module
 * system cannot load here, so plain Node runs it.
 */
function validateOpenApi(doc: JsonSchema): string {
  const script =
    "let s='';process.stdin.on('data',(c)=>(s+=c)).on('end',()=>require('@apidevtools/swagger-parser').validate(JSON.parse(s))" +
    ".then(()=>console.log('valid'),(e)=>console.log(e.message)))";
  return execFileSync(process.execPath, ['-e', script], { input: JSON.stringify(doc), encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }).trim();
}

describe('the OpenAPI document', () => {
  const doc = openApiDocument('0.0.0-test');

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(validateOpenApi(doc)).toBe('valid');
    expect(doc.openapi).toMatch(/^3\.1\./);
  });

  it('has every property of the request DTOs with its constraints, read from class-validator metadata', () => {
    expect(Object.keys(schemasOf(doc))).toEqual(expect.arrayContaining([...REQUEST_DTOS, 'ChatFiltersDto', 'OpenAIChatMessageDto']));
    expect(dtoCoverageProblems(schemasOf(doc))).toEqual([]);
  });

  it('says what the DTOs check (spot checks of the generated schemas)', () => {
    expect(property(doc, 'ChatRequestDto', 'query')).toMatchObject({ type: 'string', maxLength: 4000, pattern: '\\S' });
    expect(property(doc, 'ChatRequestDto', 'top_k')).toMatchObject({ type: 'integer', minimum: 1, maximum: 50 });
    expect(property(doc, 'OpenAIChatMessageDto', 'role')).toMatchObject({ enum: ['system', 'user', 'assistant'] });
    expect(property(doc, 'OpenAIChatRequestDto', 'max_tokens')).toMatchObject({ type: 'integer', minimum: 1, maximum: 32768 });
    expect(schemasOf(doc).ChatRequestDto).toMatchObject({ additionalProperties: false });
    expect(property(doc, 'SearchRequestDto', 'mode')).toMatchObject({ enum: ['hybrid', 'vector', 'text'] });
    expect(property(doc, 'SearchRequestDto', 'top_k')).toMatchObject({ type: 'integer', minimum: 1, maximum: 50 });
    expect(schemasOf(doc).SearchRequestDto).toMatchObject({ required: ['query'], additionalProperties: false });
  });

  it('fails validation when the document is broken (the validator really runs)', () => {
    const broken = structuredClone(doc) as { paths: Record<string, Record<string, JsonSchema>> };
    broken.paths['/v1/jobs/{id}'].get.parameters = [{ name: 'wait' }];
    expect(validateOpenApi(broken)).toMatch(/must have required property 'in'/);
  });

  it('catches a field or a constraint missing from a schema', () => {
    const broken = JSON.parse(JSON.stringify(schemasOf(doc))) as Record<string, JsonSchema>;
    delete (broken.ChatRequestDto.properties as Record<string, JsonSchema>).collection;
    delete (broken.OpenAIChatRequestDto.properties as Record<string, JsonSchema>).temperature.maximum;
    delete (broken.OpenAIChatMessageDto.properties as Record<string, JsonSchema>).role.enum;
    (broken.ChatFiltersDto.properties as Record<string, JsonSchema>).sources['x-rag-validator'] = {};
    const problems = dtoCoverageProblems(broken);
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('ChatFiltersDto.sources: the custom rule isPlainText'),
        'ChatRequestDto.collection is missing',
        expect.stringContaining('OpenAIChatMessageDto.role: isIn'),
        expect.stringContaining('OpenAIChatRequestDto.temperature: max'),
      ]),
    );
  });

  it('describes both error shapes and the bearer keys with their scopes', () => {
    const paths = doc.paths as Record<string, Record<string, JsonSchema>>;
    expect(paths['/v1/chat'].post.responses).toMatchObject({ '400': { $ref: '#/components/responses/Error400' } });
    expect(paths['/v1/chat/completions'].post.responses).toMatchObject({ '404': { $ref: '#/components/responses/OpenAIError404' } });
    expect(paths['/v1/chat'].post.security).toEqual([{ apiKey: ['query'] }]);
    expect(paths['/healthz'].get.security).toEqual([]);
    expect(paths['/v1/jobs/{id}/events'].get.responses).toMatchObject({ '200': { content: { 'text/event-stream': expect.anything() } } });
  });
});
