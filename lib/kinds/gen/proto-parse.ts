/**
 * A reader of the messages of a go-to-protobuf `generated.proto` (proto2, no nesting, no
 * options that matter): the generator uses it only to cross-check and complete the protobuf
 * facts it takes from the Go types (message names, field numbers).
 */

export interface ProtoField {
  readonly label: 'optional' | 'repeated' | 'map';
  /** The element type as written (`string`, `.k8s.io.api.core.v1.Pod`, `ObjectMeta`); for a map, the value type. */
  readonly type: string;
  readonly name: string;
  readonly number: number;
}

export interface ProtoFile {
  readonly package: string;
  /** message name -> fields in declaration order */
  readonly messages: ReadonlyMap<string, readonly ProtoField[]>;
}

/** Parses the package and the top-level messages of a proto file. */
export function parseProtoFile(src: string): ProtoFile {
  const text = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const pkg = /\bpackage\s+([\w.]+)\s*;/.exec(text)?.[1] ?? '';
  const messages = new Map<string, ProtoField[]>();
  const messageRe = /\bmessage\s+(\w+)\s*\{([^{}]*)\}/g;
  let m: RegExpExecArray | null;
  while ((m = messageRe.exec(text)) !== null) {
    const fields: ProtoField[] = [];
    const fieldRe = /(optional|repeated|required)?\s*(map\s*<\s*\w+\s*,\s*([\w.]+)\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)[^;]*;/g;
    let f: RegExpExecArray | null;
    while ((f = fieldRe.exec(m[2]!)) !== null) {
      const isMap = f[3] !== undefined;
      fields.push({
        label: isMap ? 'map' : f[1] === 'repeated' ? 'repeated' : 'optional',
        type: isMap ? f[3]! : f[2]!,
        name: f[4]!,
        number: Number(f[5]),
      });
    }
    messages.set(m[1]!, fields);
  }
  return { package: pkg, messages };
}
