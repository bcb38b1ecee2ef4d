/**
 * Training rows for a baseline: a CSV file with a header, a JSON array of rows, or NDJSON (one row a line); a row is
 * an array of values, or an object keyed by feature name. Values are numbers; empty, `NaN` and null are missing.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/** Training data that cannot be read as rows of numbers: the message names the file, line (or row) and column. */
export class DataError extends Error {
  override readonly name = 'DataError';
}

export const INPUT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** Rows of numbers, row-major; NaN marks a missing value. */
export interface Table {
  /** One per column: the CSV header, the objects' keys, else x0, x1, ... */
  names: string[];
  rows: number;
  values: Float64Array;
}

/** The values of column `j`. */
export function column(table: Table, j: number): Float64Array {
  const width = table.names.length;
  const out = new Float64Array(table.rows);
  for (let i = 0; i < table.rows; i++) out[i] = table.values[i * width + j]!;
  return out;
}

/** The input format a file name implies: .csv, .json, .ndjson or .jsonl. */
export function inputFormatFromName(path: string): InputFormat | undefined {
  const ext = /\.([A-Za-z]+)$/.exec(path)?.[1]?.toLowerCase();
  if (ext === 'csv' || ext === 'json' || ext === 'ndjson') return ext;
  return ext === 'jsonl' ? 'ndjson' : undefined;
}

export async function readTable(path: string, format: InputFormat): Promise<Table> {
  const builder = new TableBuilder(path);
  if (format === 'json') {
    readJsonDocument(path, await readFile(path, 'utf8'), builder);
  } else {
    const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
    let n = 0;
    for await (const raw of lines) {
      n++;
      const line = n === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (line.trim() === '') continue;
      if (format === 'csv') csvLine(path, n, line, builder);
      else ndjsonLine(path, n, line, builder);
    }
  }
  return builder.build();
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING = /^(?:nan|null)?$/i;
const MISSING_WORDS = 'empty, NaN or null';

/** A cell's number, NaN when missing; undefined when it is neither. */
function parseCell(text: string): number | undefined {
  const t = text.trim();
  if (MISSING.test(t)) return NaN;
  if (!NUMBER.test(t)) return undefined;
  const value = Number(t);
  return Number.isFinite(value) ? value : undefined;
}

/** Where a row came from, for messages: `file:line` for CSV and NDJSON, `file: row N` for a JSON document. */
type Where = string;

class TableBuilder {
  names: string[] | undefined;
  /** Whether JSON rows are objects keyed by feature name (set by the first row). */
  keyed: boolean | undefined;
  /** Feature name -> column, for rows given as objects. */
  private byName = new Map<string, number>();
  private values = new Float64Array(1024);
  private length = 0;
  rows = 0;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  setNames(names: string[], where: Where): void {
    const seen = new Set<string>();
    names.forEach((name, j) => {
      if (name === '') throw new DataError(`${where}: column ${j + 1} has no name`);
      if (name.length > 253) throw new DataError(`${where}: column ${j + 1}'s name is over 253 characters`);
      if (seen.has(name)) throw new DataError(`${where}: column ${j + 1} is named "${name}" again`);
      seen.add(name);
      this.byName.set(name, j);
    });
    this.names = names;
  }

  /** Columns of unnamed rows: x0, x1, ... */
  unnamed(width: number): void {
    this.names ??= Array.from({ length: width }, (_, j) => `x${j}`);
  }

  /** The next row; `cells` are strings (CSV) or JSON values. */
  addRow(cells: readonly unknown[], where: Where): void {
    const names = this.names!;
    if (cells.length !== names.length) {
      const values = `${cells.length} ${cells.length === 1 ? 'value' : 'values'}`;
      throw new DataError(`${where}: the row has ${values}; there are ${names.length} columns`);
    }
    if (this.length + cells.length > this.values.length) {
      const grown = new Float64Array(Math.max(this.values.length * 2, this.length + cells.length));
      grown.set(this.values.subarray(0, this.length));
      this.values = grown;
    }
    for (let j = 0; j < cells.length; j++) this.values[this.length++] = this.value(cells[j], where, j);
    this.rows++;
  }

  addObject(row: Record<string, unknown>, where: Where): void {
    if (this.names === undefined) this.setNames(Object.keys(row), where);
    const cells = new Array<unknown>(this.names!.length).fill(null);
    for (const [key, value] of Object.entries(row)) {
      const j = this.byName.get(key);
      if (j === undefined) {
        throw new DataError(`${where}: "${key}" is not one of the first row's keys (${this.names!.join(', ')})`);
      }
      cells[j] = value;
    }
    this.addRow(cells, where);
  }

  private value(cell: unknown, where: Where, j: number): number {
    // JSON.parse reads 1e999 as Infinity.
    if (typeof cell === 'number' && Number.isFinite(cell)) return cell;
    if (cell === null) return NaN;
    const value = typeof cell === 'string' ? parseCell(cell) : undefined;
    if (value !== undefined) return value;
    const shown =
      typeof cell === 'string'
        ? JSON.stringify(cell.length > 40 ? `${cell.slice(0, 40)}…` : cell)
        : typeof cell === 'number'
          ? String(cell)
          : JSON.stringify(cell);
    throw new DataError(
      `${where}: column ${j + 1} ("${this.names![j]}") is ${shown}, not a finite number (missing values: ${MISSING_WORDS})`,
    );
  }

  build(): Table {
    if (this.rows === 0 || this.names === undefined) throw new DataError(`${this.path} has no rows`);
    if (this.names.length === 0) throw new DataError(`${this.path} has no columns`);
    return { names: this.names, rows: this.rows, values: this.values.slice(0, this.length) };
  }
}

/**
 * One CSV line: the header first, unless every cell of the first line is a number (then the columns are x0, x1, ...
 * and it is a row). Cells may be quoted ("a, b", "say ""hi"""); a quoted cell does not span lines.
 */
function csvLine(path: string, n: number, line: string, builder: TableBuilder): void {
  const where = `${path}:${n}`;
  const cells = splitCsv(line, where);
  if (builder.names === undefined) {
    if (cells.some((c) => parseCell(c) === undefined)) {
      builder.setNames(
        cells.map((c) => c.trim()),
        where,
      );
      return;
    }
    builder.unnamed(cells.length);
  }
  builder.addRow(cells, where);
}

function splitCsv(line: string, where: Where): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote === -1) throw new DataError(`${where}: a quoted cell runs past the end of the line`);
        cell += line.slice(i, quote);
        i = quote + 1;
        if (line[i] !== '"') break;
        cell += '"';
        i++;
      }
      cells.push(cell);
      if (i < line.length && line[i] !== ',') {
        throw new DataError(`${where}: column ${cells.length} has text after its closing quote`);
      }
    } else {
      const comma = line.indexOf(',', i);
      cells.push(line.slice(i, comma === -1 ? line.length : comma));
      i = comma === -1 ? line.length : comma;
    }
    if (i >= line.length) return cells;
    i++; // the comma
    if (i === line.length) {
      cells.push('');
      return cells;
    }
  }
}

function ndjsonLine(path: string, n: number, line: string, builder: TableBuilder): void {
  const where = `${path}:${n}`;
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch (err) {
    throw new DataError(`${where}: not JSON: ${(err as Error).message}`);
  }
  addJsonRow(row, where, builder);
}

function readJsonDocument(path: string, text: string, builder: TableBuilder): void {
  let rows: unknown;
  try {
    rows = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new DataError(`${path} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(rows)) throw new DataError(`${path} is not a JSON array of rows`);
  rows.forEach((row, i) => addJsonRow(row, `${path}: row ${i + 1}`, builder));
}

/** A row as an array of values or an object keyed by feature name; every row like the first. */
function addJsonRow(row: unknown, where: Where, builder: TableBuilder): void {
  if (Array.isArray(row)) {
    builder.keyed ??= false;
    if (builder.keyed) throw new DataError(`${where}: an array; the first row is an object`);
    builder.unnamed(row.length);
    builder.addRow(row, where);
  } else if (typeof row === 'object' && row !== null) {
    builder.keyed ??= true;
    if (!builder.keyed) throw new DataError(`${where}: an object; the first row is an array`);
    builder.addObject(row as Record<string, unknown>, where);
  } else {
    throw new DataError(`${where}: a row is an array of numbers or an object of them, not ${JSON.stringify(row)}`);
  }
}
