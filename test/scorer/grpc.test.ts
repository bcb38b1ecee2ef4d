/**
 * The scorer's gRPC form of the Open Inference Protocol, called with grpcurl (built from its Go module, nobody here
 * wrote it) over a real socket: every fixture model answers with the training library's predictions, the same as
 * REST; typed and raw contents; metadata; errors with their status codes and REST's texts; metrics and logs.
 */
import { withPredict, type Model } from '../../scorer/model.js';
import { loadModel } from '../../scorer/load/index.js';
import { fixtures, maxRelativeError, type Fixture } from '../helpers/fixtures.js';
import { describeWithGrpcurl, grpcurl, grpcurlText, SERVICE, type GrpcReply } from '../helpers/grpcurl.js';
import { request, startTestScorer, type TestScorer } from '../helpers/scorer.js';

/** gRPC status codes. */
const OK = 0;
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const RESOURCE_EXHAUSTED = 8;
const INTERNAL = 13;
const UNAVAILABLE = 14;

/** The contents field of each datatype, as protobuf's JSON mapping names it. */
const FIELD: Record<string, string> = {
  BOOL: 'boolContents',
  INT32: 'intContents',
  INT64: 'int64Contents',
  FP32: 'fp32Contents',
  FP64: 'fp64Contents',
  BYTES: 'bytesContents',
};

interface Meta {
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
}

interface GrpcOutput {
  name: string;
  datatype: string;
  shape: string[];
  contents?: Record<string, unknown[]>;
}

/** A typed value as protobuf's JSON mapping reads it back: int64 as a string, NaN as "NaN". */
function typedValues(values: unknown[]): number[] {
  return values.map((v) => (typeof v === 'string' ? Number(v) : typeof v === 'boolean' ? Number(v) : (v as number)));
}

/** Raw little-endian values of `datatype` as numbers. */
function rawValues(base64: string, datatype: string): number[] {
  const b = Buffer.from(base64, 'base64');
  const copy = new Uint8Array(b).buffer;
  switch (datatype) {
    case 'FP32':
      return Array.from(new Float32Array(copy));
    case 'FP64':
      return Array.from(new Float64Array(copy));
    case 'INT64':
      return Array.from(new BigInt64Array(copy), Number);
    case 'INT32':
      return Array.from(new Int32Array(copy));
    default:
      throw new Error(`no reader for ${datatype}`);
  }
}

/** Rows as raw bytes of `datatype`, null as NaN. */
function rawRows(rows: (number | null)[][], datatype: string): string {
  const flat = rows.flat().map((v) => (v === null ? NaN : v));
  const array =
    datatype === 'FP64'
      ? new Float64Array(flat)
      : datatype === 'INT64'
        ? BigInt64Array.from(flat, (v) => BigInt(v))
        : new Float32Array(flat);
  return Buffer.from(array.buffer).toString('base64');
}

function inferRequest(fixture: Fixture, meta: Meta, raw: boolean) {
  const input = meta.inputs[0]!;
  const rows = fixture.inputs;
  const tensor = { name: input.name, datatype: input.datatype, shape: [rows.length, rows[0]!.length] };
  if (raw) {
    return { model_name: fixture.name, inputs: [tensor], raw_input_contents: [rawRows(rows, input.datatype)] };
  }
  // JSON has no NaN; protobuf's JSON mapping spells it "NaN", the missing value in a float's contents.
  const values = rows.flat().map((v) => (v === null ? 'NaN' : v));
  return {
    model_name: fixture.name,
    id: `g-${fixture.name}`,
    inputs: [{ ...tensor, contents: { [FIELD[input.datatype]!]: values } }],
  };
}

describeWithGrpcurl('gRPC (grpcurl)', () => {
  describe.each(fixtures().map((f) => [f.name, f] as const))('%s', (_name, fixture: Fixture) => {
    let scorer: TestScorer;
    let meta: Meta;
    let rest: { outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] };
    beforeAll(async () => {
      scorer = await startTestScorer({ MODEL_URI: fixture.path });
      await scorer.ready;
      meta = (await request(`${scorer.url}/v2/models/${fixture.name}`)).body as Meta;
      const input = meta.inputs[0]!;
      const rows = fixture.inputs;
      const reply = await request(`${scorer.url}/v2/models/${fixture.name}/infer`, 'POST', {
        inputs: [{ name: input.name, datatype: input.datatype, shape: [rows.length, rows[0]!.length], data: rows }],
      });
      expect(reply.status).toBe(200);
      rest = reply.body as typeof rest;
    });
    afterAll(() => scorer.close());

    it('ModelInfer with typed contents answers the library predictions and REST answer, in typed contents', async () => {
      const reply = await grpcurl(scorer.grpcAddress, 'ModelInfer', inferRequest(fixture, meta, false));
      expect(reply.code).toBe(OK);
      const body = reply.body as { modelName: string; modelVersion: string; id: string; outputs: GrpcOutput[] };
      expect(body).toMatchObject({ modelName: fixture.name, modelVersion: '1', id: `g-${fixture.name}` });
      expect(body.outputs.map((o) => o.name)).toEqual(rest.outputs.map((o) => o.name));
      for (const output of rest.outputs) {
        const got = body.outputs.find((o) => o.name === output.name)!;
        expect({ datatype: got.datatype, shape: got.shape.map(Number) }).toEqual({
          datatype: output.datatype,
          shape: output.shape,
        });
        const values = typedValues(got.contents![FIELD[output.datatype]!]!);
        // grpcurl prints a float in its shortest form: equal to REST's once both are the datatype's values.
        const same = output.datatype === 'FP32' ? (a: number[]) => a.map(Math.fround) : (a: number[]) => a;
        expect(same(values)).toEqual(same(output.data));
        const expected = fixture.expected[output.name];
        if (expected) expect(maxRelativeError(values, expected.flat())).toBeLessThanOrEqual(fixture.tolerance);
      }
    });

    it('ModelInfer with raw_input_contents answers in raw_output_contents, bit for bit what REST answers', async () => {
      const reply = await grpcurl(scorer.grpcAddress, 'ModelInfer', inferRequest(fixture, meta, true));
      expect(reply.code).toBe(OK);
      const body = reply.body as { outputs: GrpcOutput[]; rawOutputContents: string[] };
      expect(body.outputs.every((o) => o.contents === undefined)).toBe(true);
      expect(body.rawOutputContents).toHaveLength(rest.outputs.length);
      rest.outputs.forEach((output, i) => {
        expect(body.outputs[i]!.name).toBe(output.name);
        const values = rawValues(body.rawOutputContents[i]!, output.datatype);
        expect(values).toEqual(output.datatype === 'FP32' ? output.data.map(Math.fround) : output.data);
        const expected = fixture.expected[output.name];
        if (expected) expect(maxRelativeError(values, expected.flat())).toBeLessThanOrEqual(fixture.tolerance);
      });
    });
  });

  describe('one model', () => {
    let scorer: TestScorer;
    const MODEL = 'xgb_multiclass';
    const fixture = fixtures().find((f) => f.name === MODEL)!;
    const row = fixture.inputs[0]!;
    const typed = (extra: object = {}, input: object = {}) => ({
      model_name: MODEL,
      inputs: [{ name: 'X', datatype: 'FP32', shape: [1, row.length], contents: { fp32_contents: row }, ...input }],
      ...extra,
    });
    beforeAll(async () => {
      scorer = await startTestScorer({ MODEL_URI: fixture.path, MAX_ROWS: '5' });
      await scorer.ready;
    });
    afterAll(() => scorer.close());

    const call = (method: string, body?: unknown) => grpcurl(scorer.grpcAddress, method, body);
    const restInfer = (body: unknown) => request(`${scorer.url}/v2/models/${MODEL}/infer`, 'POST', body);

    it('serves reflection, so grpcurl lists the service without the .proto', async () => {
      expect((await grpcurlText(['-plaintext', scorer.grpcAddress, 'list'])).split('\n')).toContain(SERVICE);
      const methods = await grpcurlText(['-plaintext', scorer.grpcAddress, 'list', SERVICE]);
      expect(methods.trim().split('\n').sort()).toEqual(
        ['ModelInfer', 'ModelMetadata', 'ModelReady', 'ServerLive', 'ServerMetadata', 'ServerReady'].map(
          (m) => `${SERVICE}.${m}`,
        ),
      );
    });

    it('answers a client that uses the .proto instead of reflection the same', async () => {
      const viaProto = await grpcurl(scorer.grpcAddress, 'ModelInfer', typed(), { proto: true });
      expect(viaProto).toEqual(await call('ModelInfer', typed()));
    });

    it('ServerLive, ServerReady and ModelReady say live and ready', async () => {
      expect(await call('ServerLive')).toEqual({ code: OK, body: { live: true } });
      expect(await call('ServerReady')).toEqual({ code: OK, body: { ready: true } });
      expect(await call('ModelReady', { name: MODEL })).toEqual({ code: OK, body: { ready: true } });
      expect(await call('ModelReady', { name: MODEL, version: '1' })).toEqual({ code: OK, body: { ready: true } });
    });

    it("ServerMetadata and ModelMetadata say what REST's GET /v2 and GET /v2/models/{name} say", async () => {
      const server = (await request(`${scorer.url}/v2`)).body;
      expect(await call('ServerMetadata')).toEqual({ code: OK, body: server });
      const model = (await request(`${scorer.url}/v2/models/${MODEL}`)).body as Meta;
      const reply = await call('ModelMetadata', { name: MODEL });
      const tensors = (ts: Meta['inputs']) => ts.map((t) => ({ ...t, shape: t.shape.map(String) }));
      expect(reply).toEqual({
        code: OK,
        body: { ...model, inputs: tensors(model.inputs), outputs: tensors(model.outputs) },
      });
    });

    it('answers the requested outputs only, and raw outputs when asked for binary data', async () => {
      const one = await call('ModelInfer', typed({ outputs: [{ name: 'score' }] }));
      expect((one.body.outputs as GrpcOutput[]).map((o) => o.name)).toEqual(['score']);
      const binary = await call(
        'ModelInfer',
        typed({ parameters: { binary_data_output: { bool_param: true } }, outputs: [{ name: 'score' }] }),
      );
      expect(binary.body.outputs).toEqual([{ name: 'score', datatype: 'FP32', shape: ['1', '3'] }]);
      expect(rawValues((binary.body.rawOutputContents as string[])[0]!, 'FP32')).toEqual(
        typedValues((one.body.outputs as GrpcOutput[])[0]!.contents!.fp32Contents!).map(Math.fround),
      );
    });

    it('takes values of another datatype that convert exactly, as REST does (FP64 and INT32 for FP32)', async () => {
      const f64 = await call('ModelInfer', typed({}, { datatype: 'FP64', contents: { fp64_contents: row } }));
      expect(f64.code).toBe(OK);
      const ints = row.map(() => 1);
      const i32 = await call('ModelInfer', typed({}, { datatype: 'INT32', contents: { int_contents: ints } }));
      const f32 = await call('ModelInfer', typed({}, { contents: { fp32_contents: ints } }));
      expect(i32).toEqual(f32);
    });

    /** A bad request gets INVALID_ARGUMENT with the very text REST's 400 has. */
    const sameAsRest = async (grpcBody: unknown, restBody: unknown, code = INVALID_ARGUMENT, status = 400) => {
      const reply = await call('ModelInfer', grpcBody);
      const restReply = await restInfer(restBody);
      expect(restReply.status).toBe(status);
      expect(reply).toEqual({ code, body: { code, message: (restReply.body as { error: string }).error } });
    };

    it("refuses a shape the model cannot take with INVALID_ARGUMENT and REST's message", async () => {
      const shape = [1, row.length - 1];
      await sameAsRest(typed({}, { shape, contents: { fp32_contents: row.slice(1) } }), {
        inputs: [{ name: 'X', datatype: 'FP32', shape, data: row.slice(1) }],
      });
    });

    it("refuses an unknown input, datatype or output, and a value out of range, with REST's messages", async () => {
      await sameAsRest(typed({}, { name: 'Y' }), {
        inputs: [{ name: 'Y', datatype: 'FP32', shape: [1, 1], data: [1] }],
      });
      for (const datatype of ['FP17', 'constructor']) {
        await sameAsRest(typed({}, { datatype }), {
          inputs: [{ name: 'X', datatype, shape: [1, row.length], data: row }],
        });
      }
      await sameAsRest(typed({ outputs: [{ name: 'nope' }] }), {
        inputs: [{ name: 'X', datatype: 'FP32', shape: [1, row.length], data: row }],
        outputs: [{ name: 'nope' }],
      });
      const big = row.map(() => 300);
      await sameAsRest(typed({}, { datatype: 'INT8', contents: { int_contents: big } }), {
        inputs: [{ name: 'X', datatype: 'INT8', shape: [1, row.length], data: big }],
      });
    });

    it('refuses more rows than MAX_ROWS with RESOURCE_EXHAUSTED, as REST does with 413', async () => {
      const rows = Array.from({ length: 6 }, () => row);
      await sameAsRest(
        typed({}, { shape: [6, row.length], contents: { fp32_contents: rows.flat() } }),
        { inputs: [{ name: 'X', datatype: 'FP32', shape: [6, row.length], data: rows }] },
        RESOURCE_EXHAUSTED,
        413,
      );
    });

    it('refuses contents that do not fit: the wrong field, too few values, typed and raw mixed', async () => {
      const expectInvalid = (reply: GrpcReply, message: string) =>
        expect(reply).toEqual({ code: INVALID_ARGUMENT, body: { code: INVALID_ARGUMENT, message } });
      expectInvalid(
        await call('ModelInfer', typed({}, { contents: { fp64_contents: row } })),
        'input "X": datatype FP32 takes its values in contents.fp32_contents; contents.fp64_contents is set',
      );
      expectInvalid(
        await call('ModelInfer', typed({}, { contents: { fp32_contents: row.slice(2) } })),
        `input "X": shape [1, ${row.length}] holds ${row.length} values but contents.fp32_contents has ${row.length - 2}`,
      );
      expectInvalid(
        await call('ModelInfer', typed({ raw_input_contents: [rawRows([row], 'FP32')] })),
        'input "X" has contents.fp32_contents but the request gives raw_input_contents; ' +
          'expected every input in raw_input_contents or none',
      );
      expectInvalid(
        await call('ModelInfer', typed({}, { datatype: 'FP16', contents: {} })),
        'input "X": FP16 values can only be sent in raw_input_contents',
      );
    });

    it('refuses raw contents whose size does not fit the shape, or that are not one per input', async () => {
      const tensor = { name: 'X', datatype: 'FP32', shape: [1, row.length] };
      const short = await call('ModelInfer', {
        model_name: MODEL,
        inputs: [tensor],
        raw_input_contents: [rawRows([row.slice(1)], 'FP32')],
      });
      expect(short.code).toBe(INVALID_ARGUMENT);
      expect(short.body.message).toBe(
        `input "X": raw_input_contents[0] has ${(row.length - 1) * 4} bytes; shape [1, ${row.length}] of FP32 ` +
          `takes ${row.length * 4} bytes (${row.length} values of 4 bytes)`,
      );
      const two = await call('ModelInfer', {
        model_name: MODEL,
        inputs: [tensor],
        raw_input_contents: [rawRows([row], 'FP32'), rawRows([row], 'FP32')],
      });
      expect(two.body).toEqual({
        code: INVALID_ARGUMENT,
        message: 'raw_input_contents has 2 entries for 1 inputs; expected one per input, in the order of "inputs"',
      });
    });

    it('answers NOT_FOUND for another model or version, on every model RPC', async () => {
      const notFound = (message: string) => ({ code: NOT_FOUND, body: { code: NOT_FOUND, message } });
      expect(await call('ModelInfer', typed({ model_name: 'other' }))).toEqual(notFound('model "other" not found'));
      expect(await call('ModelInfer', typed({ model_version: '2' }))).toEqual(
        notFound(`model "${MODEL}" has no version "2" (versions: 1)`),
      );
      expect(await call('ModelMetadata', { name: 'other' })).toEqual(notFound('model "other" not found'));
      expect(await call('ModelReady', { name: 'other' })).toEqual(notFound('model "other" not found'));
    });

    it('counts its requests in the request metrics (method "GRPC") and logs each one', async () => {
      const from = scorer.logs.length;
      await call('ModelInfer', typed());
      await call('ModelInfer', typed({ model_name: 'other' }));
      const [ok, missing] = await scorer.logged(from, 2, (l) => l.msg === 'request' && l.method === 'GRPC');
      const route = `/${SERVICE}/ModelInfer`;
      expect(ok).toMatchObject({ route, status: 200, code: OK, rows: 1 });
      expect(missing).toMatchObject({ route, status: 404, code: NOT_FOUND, rows: 0 });
      const text = (await request(`${scorer.metricsUrl}/metrics`)).body as string;
      const series = (status: number) => `scorer_requests_total{route="${route}",method="GRPC",status="${status}"}`;
      expect(text).toContain(`${series(200)} `);
      expect(text).toContain(`${series(404)} `);
      // The probes' RPCs are not API requests, as REST's health routes are not.
      await call('ServerReady');
      expect((await request(`${scorer.metricsUrl}/metrics`)).body).not.toContain('ServerReady');
    });
  });

  describe('a model that fails', () => {
    it("answers INTERNAL with the model's reason, as REST answers 422", async () => {
      let calls = 0;
      const failing = (m: Model) =>
        withPredict(m, (inputs, outputs) =>
          // The warm-up's prediction succeeds, so that the scorer gets ready.
          ++calls === 1 ? m.predict(inputs, outputs) : Promise.reject(new Error('the tree is on fire\nstack')),
        );
      const scorer = await startTestScorer({ MODEL_URI: 'identity' }, async (config, log) => {
        const loaded = await loadModel(config, log);
        return { ...loaded, model: failing(loaded.model) };
      });
      try {
        await scorer.ready;
        const body = { inputs: [{ name: 'X', datatype: 'FP64', shape: [1, 2], data: [1, 2] }] };
        const restReply = await request(`${scorer.url}/v2/models/identity/infer`, 'POST', body);
        expect(restReply.status).toBe(422);
        const reply = await grpcurl(scorer.grpcAddress, 'ModelInfer', {
          model_name: 'identity',
          inputs: [{ name: 'X', datatype: 'FP64', shape: [1, 2], contents: { fp64_contents: [1, 2] } }],
        });
        expect(reply).toEqual({
          code: INTERNAL,
          body: { code: INTERNAL, message: (restReply.body as { error: string }).error },
        });
        expect(reply.body.message).toBe('the model could not score this input: the tree is on fire');
      } finally {
        await scorer.close();
      }
    });
  });

  describe('before the model is loaded and after SIGTERM', () => {
    it('is live but not ready, and answers UNAVAILABLE, until the model is loaded', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const scorer = await startTestScorer({ MODEL_URI: 'identity' }, async (config, log) => {
        await held;
        return loadModel(config, log);
      });
      try {
        expect(await grpcurl(scorer.grpcAddress, 'ServerLive')).toEqual({ code: OK, body: { live: true } });
        expect(await grpcurl(scorer.grpcAddress, 'ServerReady')).toEqual({ code: OK, body: {} });
        expect(await grpcurl(scorer.grpcAddress, 'ModelReady', { name: 'identity' })).toEqual({ code: OK, body: {} });
        const unavailable = { code: UNAVAILABLE, message: 'the model is not loaded yet' };
        expect((await grpcurl(scorer.grpcAddress, 'ModelMetadata', { name: 'identity' })).body).toEqual(unavailable);
        const infer = { model_name: 'identity', inputs: [] };
        expect((await grpcurl(scorer.grpcAddress, 'ModelInfer', infer)).body).toEqual(unavailable);
        release();
        await scorer.ready;
        expect(await grpcurl(scorer.grpcAddress, 'ServerReady')).toEqual({ code: OK, body: { ready: true } });
      } finally {
        release();
        await scorer.close();
      }
    });

    it('stops taking calls once shut down, with the HTTP server', async () => {
      const scorer = await startTestScorer({ MODEL_URI: 'identity' });
      await scorer.ready;
      await scorer.shutdown(5000);
      await expect(grpcurl(scorer.grpcAddress, 'ServerLive')).rejects.toThrow(/connection refused/);
    });
  });
});
