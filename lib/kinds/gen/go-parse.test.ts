/**
 * Tests of the Go declaration reader and of the generator on small packages of its own.
 * Run: ./node_modules/.bin/node --test lib/kinds/gen/go-parse.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../../errors.ts';
import { formatGoType, parseGoFile, parseStructTag } from './go-parse.ts';
import { generate, type Repo, type Source } from './generate.ts';

const TYPES = `package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Widget is a thing.
type Widget struct {
	metav1.TypeMeta \`json:",inline"\`
	// +optional
	metav1.ObjectMeta \`json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"\`

	// Parts, merged by name.
	// +optional
	// +patchMergeKey=name
	// +patchStrategy=merge
	// +listType=map
	// +listMapKey=name
	// +listMapKey=protocol
	Parts []Part \`json:"parts,omitempty" patchStrategy:"merge" patchMergeKey:"name" protobuf:"bytes,2,rep,name=parts"\`

	// +mapType=atomic
	Labels map[string]string \`json:"labels" protobuf:"bytes,3,rep,name=labels"\`
	Replicas *int32 \`json:"replicas,omitempty" protobuf:"varint,4,opt,name=replicas"\`
	Mode Mode \`json:"mode" protobuf:"bytes,5,opt,name=mode,casttype=Mode"\`
	Target intstr.IntOrString \`json:"target,omitempty" protobuf:"bytes,6,opt,name=target"\`
	Data []byte \`json:"data,omitempty,omitzero" protobuf:"bytes,7,opt,name=data"\`
	Internal string \`json:"-"\`
	hidden string
	Embedded \`json:",inline" protobuf:"bytes,8,opt,name=embedded"\`
}

// Part is a part.
type Part struct {
	Name, Protocol string
}

// +enum
type Mode string

const (
	// ModeFast is fast.
	ModeFast Mode = "Fast"
	ModeSlow Mode = "Slow"
	notAMode = "x"
)

type Embedded struct {
	// +optional
	Extra string \`json:"extra" protobuf:"bytes,1,opt,name=extra"\`
}

func (w *Widget) DeepCopyObject() interface{} { return map[string]struct{}{"a": {}} }

var _ = struct{ a int }{a: 1}
`;

test('parseGoFile: struct fields, tags, markers, embedded fields, enums, imports', () => {
  const file = parseGoFile(TYPES, 'types.go');
  assert.equal(file.packageName, 'v1');
  assert.equal(file.imports.get('metav1'), 'k8s.io/apimachinery/pkg/apis/meta/v1');
  assert.equal(file.imports.get('intstr'), 'k8s.io/apimachinery/pkg/util/intstr');
  const widget = file.types.find((t) => t.name === 'Widget')!;
  assert.ok(widget.markers.includes('+genclient'), 'markers of the comment group above the doc comment');
  assert.ok(widget.markers.includes('+k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object'));
  assert.equal(widget.type.kind, 'struct');
  const fields = widget.type.kind === 'struct' ? widget.type.fields : [];
  assert.deepEqual(
    fields.map((f) => [f.name, f.embedded, formatGoType(f.type)]),
    [
      ['TypeMeta', true, 'metav1.TypeMeta'],
      ['ObjectMeta', true, 'metav1.ObjectMeta'],
      ['Parts', false, '[]Part'],
      ['Labels', false, 'map[string]string'],
      ['Replicas', false, '*int32'],
      ['Mode', false, 'Mode'],
      ['Target', false, 'intstr.IntOrString'],
      ['Data', false, '[]byte'],
      ['Internal', false, 'string'],
      ['hidden', false, 'string'],
      ['Embedded', true, 'Embedded'],
    ],
  );
  const parts = fields.find((f) => f.name === 'Parts')!;
  assert.deepEqual(parts.markers, ['+optional', '+patchMergeKey=name', '+patchStrategy=merge', '+listType=map', '+listMapKey=name', '+listMapKey=protocol']);
  const tag = parseStructTag(parts.tag);
  assert.equal(tag.get('json'), 'parts,omitempty');
  assert.equal(tag.get('patchStrategy'), 'merge');
  assert.equal(tag.get('patchMergeKey'), 'name');
  assert.equal(tag.get('protobuf'), 'bytes,2,rep,name=parts');
  const part = file.types.find((t) => t.name === 'Part')!;
  assert.deepEqual(part.type.kind === 'struct' && part.type.fields.map((f) => f.name), ['Name', 'Protocol']);
  assert.deepEqual(file.types.find((t) => t.name === 'Mode')!.markers, ['+enum']);
  assert.deepEqual(
    file.consts.filter((c) => c.type === 'Mode').map((c) => c.value),
    ['Fast', 'Slow'],
  );
  assert.deepEqual(file.consts.find((c) => c.name === 'notAMode'), { name: 'notAMode', type: '', value: 'x' });
});

test('parseGoFile: a syntax it does not know is an error naming the line', () => {
  assert.throws(
    () => parseGoFile('package v1\n\ntype X struct {\n\tA string +\n}\n', 'x.go'),
    (err: unknown) => err instanceof StatusError && /^x\.go:4: /.test(err.message),
  );
});

/** A source of in-memory files: a package of the test's own plus the apimachinery types it uses. */
function memorySource(files: Record<string, string>): Source {
  const byRepo = (repo: Repo): Map<string, string> =>
    new Map(Object.entries(files).filter(([k]) => k.startsWith(`${repo}:`)).map(([k, v]) => [k.slice(repo.length + 1), v]));
  return {
    list: (repo) => [...byRepo(repo).keys()].sort(),
    read: (repo, path) => {
      const content = byRepo(repo).get(path);
      if (content === undefined) throw new Error(`no ${repo}:${path}`);
      return content;
    },
  };
}

const META = `package v1
type TypeMeta struct {
	Kind string \`json:"kind,omitempty" protobuf:"bytes,1,opt,name=kind"\`
	APIVersion string \`json:"apiVersion,omitempty" protobuf:"bytes,2,opt,name=apiVersion"\`
}
type ObjectMeta struct {
	Name string \`json:"name,omitempty" protobuf:"bytes,1,opt,name=name"\`
}
`;

test('generate: schema, Go facts and protobuf message of a small package', () => {
  const source = memorySource({
    'api:widgets/v1/types.go': TYPES,
    'api:widgets/v1/doc.go': '// +groupName=widgets.example.com\npackage v1\n',
    'api:widgets/v1/register.go': 'package v1\n',
    'api:widgets/v1/generated.proto': 'package k8s.io.api.widgets.v1;\nmessage Part {\n}\n',
    'apimachinery:pkg/apis/meta/v1/types.go': META,
    'apimachinery:pkg/util/intstr/intstr.go': 'package intstr\ntype IntOrString struct {\n\tType int64 `protobuf:"varint,1,opt,name=type"`\n}\n',
  });
  const { files, warnings } = generate(source, [
    { repo: 'apimachinery', dir: 'pkg/apis/meta/v1', importPath: 'k8s.io/apimachinery/pkg/apis/meta/v1', file: 'meta.v1', goFiles: ['types.go'] },
    { repo: 'apimachinery', dir: 'pkg/util/intstr', importPath: 'k8s.io/apimachinery/pkg/util/intstr', file: 'intstr', goFiles: ['intstr.go'], types: ['IntOrString'] },
    { repo: 'api', dir: 'widgets/v1', importPath: 'k8s.io/api/widgets/v1', file: 'widgets.v1', groupVersion: { group: 'widgets.example.com', version: 'v1' }, goFiles: ['types.go'] },
  ]);
  const defs = (JSON.parse(files.get('lib/kinds/generated/schemas/widgets.v1.json')!) as { definitions: Record<string, Record<string, unknown>> }).definitions;
  const widget = defs['io.k8s.api.widgets.v1.Widget']!;
  assert.deepEqual(widget['x-kubernetes-group-version-kind'], [{ group: 'widgets.example.com', kind: 'Widget', version: 'v1' }]);
  // required: neither +optional nor omitempty (Embedded.extra has +optional)
  assert.deepEqual(widget.required, ['labels', 'mode']);
  const props = widget.properties as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(props), ['apiVersion', 'data', 'extra', 'kind', 'labels', 'metadata', 'mode', 'parts', 'replicas', 'target']);
  assert.deepEqual(props.parts, {
    items: { $ref: '#/definitions/io.k8s.api.widgets.v1.Part' },
    type: 'array',
    'x-kubernetes-list-map-keys': ['name', 'protocol'],
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-patch-merge-key': 'name',
    'x-kubernetes-patch-strategy': 'merge',
  });
  assert.deepEqual(props.labels, { additionalProperties: { type: 'string' }, type: 'object', 'x-kubernetes-map-type': 'atomic' });
  assert.deepEqual(props.mode, { enum: ['Fast', 'Slow'], type: 'string' });
  assert.deepEqual(props.replicas, { format: 'int32', type: 'integer' });
  assert.deepEqual(props.data, { format: 'byte', type: 'string' });
  assert.deepEqual(props.target, { $ref: '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString' });
  assert.equal(defs['io.k8s.api.widgets.v1.Part']!['x-kubernetes-group-version-kind'], undefined);
  // no json tag: encoding/json's name is the Go name
  assert.deepEqual(defs['io.k8s.api.widgets.v1.Part']!.required, ['Name', 'Protocol']);

  const go = JSON.parse(files.get('lib/kinds/generated/go.json')!) as Record<string, { protobufMessage?: string; fields: Record<string, unknown> }>;
  const facts = go['io.k8s.api.widgets.v1.Widget']!;
  assert.equal(facts.protobufMessage, 'k8s.io.api.widgets.v1.Widget');
  assert.deepEqual(Object.keys(facts.fields), ['TypeMeta', 'metadata', 'parts', 'labels', 'replicas', 'mode', 'target', 'data', 'Embedded'], 'Go order, json:"-" and unexported left out');
  assert.deepEqual(facts.fields.replicas, { go: '*int32', omitempty: true, pointer: true, inline: false, protobuf: 4 });
  // omitzero is written where the tag has it, and only there
  assert.deepEqual(facts.fields.data, { go: '[]byte', omitempty: true, omitzero: true, pointer: false, inline: false, protobuf: 7 });
  assert.deepEqual(facts.fields.TypeMeta, { go: 'metav1.TypeMeta', omitempty: false, pointer: false, inline: true });
  assert.deepEqual(facts.fields.Embedded, { go: 'Embedded', omitempty: false, pointer: false, inline: true, protobuf: 8, protobufName: 'embedded' });

  assert.equal(
    files.get('proto/k8s/generated/widgets.v1.proto')!.split('\n').slice(2).join('\n'),
    [
      'syntax = "proto2";',
      '',
      'package k8s.io.api.widgets.v1;',
      '',
      'import "k8s/generated/intstr.proto";',
      'import "k8s/generated/meta.v1.proto";',
      '',
      'message Embedded {',
      '  optional string extra = 1;',
      '}',
      '',
      'message Part {',
      '}',
      '',
      'message Widget {',
      '  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;',
      '  repeated Part parts = 2;',
      '  map<string, string> labels = 3;',
      '  optional int32 replicas = 4;',
      '  optional string mode = 5;',
      '  optional .k8s.io.apimachinery.pkg.util.intstr.IntOrString target = 6;',
      '  optional bytes data = 7;',
      '  optional Embedded embedded = 8;',
      '}',
      '',
    ].join('\n'),
  );
  assert.ok(warnings.some((w) => w.startsWith('k8s.io.api.widgets.v1.Widget: not in upstream')), warnings.join('\n'));
});
