/** The model formats the scorer serves, and the file extensions that imply each: spec.model.format's values. */

export const MODEL_FORMATS = ['onnx', 'xgboost', 'lightgbm', 'identity'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

const EXTENSIONS: Record<string, ModelFormat> = {
  onnx: 'onnx',
  ort: 'onnx',
  json: 'xgboost',
  ubj: 'xgboost',
  txt: 'lightgbm',
};

/** The format a file name implies; undefined when it implies none. */
export function formatFromName(fileName: string): ModelFormat | undefined {
  if (fileName === 'identity') return 'identity';
  const ext = /\.([A-Za-z0-9]+)$/.exec(fileName)?.[1]?.toLowerCase();
  return ext === undefined ? undefined : EXTENSIONS[ext];
}
