{{- define "memgraph.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "memgraph.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "memgraph.selectorLabels" -}}
app.kubernetes.io/name: {{ include "memgraph.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "memgraph.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "memgraph.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: binding-apiserver
{{- end }}

{{- define "memgraph.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "memgraph.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* registry/repository:tag; global.imageRegistry overrides each image's registry. */}}
{{- define "memgraph.image" -}}
{{- $registry := .image.registry -}}
{{- if .global.imageRegistry }}{{ $registry = .global.imageRegistry }}{{ end -}}
{{- $tag := default .appVersion .image.tag -}}
{{- if $registry }}{{ printf "%s/%s:%s" $registry .image.repository $tag }}{{ else }}{{ printf "%s:%s" .image.repository $tag }}{{ end -}}
{{- end }}

{{- define "memgraph.tokenSecretName" -}}
{{- default (printf "%s-token" (include "memgraph.fullname" .)) .Values.server.bearerToken.existingSecret }}
{{- end }}

{{/* A bearer token is used unless allowUnauthenticated is set and no token is given. */}}
{{- define "memgraph.hasToken" -}}
{{- if or .Values.server.bearerToken.existingSecret .Values.server.bearerToken.value (not .Values.server.allowUnauthenticated) }}true{{ end }}
{{- end }}

{{- define "memgraph.pvcName" -}}
{{- default (printf "%s-data" (include "memgraph.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/* HTTP or HTTPS: memgraph's extension port serves TLS when server.tls.secretName is set. */}}
{{- define "memgraph.extensionScheme" -}}
{{- if .Values.server.tls.secretName }}HTTPS{{ else }}HTTP{{ end -}}
{{- end }}
