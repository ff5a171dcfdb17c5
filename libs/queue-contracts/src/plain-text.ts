import { registerDecorator } from 'class-validator';

/** Control characters other than tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** Half of a surrogate pair without the other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Whether `value` (when a string) is well-formed Unicode without control characters but tab and line breaks. */
export const plainText = (value: unknown): boolean => typeof value !== 'string' || (!LONE_SURROGATE.test(value) && !CONTROL.test(value));

/**
 * Text a person could have typed: well-formed Unicode (no lone surrogate
 * halves, which no model or JSON encoder handles alike) and no control
 * characters but tab and line breaks. On an array, every item.
 */
export function IsPlainText(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPlainText',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: ({ property }) => `${property} must be well-formed Unicode text without control characters` },
      validator: {
        validate: (value: unknown) => (Array.isArray(value) ? value.every(plainText) : plainText(value)),
      },
    });
}
