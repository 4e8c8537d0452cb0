/**
 * A small Promise whose resource pipeline is one `sh` command (no image table, no
 * container engine): quick enough for fleets of hundreds on two cores. Each request gets
 * `config.yaml` naming itself and the Promise's `version`.
 */
export function shPromise(options: {
  name: string;
  version: string;
  /** Extra lines for the Promise's own configure pipeline (its output goes to every Destination). */
  promiseScript?: string;
  /** Replaces the resource pipeline's script (which writes `config.yaml`). */
  resourceScript?: string;
  /** The Promise's `spec.destinationSelectors` (one matchLabels entry). */
  matchLabels?: Record<string, string>;
}): string {
  const { name, version } = options;
  const promisePipeline = options.promiseScript
    ? `
    promise:
      configure:
        - apiVersion: platform.kratix.io/v1alpha1
          kind: Pipeline
          metadata:
            name: promise-render
          spec:
            containers:
              - name: render
                image: promiseflow/test-render:${version}
                command:
                  - sh
                  - -c
                  - |
${indent(options.promiseScript)}`
    : '';
  const selectors = options.matchLabels
    ? `
  destinationSelectors:
    - matchLabels: ${JSON.stringify(options.matchLabels)}`
    : '';
  return `apiVersion: platform.kratix.io/v1alpha1
kind: Promise
metadata:
  name: ${name}
  labels:
    kratix.io/promise-version: ${version}
spec:
  api:
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: ${name}s.example.promiseflow.io
    spec:
      group: example.promiseflow.io
      names: {kind: ${kindOf(name)}, plural: ${name}s, singular: ${name}}
      scope: Namespaced
      versions:
        - name: v1alpha1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec:
                  type: object
                  properties:
                    team: {type: string}${selectors}
  workflows:${promisePipeline}
    resource:
      configure:
        - apiVersion: platform.kratix.io/v1alpha1
          kind: Pipeline
          metadata:
            name: render
          spec:
            containers:
              - name: render
                image: promiseflow/test-render:${version}
                command:
                  - sh
                  - -c
                  - |
${indent(
  options.resourceScript ??
    `printf 'name: %s\\nversion: ${version}\\n' "$KRATIX_OBJECT_NAME" > /kratix/output/config.yaml`,
)}
`;
}

/** The request kind of a Promise made by shPromise (`tenant` → `Tenant`). */
export function kindOf(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** A script as the lines of a YAML block scalar under `- |` in the pipelines above. */
function indent(script: string): string {
  return script
    .split('\n')
    .map((l) => `                    ${l}`)
    .join('\n');
}

/** A request of `shPromise({name})`'s API, in `namespace` (default "default"), for `team`. */
export function shRequest(
  promise: string,
  name: string,
  team: string,
  namespace = 'default',
): string {
  return `apiVersion: example.promiseflow.io/v1alpha1
kind: ${kindOf(promise)}
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  team: ${team}
`;
}
