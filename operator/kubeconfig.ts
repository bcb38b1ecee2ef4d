/**
 * The operator's KubeConfig: one connection pool for all its API calls.
 *
 * @kubernetes/client-node 2.0.1 builds a new undici Agent in every `applySecurityAuthentication` call, that is for
 * every request and every watch, so each call opened its own TLS connection and left it open and idle: sockets and
 * memory grew with every call, and an operator with many ScoringModels neared its memory limit (the README's
 * bench:operator paragraph has the figures). Here the first Agent made for a context is kept and handed to every
 * later request of that context.
 */
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export class PooledKubeConfig extends KubeConfig {
  readonly #dispatchers = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const made = context.getDispatcher();
    if (made === undefined) return; // plain fetch: Node's global pool already reuses connections
    // Keyed like client-node's own cache of WebSocket agents: the context, its cluster and its user as configured
    // (a token is a header, read per request, so rotating tokens keep working).
    const key = JSON.stringify([this.getCurrentContext(), this.getCurrentCluster(), this.getCurrentUser()]);
    const pooled = this.#dispatchers.get(key);
    if (pooled === undefined) this.#dispatchers.set(key, made);
    else context.setDispatcher(pooled);
  }
}
