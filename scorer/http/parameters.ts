/**
 * The Open Inference Protocol's `parameters` objects, on a request, an input or an output: checked to be objects, and
 * read by key with the type each key needs. `where` names the object the parameters belong to, as the request's JSON
 * spells it (`output "score": `, or empty for the request itself), at the start of every message.
 */
import { RequestError } from '../errors.js';
import { describe } from './tensor.js';

/** The parameters as an object, or undefined when absent. */
export function parametersObject(parameters: unknown, where: string): Record<string, unknown> | undefined {
  if (parameters === undefined) return undefined;
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new RequestError(400, `${where}"parameters" is ${describe(parameters)}; expected an object`);
  }
  return parameters as Record<string, unknown>;
}

/** A boolean parameter (`binary_data_output`, `binary_data`): undefined when absent. */
export function booleanParameter(parameters: unknown, key: string, where: string): boolean | undefined {
  const value = parametersObject(parameters, where)?.[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw new RequestError(400, `${where}"parameters.${key}" is ${describe(value)}; expected true or false`);
}
