/**
 * gRPC server reflection for the scorer's service, so that grpcurl and similar tools need no copy of the .proto.
 *
 * protobufjs, which proto-loader builds the descriptors with, names a map field's entry message after the field
 * (`Properties`), where protoc and every protobuf runtime name it `<Field>Entry` (`PropertiesEntry`); Go's protobuf
 * runtime, which grpcurl uses, refuses the file for it ("invalid map: incorrect implicit map entry name", grpcurl
 * issue 519). The descriptors served are renamed to protoc's names first; the service's own encoding is unaffected.
 */
import type { Server } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { createRequire } from 'node:module';
import type * as Descriptor from 'protobufjs/ext/descriptor/index.js';

// A CommonJS module whose exports Node's ESM loader cannot list: loaded with require.
const descriptor = createRequire(import.meta.url)('protobufjs/ext/descriptor/index.js') as typeof Descriptor;

interface Message {
  name: string;
  field?: { name: string; typeName?: string; jsonName?: string }[];
  nestedType?: Message[];
  options?: { mapEntry?: boolean } | null;
}

/**
 * Renames, in place, each map entry message under `message` to `<Name>Entry`, and the fields that refer to it; and
 * gives each field the JSON name protoc gives it (lowerCamelCase), which protobufjs leaves out and tools then print
 * the field's own name for.
 */
function renameMapEntries(message: Message): void {
  for (const field of message.field ?? [])
    field.jsonName = field.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  for (const nested of message.nestedType ?? []) {
    renameMapEntries(nested);
    if (!nested.options?.mapEntry || nested.name.endsWith('Entry')) continue;
    const old = nested.name;
    nested.name = `${old}Entry`;
    for (const field of message.field ?? []) {
      const type = field.typeName;
      if (type === old || type?.endsWith(`.${old}`)) field.typeName = `${type.slice(0, -old.length)}${nested.name}`;
    }
  }
}

/** The package definition with its file descriptors' map entries named as protoc names them. */
function withProtocMapEntries(definition: PackageDefinition): PackageDefinition {
  const fixed = new Map<Buffer, Buffer>();
  const fix = (bytes: Buffer): Buffer => {
    let out = fixed.get(bytes);
    if (!out) {
      const file = descriptor.FileDescriptorProto.decode(bytes) as unknown as { messageType?: Message[] };
      for (const message of file.messageType ?? []) renameMapEntries(message);
      out = Buffer.from(descriptor.FileDescriptorProto.encode(file as never).finish());
      fixed.set(bytes, out);
    }
    return out;
  };
  return Object.fromEntries(
    Object.entries(definition).map(([name, entry]) => [
      name,
      'fileDescriptorProtos' in entry
        ? { ...entry, fileDescriptorProtos: (entry.fileDescriptorProtos as Buffer[]).map(fix) }
        : entry,
    ]),
  ) as PackageDefinition;
}

/** Adds the reflection service (v1 and v1alpha) for `definition` to `server`. */
export function addReflection(server: Server, definition: PackageDefinition): void {
  new ReflectionService(withProtocMapEntries(definition)).addToServer(server);
}
