import { isValidName, nameRuleMessage } from './names';

describe('tenant and collection names', () => {
  it.each(['a', 'default', 'hr-2024', 'team_docs', '0abc', 'a'.repeat(63)])('accepts %s', (name) => {
    expect(isValidName(name)).toBe(true);
  });

  it.each(['', 'A', '-x', '_x', 'a.b', 'acme.docs', 'a b', 'é', 'a/b', 'a'.repeat(64)])('refuses %j', (name) => {
    expect(isValidName(name)).toBe(false);
  });

  it('refuses anything that is not a string', () => {
    for (const value of [undefined, null, 42, ['a'], { name: 'a' }]) expect(isValidName(value)).toBe(false);
  });

  it('says the rule in one message', () => {
    expect(nameRuleMessage('collection')).toBe('collection must be 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit');
  });
});
