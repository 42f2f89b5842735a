// Package tracing makes the OpenTelemetry tracer provider serve traces
// with: an OTLP exporter (HTTP/protobuf) configured by the standard OTEL_*
// environment variables, when they ask for traces, and none otherwise.
// The spans themselves are made where the work is (the API's requests,
// the store's transactions, export jobs and their collections, captured
// collections); their attributes are ids, names, counts and states, never
// a credential or a connection string.
package tracing

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// enabled reports whether the environment asks for traces: an OTLP
// endpoint is named (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or OTEL_TRACES_EXPORTER is otlp;
// OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turns them off.
func enabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.ToLower(os.Getenv("OTEL_TRACES_EXPORTER")) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnvironment is the tracer provider the environment asks for (see
// enabled), batching spans to the OTLP endpoint, with the service named
// by OTEL_SERVICE_NAME (default snapexport) and OTEL_RESOURCE_ATTRIBUTES;
// nil when it asks for none. Shutdown sends the spans still batched.
func FromEnvironment(ctx context.Context, version string) (trace.TracerProvider, func(context.Context) error, error) {
	if !enabled() {
		return nil, func(context.Context) error { return nil }, nil
	}
	if p := strings.ToLower(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")); p != "" && p != "http/protobuf" {
		return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL %q: snapexport sends traces over http/protobuf only", p)
	}
	if p := strings.ToLower(os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")); p != "" && p != "http/protobuf" {
		return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: snapexport sends traces over http/protobuf only", p)
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceVersion(version)))
	if err != nil {
		return nil, nil, fmt.Errorf("trace resource: %w", err)
	}
	if os.Getenv("OTEL_SERVICE_NAME") == "" && !strings.Contains(os.Getenv("OTEL_RESOURCE_ATTRIBUTES"), "service.name=") {
		res, _ = resource.Merge(res, resource.NewSchemaless(semconv.ServiceName("snapexport")))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

// Provider is p, or a provider whose spans record nothing when p is nil.
func Provider(p trace.TracerProvider) trace.TracerProvider {
	if p == nil {
		return noop.NewTracerProvider()
	}
	return p
}
