import { startedFields } from './suite-fields';

describe('startedFields', () => {
  let port: number | undefined;
  const suite = startedFields<{ port: number }>('useExample', { port: () => port });

  it('fails plainly when a field is read before the suite has set it', () => {
    expect(() => suite.port).toThrow('useExample: read its fields inside a hook or test, once the suite has started');
  });

  it('reads the value current at each read', () => {
    port = 6379;
    expect(suite.port).toBe(6379);
    port = 6380;
    expect(suite.port).toBe(6380);
    expect(Object.keys(suite)).toEqual(['port']);
  });
});
