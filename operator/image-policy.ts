/**
 * Which scorer images a ScoringModel may name in spec.image. Whoever may create a ScoringModel chooses what runs in
 * the scorer pods; the cluster admin chooses, through the operator's SCORER_IMAGES setting, which images those may be.
 */

/** An image reference without its tag and digest: `ghcr.io/scoring-dev/scorer:0.1.0@sha256:...` -> `ghcr.io/scoring-dev/scorer`. */
export function repositoryOf(image: string): string {
  const name = image.split('@')[0]!;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  return colon === -1 ? name : name.slice(0, colon);
}

/**
 * Whether `image` may run: its repository is one of the allowed entries, or lies under an entry that ends in `/`
 * (`ghcr.io/scoring-dev/` allows every repository of that organisation); `*` allows any image.
 */
export function imageAllowed(image: string, allowed: readonly string[]): boolean {
  const repository = repositoryOf(image);
  return allowed.some((a) => a === '*' || (a.endsWith('/') ? repository.startsWith(a) : repository === a));
}

/** The message a refused image gets in the ScoringModel's status. */
export function imageRefusal(image: string, allowed: readonly string[]): string {
  return (
    `spec.image ${image} is not allowed: the operator runs scorer images from ${allowed.join(', ')} only ` +
    '(its SCORER_IMAGES setting, chosen by the cluster admin); remove spec.image to use the default scorer'
  );
}
