/** A kubeconfig for one cluster and one user: `user` holds the user's fields (a token, or a client certificate). */
export function kubeconfigYaml(server: string, caFile: string, user: Record<string, string>): string {
  const userLines = Object.entries(user)
    .map(([k, v]) => `    ${k}: ${v}`)
    .join('\n');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: scoring-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${caFile}`,
    'users:',
    '- name: user',
    '  user:',
    userLines,
    'contexts:',
    '- name: scoring-test',
    '  context: {cluster: scoring-test, user: user}',
    'current-context: scoring-test',
    '',
  ].join('\n');
}
