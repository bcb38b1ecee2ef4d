/**
 * Settings read from environment variables, overridable by CLI flags (`--model-uri x`, `--port=9000`),
 * validated by a zod schema, and the value types both the scorer's and the operator's settings use.
 */
import { z } from 'zod';
import { redactUri } from './uri.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A boolean setting: `true` or `1`, `false` or `0`. */
export const booleanString = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** The LOG_LEVEL setting: a pino level, `info` when unset. */
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** The flag for a setting: `modelUri` -> `model-uri`. */
export function flagName(setting: string): string {
  return setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * `env` maps each setting to its variable name; `aliases` adds short flags. Flags win over the environment.
 * Throws ConfigError naming the variable (and flag) of the first bad value.
 */
export function loadSettings<S extends z.ZodObject>(
  schema: S,
  variables: Record<string, string>,
  env: NodeJS.ProcessEnv,
  argv: readonly string[],
  aliases: Record<string, string> = {},
): z.infer<S> {
  const raw: Record<string, string> = {};
  for (const [setting, variable] of Object.entries(variables)) {
    const value = env[variable];
    if (value !== undefined && value !== '') raw[setting] = value;
  }
  const byFlag = new Map<string, string>(Object.entries(aliases));
  for (const setting of Object.keys(variables)) byFlag.set(flagName(setting), setting);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      // Most likely a model URI given without its flag: shown redacted, as its credentials would be.
      throw new ConfigError(`unexpected argument "${redactUri(arg)}" (flags look like --name value)`);
    }
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq === -1 ? undefined : eq);
    const setting = byFlag.get(flag);
    if (!setting) throw new ConfigError(`unknown flag --${flag}`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`flag --${flag} needs a value`);
    raw[setting] = value;
  }

  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = issue.path[0] as string | undefined;
    const where = setting ? `${variables[setting]} (--${flagName(setting)})` : 'configuration';
    const message = issue.code === 'invalid_type' && raw[setting ?? ''] === undefined ? 'is required' : issue.message;
    throw new ConfigError(`invalid ${where}: ${message}`);
  }
  return parsed.data;
}
