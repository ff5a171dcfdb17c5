/**
 * A response body for assertions. Tests inspect bodies field by field and
 * the assertions themselves check the shape, so the body is left untyped.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any;

export async function json(res: Response): Promise<JsonBody> {
  return res.json();
}
