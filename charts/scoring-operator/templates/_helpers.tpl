{{/*
The base of every object's name: the release name when it contains the chart's name (the usual
`helm install scoring-operator ...` gives the names config/ uses), else <release>-<chart>.
*/}}
{{- define "scoring-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The labels on every object: config/default's part-of, and Helm's. */}}
{{- define "scoring-operator.labels" -}}
app.kubernetes.io/part-of: scoring-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/*
The operator's pods: the Deployment's selector (immutable, so the same as config/manager's: a release installed over
a kustomize install keeps its Deployment), the PDB's, the Services' and the spread constraints'.
*/}}
{{- define "scoring-operator.selectorLabels" -}}
app.kubernetes.io/name: scoring-operator
app.kubernetes.io/component: manager
{{- end -}}

{{/* The labels of the manager's objects (Deployment, Services, PDB). */}}
{{- define "scoring-operator.managerLabels" -}}
{{ include "scoring-operator.selectorLabels" . }}
{{ include "scoring-operator.labels" . }}
{{- end -}}

{{- define "scoring-operator.image" -}}
{{- printf "%s:%s" .repository (.tag | default .appVersion) -}}
{{- end -}}
