import type { ModelFormat } from '../../contract/formats.js';
import type { ModelFactory } from '../model.js';
import { createIdentityModel } from './identity.js';
import { createLightGBMModel } from './lightgbm.js';
import { createOnnxModel } from './onnx.js';
import { createXGBoostModel } from './xgboost.js';

export const MODEL_FACTORIES: Record<ModelFormat, ModelFactory> = {
  identity: createIdentityModel,
  onnx: createOnnxModel,
  xgboost: createXGBoostModel,
  lightgbm: createLightGBMModel,
};
