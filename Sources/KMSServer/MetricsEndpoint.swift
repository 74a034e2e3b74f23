import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus

/// Prometheus export of everything recorded through swift-metrics.
public enum MetricsExport {
    /// Makes swift-metrics record into a new Prometheus registry, with latency buckets from
    /// 0.25 ms (a cached Decrypt) to 10 s, and powers of two for group commit sizes. Call once,
    /// before anything records.
    public static func bootstrap(version: String) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2.5), .seconds(5), .seconds(10),
        ]
        factory.valueHistogramBuckets["swiftkms_group_commit_size"] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        MetricsSystem.bootstrap(factory)
        ServerMetrics.recordStart(version: version)
        return registry
    }

    /// `GET /metrics` in Prometheus's text format, on a listener of its own: the KMS API's
    /// listener never serves it.
    public static func application(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "SwiftKMS"), logger: logger)
    }
}
