// Validates Kubernetes manifests offline against the Kubernetes API schemas (kubernetes-models:
// validators generated from the Kubernetes OpenAPI spec) and the Prometheus Operator's
// PodMonitor / ServiceMonitor schemas (@kubernetes-models/prometheus-operator): types, required
// fields, enums and formats. The generated schemas do not forbid unknown fields, so the common
// places for a typo are checked by name below, with what ties the objects together: selectors
// that select the Deployment's pods, probe and monitor ports that the container names, the
// ConfigMap, ServiceAccount and Secret a pod refers to.
//
//   node validate.mjs FILE.yaml...      prints "ok: FILE KIND NAME" for each object without a
//                                       problem, "FILE: KIND NAME: problem" for each problem; exit 1
//                                       on any problem
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const models = {
  "v1/ConfigMap": core.ConfigMap,
  "v1/Secret": core.Secret,
  "v1/Service": core.Service,
  "v1/ServiceAccount": core.ServiceAccount,
  "apps/v1/Deployment": apps.Deployment,
  "policy/v1/PodDisruptionBudget": policy.PodDisruptionBudget,
  "monitoring.coreos.com/v1/PodMonitor": monitoring.PodMonitor,
  "monitoring.coreos.com/v1/ServiceMonitor": monitoring.ServiceMonitor,
};

// The keys each place may hold (a subset of the schema: the ones these manifests use, so that a
// misspelt key is caught even though the generated schemas allow any).
const known = {
  container: ["name", "image", "imagePullPolicy", "args", "command", "env", "envFrom", "ports", "resources",
              "readinessProbe", "livenessProbe", "startupProbe", "securityContext", "volumeMounts", "workingDir"],
  podSpec: ["serviceAccountName", "terminationGracePeriodSeconds", "securityContext", "containers", "volumes",
            "affinity", "topologySpreadConstraints", "nodeSelector", "tolerations", "priorityClassName",
            "automountServiceAccountToken", "initContainers", "imagePullSecrets"],
  probe: ["httpGet", "tcpSocket", "exec", "grpc", "initialDelaySeconds", "periodSeconds", "timeoutSeconds",
          "successThreshold", "failureThreshold", "terminationGracePeriodSeconds"],
  deploymentSpec: ["replicas", "selector", "strategy", "template", "minReadySeconds", "revisionHistoryLimit",
                   "progressDeadlineSeconds", "paused"],
  top: ["apiVersion", "kind", "metadata", "spec", "data", "binaryData", "immutable", "stringData", "type",
        "automountServiceAccountToken", "secrets", "imagePullSecrets"],
};

const problems = [];
const objects = [];
for (const file of process.argv.slice(2)) {
  const documents = parseAllDocuments(readFileSync(file, "utf8"));
  for (const document of documents) {
    if (document.errors.length) {
      for (const error of document.errors) problems.push(`${file}: YAML: ${error.message}`);
      continue;
    }
    const object = document.toJS();
    if (object === null) continue;
    const name = `${object.kind} ${object.metadata?.name}`;
    const Model = models[`${object.apiVersion}/${object.kind}`];
    if (!Model) {
      problems.push(`${file}: ${name}: no schema for apiVersion ${object.apiVersion}, kind ${object.kind}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${file}: ${name}: ${error.message}`);
      continue;
    }
    objects.push({ file, name, object });
  }
}

const unknownKeys = (file, name, where, value, keys) => {
  for (const key of Object.keys(value ?? {})) {
    if (!keys.includes(key)) problems.push(`${file}: ${name}: ${where}: unknown field "${key}"`);
  }
};
const selects = (selector, labels) =>
  Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels?.[key] === value) &&
  Object.keys(selector?.matchLabels ?? {}).length > 0;
const find = (kind, name) => objects.find((o) => o.object.kind === kind && o.object.metadata?.name === name);

const deployments = objects.filter((o) => o.object.kind === "Deployment");
for (const { file, name, object } of objects) unknownKeys(file, name, "top level", object, known.top);
for (const { file, name, object } of deployments) {
  const spec = object.spec;
  const pod = spec.template?.spec ?? {};
  const labels = spec.template?.metadata?.labels;
  unknownKeys(file, name, "spec", spec, known.deploymentSpec);
  unknownKeys(file, name, "pod spec", pod, known.podSpec);
  if (!selects(spec.selector, labels)) problems.push(`${file}: ${name}: spec.selector does not select the pod template's labels`);
  if (pod.serviceAccountName && !find("ServiceAccount", pod.serviceAccountName)) {
    problems.push(`${file}: ${name}: ServiceAccount ${pod.serviceAccountName} is not among the manifests`);
  }
  for (const volume of pod.volumes ?? []) {
    if (volume.configMap && !find("ConfigMap", volume.configMap.name)) {
      problems.push(`${file}: ${name}: ConfigMap ${volume.configMap.name} is not among the manifests`);
    }
  }
  for (const container of pod.containers ?? []) {
    unknownKeys(file, name, `container ${container.name}`, container, known.container);
    const ports = (container.ports ?? []).map((p) => p.name);
    for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
      if (!container[probe]) continue;
      unknownKeys(file, name, `${container.name}.${probe}`, container[probe], known.probe);
      const port = container[probe].httpGet?.port;
      if (typeof port === "string" && !ports.includes(port)) {
        problems.push(`${file}: ${name}: ${probe} uses port "${port}", which the container does not name`);
      }
    }
    for (const mount of container.volumeMounts ?? []) {
      if (!(pod.volumes ?? []).some((v) => v.name === mount.name)) problems.push(`${file}: ${name}: no volume ${mount.name}`);
    }
  }
  for (const other of objects) {
    const kind = other.object.kind;
    if (kind !== "PodDisruptionBudget" && kind !== "PodMonitor") continue;
    if (!selects(other.object.spec.selector, labels)) {
      problems.push(`${other.file}: ${other.name}: its selector does not select ${name}'s pods`);
    }
    if (kind === "PodDisruptionBudget" && other.object.spec.minAvailable !== undefined &&
        other.object.spec.maxUnavailable !== undefined) {
      problems.push(`${other.file}: ${other.name}: minAvailable and maxUnavailable are exclusive`);
    }
    if (kind === "PodMonitor") {
      const named = (pod.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const endpoint of other.object.spec.podMetricsEndpoints ?? []) {
        if (!named.includes(endpoint.port)) problems.push(`${other.file}: ${other.name}: no container port named ${endpoint.port}`);
      }
    }
  }
}

for (const { file, name } of objects) {
  if (!problems.some((problem) => problem.startsWith(`${file}: ${name}: `))) console.log(`ok: ${file} ${name}`);
}
for (const problem of problems) console.log(problem);
process.exit(problems.length ? 1 : 0);
