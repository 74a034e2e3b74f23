import Foundation
import KMSService

extension OperationHandler {
    /// CloudTrail's request (validated against botocore's CloudTrail model).
    struct LookupEventsRequest: Decodable {
        struct Attribute: Decodable {
            var attributeKey: String
            var attributeValue: String
        }
        var lookupAttributes: [Attribute]?
        var startTime: Date?
        var endTime: Date?
        var eventCategory: String?
        var maxResults: Int?
        var nextToken: String?
    }

    struct LookupEventsResponse: Encodable {
        struct Event: Encodable {
            struct Resource: Encodable {
                var resourceType: String?
                var resourceName: String?
            }
            var eventId: String?
            var eventName: String?
            var readOnly: String?
            var accessKeyId: String?
            var eventTime: Date
            var eventSource: String?
            var username: String?
            var resources: [Resource]
            var cloudTrailEvent: String
        }
        var events: [Event]
        var nextToken: String?
    }

    static let lookupEvents = OperationHandler { (r: LookupEventsRequest, service, context) throws(KMSError) in
        var request = KMSService.LookupEventsRequest()
        request.attributes = (r.lookupAttributes ?? []).map { ($0.attributeKey, $0.attributeValue) }
        request.startTime = r.startTime
        request.endTime = r.endTime
        request.eventCategory = r.eventCategory
        request.maxResults = r.maxResults
        request.nextToken = r.nextToken
        let (events, nextToken) = try await service.lookupEvents(request, context)
        return LookupEventsResponse(
            events: events.map { event in
                .init(
                    eventId: event.eventID, eventName: event.eventName, readOnly: event.readOnly, accessKeyId: event.accessKeyID,
                    eventTime: event.eventTime, eventSource: event.eventSource, username: event.username,
                    resources: event.resources.map { .init(resourceType: $0.type, resourceName: $0.name) },
                    cloudTrailEvent: event.cloudTrailEvent)
            }, nextToken: nextToken)
    }
}
