/**
 * What server-side apply adds to a patch, as kube-apiserver's apply patcher does it: the apply
 * configuration's body (YAML or JSON, application/apply-patch+yaml) decoded under the limits of
 * a YAML body (services/gateway/rest/media/yaml.ts: nesting, aliases, node count, converted
 * size), its strict errors (keys given twice) handled per fieldValidation in kube's words, and
 * the merged object decoded as the kind's object. The merge itself is lib/apply's.
 */
import { badRequest, StatusError } from '../../../lib/errors.ts';
import { isPlainObject, type KubeObject } from '../../../lib/kube.ts';
import type { KindDefinition } from '../../../lib/kinds/index.ts';
import type { FieldValidation, SchemaValidator } from '../../../lib/kinds/validate.ts';
import { APPLY_PATCH_YAML_MEDIA_TYPE, decodeYamlObject } from '../rest/media/yaml.ts';

export { APPLY_PATCH_YAML_MEDIA_TYPE } from '../rest/media/yaml.ts';

/** An apply configuration as decoded from its body. */
export interface ApplyConfiguration {
  object: KubeObject;
  /** What strict decoding found (keys given twice), in go-yaml's words. */
  strictErrors: readonly string[];
}

/** Whether a Content-Type is server-side apply's (parameters ignored, as kube does). */
export function isApplyPatch(contentType: string | undefined): boolean {
  const raw = contentType ?? '';
  const semicolon = raw.indexOf(';');
  return (semicolon > 0 ? raw.slice(0, semicolon) : raw) === APPLY_PATCH_YAML_MEDIA_TYPE;
}

/**
 * Decodes an apply body (YAML, or JSON which YAML reads the same) within the YAML decoder's
 * limits; `reserve` claims what the decoded object will take, as for any body. A body that
 * does not decode to an object is a 400 in kube's words (`error decoding YAML: ...`); a body
 * past the limits gets the decoder's answer (413, or 400 for nesting).
 */
export function decodeApplyBody(body: Buffer, reserve: (bytes: number) => void): ApplyConfiguration {
  if (body.length === 0) return { object: {}, strictErrors: [] };
  try {
    const decoded = decodeYamlObject(body, reserve);
    return { object: decoded.object, strictErrors: decoded.strictErrors };
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'BadRequest') throw badRequest(`error decoding YAML: ${err.message}`);
    throw err;
  }
}

/**
 * The strict errors of an apply configuration per fieldValidation, as kube's apply patcher:
 * Strict refuses them (400 `error strict decoding YAML: ...`), Warn returns them as warnings (a
 * finding a line), Ignore drops them.
 */
export function checkApplyStrictErrors(strictErrors: readonly string[], fieldValidation: FieldValidation): string[] {
  if (strictErrors.length === 0 || fieldValidation === 'Ignore') return [];
  const text = `error converting YAML to JSON: ${strictErrors.join('\n')}`;
  if (fieldValidation === 'Strict') throw badRequest(`error strict decoding YAML: ${text}`);
  // A warning a line, as kube's parseYAMLWarnings splits go-yaml's list of errors.
  return strictErrors.flatMap((e) => e.replace(/^yaml: unmarshal errors:\n/, '').split('\n').map((line) => line.trim()));
}

/** A strict decoding finding (`unknown field "spec.x"`) as structured-merge-diff words it (`.spec.x: field not declared in schema`). */
function undeclared(finding: string): string {
  const match = /^unknown field "(.*)"$/.exec(finding);
  return match === null ? finding : `.${match[1] ?? ''}: field not declared in schema`;
}

/**
 * The object an apply made (`merged`, of the endpoint's kind) decoded as the kind's object:
 * a value of the wrong type or a field the schema does not declare cannot be applied (kube's
 * typed conversion of the apply configuration fails: `failed to create typed patch object
 * (<namespace>/<name>; <gvk>): ...`). kube answers it 500 for want of a Status (its open bug
 * kubernetes#139253, whose fix makes it 400 with the same words); it is the client's error, and
 * no request of a client may get a 5xx here, so 400. Then `finish` (defaults, checks against
 * the URL), then the
 * name checked against the URL as kube's checkName does.
 */
export function appliedObject(
  target: { info: KindDefinition; name: string },
  merged: KubeObject,
  applied: KubeObject,
  schemas: SchemaValidator | undefined,
  finish: (object: KubeObject) => KubeObject,
): KubeObject {
  const { info } = target;
  let object = merged;
  if (schemas !== undefined) {
    const result = schemas.decodePatched(merged, info, 'Strict');
    const problems = result.typeError !== undefined ? [result.typeError] : result.strict.map(undeclared);
    if (problems.length > 0) {
      const meta = isPlainObject(applied.metadata) ? applied.metadata : {};
      const where = `${String(meta.namespace ?? '')}/${String(meta.name ?? '')}; ${gvk(info)}`;
      throw badRequest(`failed to create typed patch object (${where}): ${problems.join(', ')}`);
    }
    object = result.object;
  }
  object = finish(object);
  const name = object.metadata?.name ?? '';
  if (name === '') throw badRequest(`the name of the object (${target.name} based on URL) was undeterminable: name must be provided`);
  if (name !== target.name) throw badRequest(`the name of the object (${String(name)}) does not match the name on the URL (${target.name})`);
  return object;
}

function gvk(info: KindDefinition): string {
  return `${info.group}/${info.version}, Kind=${info.kind}`;
}
